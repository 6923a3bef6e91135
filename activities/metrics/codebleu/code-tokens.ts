import type { SyntaxNode } from './tree-sitter/parser';

/**
 * The code tokens of a parse tree as the reference's data-flow extraction sees them: every leaf
 * and every string/character literal as one token (comments excluded), numbered in source order,
 * each with its text.
 *
 * The reference slices each source line (a Python str, indexed by code point) with tree-sitter's
 * UTF-8 byte columns; on lines with non-ASCII text that yields shifted token texts, and those
 * texts feed the variable names. We reproduce that slicing exactly (our columns are bytes too).
 */
export interface CodeToken {
  /** Position in source order (the reference's `idx`). */
  index: number;
  text: string;
}

const LITERAL_TYPES = new Set(['string_literal', 'string', 'character_literal']);

/** A node the reference treats as one token: a leaf or a literal, but not a comment. */
export function isTokenNode(node: SyntaxNode): boolean {
  return (node.childCount === 0 || LITERAL_TYPES.has(node.type)) && node.type !== 'comment';
}

/** Identity of a token: its start and end points (as the reference keys its index_to_code dict). */
export function tokenKey(node: SyntaxNode): string {
  const { startPosition: s, endPosition: e } = node;
  return `${s.row}:${s.column}:${e.row}:${e.column}`;
}

export class CodeTokenIndex {
  private readonly byKey = new Map<string, CodeToken>();
  private readonly lineCodePoints: string[][];
  private readonly lines: string[];

  constructor(root: SyntaxNode, source: string) {
    this.lines = source.split('\n');
    this.lineCodePoints = this.lines.map((line) => Array.from(line));
    let index = 0;
    for (const node of tokenNodes(root)) {
      // Later tokens with the same span (zero-width MISSING nodes) replace earlier ones, as in a dict.
      this.byKey.set(tokenKey(node), { index, text: this.tokenText(node) });
      index += 1;
    }
  }

  /** The token for a token node; throws like the reference's KeyError when there is none. */
  get(node: SyntaxNode): CodeToken {
    return this.getByKey(tokenKey(node));
  }

  getByKey(key: string): CodeToken {
    const token = this.byKey.get(key);
    if (!token) throw new Error(`no code token at ${key}`);
    return token;
  }

  private sliceLine(row: number, start: number, end?: number): string {
    return (this.lineCodePoints[row] ?? []).slice(start, end).join('');
  }

  private tokenText(node: SyntaxNode): string {
    const { startPosition: s, endPosition: e } = node;
    if (s.row === e.row) return this.sliceLine(s.row, s.column, e.column);
    let text = this.sliceLine(s.row, s.column);
    for (let row = s.row + 1; row < e.row; row++) text += this.lines[row] ?? '';
    return text + this.sliceLine(e.row, 0, e.column);
  }
}

/** Token nodes under `root` in source order (the reference's tree_to_token_index). */
export function tokenNodes(root: SyntaxNode): SyntaxNode[] {
  if (isTokenNode(root)) return [root];
  return root.children.flatMap(tokenNodes);
}

/**
 * Token nodes under `root` whose text differs from their node type, i.e. not keywords or
 * punctuation (the reference's tree_to_variable_index). Throws on a missing node, as the
 * reference does on None.
 */
export function variableTokenKeys(root: SyntaxNode | null, tokens: CodeTokenIndex): string[] {
  if (!root) throw new Error('expected a syntax node, got none');
  if (isTokenNode(root)) {
    const key = tokenKey(root);
    return root.type !== tokens.getByKey(key).text ? [key] : [];
  }
  return root.children.flatMap((child) => variableTokenKeys(child, tokens));
}

import { CodeTokenIndex } from './code-tokens';
import { byIndex, type DataflowEdge, type DfgContext, type DfgResult, type DefinitionStates } from './dataflow-graph';
import { javaDataflow } from './dfg-java';
import { pythonDataflow } from './dfg-python';
import type { CodeBleuLanguage } from './languages';
import { pythonSetOrder } from './python-set-order';
import { removeCommentsAndDocstrings } from './remove-comments';
import { withParsedTree, type SyntaxNode } from './tree-sitter/parser';

const EXTRACTORS: Record<CodeBleuLanguage, (node: SyntaxNode, context: DfgContext, states: DefinitionStates) => DfgResult> = {
  python: pythonDataflow,
  java: javaDataflow,
};

/**
 * The reference walks trees recursively, and CPython's default limit of 1000 frames makes that
 * fail (yielding no data flow) on trees deeper than this when codebleu is called from a script's
 * top level (measured: 989 nested parentheses still pass, 990 do not). Callers nested deeper in
 * Python hit the limit a few levels earlier; we mirror the top-level case.
 */
const PYTHON_MAX_TREE_DEPTH = 993;

function treeDepth(root: SyntaxNode): number {
  let deepest = 0;
  const stack: [SyntaxNode, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    deepest = Math.max(deepest, depth);
    for (const child of node.children) stack.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * The reference's get_data_flow: the edges of the program, keeping only tokens that take part in
 * some flow, and folding edges that share a token. Any failure of the extractor yields no edges.
 */
export function dataflowEdges(code: string, lang: CodeBleuLanguage): DataflowEdge[] {
  const edges = withParsedTree(lang, code, (root) => {
    if (treeDepth(root) > PYTHON_MAX_TREE_DEPTH) return [];
    try {
      const context: DfgContext = { tokens: new CodeTokenIndex(root, code) };
      return byIndex(EXTRACTORS[lang](root, context, new Map())[0]);
    } catch {
      return [];
    }
  });
  const linked = new Set<number>();
  for (const e of edges) {
    if (e.parentIndexes.length > 0) linked.add(e.index);
    for (const parent of e.parentIndexes) linked.add(parent);
  }
  const byToken = new Map<number, DataflowEdge>();
  for (const e of edges.filter((x) => linked.has(x.index))) {
    const seen = byToken.get(e.index);
    byToken.set(
      e.index,
      seen
        ? {
            ...e,
            parents: pythonSetOrder([...seen.parents, ...e.parents]),
            parentIndexes: [...new Set([...seen.parentIndexes, ...e.parentIndexes])],
          }
        : e,
    );
  }
  return [...byToken.values()];
}

/**
 * Renames variables to var_0, var_1, ... in order of first appearance (parents before the
 * variable itself), so that flows compare independently of naming. One string per edge.
 */
export function normalizeDataflow(edges: DataflowEdge[]): string[] {
  const names = new Map<string, string>();
  const rename = (name: string): string => {
    let renamed = names.get(name);
    if (renamed === undefined) {
      renamed = `var_${names.size}`;
      names.set(name, renamed);
    }
    return renamed;
  };
  return edges.map((e) => {
    const parents = e.parents.map(rename);
    return JSON.stringify([rename(e.name), e.relation, parents]);
  });
}

export interface MatchCount {
  matched: number;
  total: number;
}

/**
 * Corpus data-flow match: the share of the references' normalised edges found in the
 * candidates' (each candidate edge used once). Like the reference, the candidate is stripped of
 * comments again for every further reference.
 */
export function dataflowMatchCounts(references: string[][], candidates: string[], lang: CodeBleuLanguage): MatchCount {
  let matched = 0;
  let total = 0;
  for (const [i, original] of candidates.entries()) {
    let candidate = original;
    for (let reference of references[i] ?? []) {
      candidate = removeCommentsAndDocstrings(candidate, lang);
      reference = removeCommentsAndDocstrings(reference, lang);
      const candidateFlows = normalizeDataflow(dataflowEdges(candidate, lang));
      const referenceFlows = normalizeDataflow(dataflowEdges(reference, lang));
      if (referenceFlows.length === 0) continue;
      total += referenceFlows.length;
      const available = new Map<string, number>();
      for (const flow of candidateFlows) available.set(flow, (available.get(flow) ?? 0) + 1);
      for (const flow of referenceFlows) {
        const left = available.get(flow) ?? 0;
        if (left > 0) {
          matched += 1;
          available.set(flow, left - 1);
        }
      }
    }
  }
  return { matched, total };
}

/** The score; 0 when the references have no data flow at all (the reference warns and returns 0). */
export function dataflowScore({ matched, total }: MatchCount): number {
  return total === 0 ? 0 : matched / total;
}

import type { CodeBleuLanguage } from './languages';
import type { MatchCount } from './dataflow-match';
import { removeCommentsAndDocstrings } from './remove-comments';
import { withParsedTree, type SyntaxNode } from './tree-sitter/parser';

/** S-expressions of the root and of every node that has children (the reference's get_all_sub_trees). */
function subtreeSexps(root: SyntaxNode): string[] {
  const sexps: string[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    sexps.push(node.toString());
    for (const child of node.children) if (child.childCount > 0) stack.push(child);
  }
  return sexps;
}

/**
 * Corpus syntax match: the share of the references' subtrees (root and inner nodes, compared as
 * S-expressions) that also occur in the candidate. Like the reference, the candidate is
 * stripped of comments again for every further reference.
 */
export function syntaxMatchCounts(references: string[][], candidates: string[], lang: CodeBleuLanguage): MatchCount {
  let matched = 0;
  let total = 0;
  for (const [i, original] of candidates.entries()) {
    let candidate = original;
    for (let reference of references[i] ?? []) {
      candidate = removeCommentsAndDocstrings(candidate, lang);
      reference = removeCommentsAndDocstrings(reference, lang);
      const candidateSexps = new Set(withParsedTree(lang, candidate, subtreeSexps));
      const referenceSexps = withParsedTree(lang, reference, subtreeSexps);
      matched += referenceSexps.filter((sexp) => candidateSexps.has(sexp)).length;
      total += referenceSexps.length;
    }
  }
  return { matched, total };
}

/** The score. Every parsed reference has at least its root, so the total is 0 only without references. */
export function syntaxScore({ matched, total }: MatchCount): number {
  return total === 0 ? 0 : matched / total;
}

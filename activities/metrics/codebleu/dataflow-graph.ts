import { CodeTokenIndex } from './code-tokens';
import { pythonSetOrder } from './python-set-order';
import type { SyntaxNode } from './tree-sitter/parser';

/**
 * Data-flow edges as the reference's DFG_* functions build them: variable `name` at token `index`
 * `comesFrom` / is `computedFrom` the variables `parents` at tokens `parentIndexes`.
 */
export interface DataflowEdge {
  name: string;
  index: number;
  relation: 'comesFrom' | 'computedFrom';
  parents: string[];
  parentIndexes: number[];
}

/** Variable name -> the token indexes where its current value was last defined. */
export type DefinitionStates = Map<string, number[]>;

export type DfgResult = [DataflowEdge[], DefinitionStates];

/** What a language's extractor needs besides the node and the states. */
export interface DfgContext {
  tokens: CodeTokenIndex;
}

export function edge(name: string, index: number, relation: DataflowEdge['relation'], parents: string[], parentIndexes: number[]): DataflowEdge {
  return { name, index, relation, parents, parentIndexes };
}

/** Python's sorted(edges, key=lambda e: e[1]): stable by token index. */
export function byIndex(edges: DataflowEdge[]): DataflowEdge[] {
  return [...edges].sort((a, b) => a.index - b.index);
}

function sortedUnique(values: number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

/**
 * How loops fold the edges of their two passes: one edge per (name, index, relation), with the
 * union of parents (in CPython set order, which the score is sensitive to) and of parent indexes.
 */
export function mergeLoopEdges(edges: DataflowEdge[]): DataflowEdge[] {
  const merged = new Map<string, DataflowEdge>();
  for (const e of edges) {
    const key = JSON.stringify([e.name, e.index, e.relation]);
    const seen = merged.get(key);
    if (!seen) {
      merged.set(key, edge(e.name, e.index, e.relation, e.parents, e.parentIndexes));
    } else {
      seen.parents = pythonSetOrder([...seen.parents, ...e.parents]);
      seen.parentIndexes = sortedUnique([...seen.parentIndexes, ...e.parentIndexes]);
    }
  }
  return byIndex([...merged.values()]);
}

/** How an if statement joins its branches' states: the union of every branch's definitions. */
export function joinBranchStates(branches: DefinitionStates[]): DefinitionStates {
  const joined: DefinitionStates = new Map();
  for (const states of branches) {
    for (const [name, indexes] of states) joined.set(name, [...(joined.get(name) ?? []), ...indexes]);
  }
  for (const [name, indexes] of joined) joined.set(name, sortedUnique(indexes));
  return joined;
}

/**
 * The leaf case shared by the languages: a keyword or punctuation token yields nothing; a name
 * already defined comes from its definitions; any other token is a fresh definition (recorded in
 * the states only for identifiers).
 */
export function leafEdges(node: SyntaxNode, context: DfgContext, states: DefinitionStates): DfgResult {
  const { index, text } = context.tokens.get(node);
  if (node.type === text) return [[], states];
  const definitions = states.get(text);
  if (definitions) return [[edge(text, index, 'comesFrom', [text], [...definitions])], states];
  if (node.type === 'identifier') states.set(text, [index]);
  return [[edge(text, index, 'comesFrom', [], [])], states];
}

/** Edges from every token in `targetKeys` to every token in `sourceKeys`, one parent per edge. */
export function pairwiseEdges(
  targetKeys: string[],
  sourceKeys: string[],
  relation: DataflowEdge['relation'],
  context: DfgContext,
  states: DefinitionStates,
): DataflowEdge[] {
  const edges: DataflowEdge[] = [];
  for (const targetKey of targetKeys) {
    const target = context.tokens.getByKey(targetKey);
    for (const sourceKey of sourceKeys) {
      const source = context.tokens.getByKey(sourceKey);
      edges.push(edge(target.text, target.index, relation, [source.text], [source.index]));
    }
    states.set(target.text, [target.index]);
  }
  return edges;
}

/** Edges from every token in `targetKeys` to all tokens in `sourceKeys` at once. */
export function groupedEdges(targetKeys: string[], sourceKeys: string[], context: DfgContext, states: DefinitionStates): DataflowEdge[] {
  const sources = sourceKeys.map((key) => context.tokens.getByKey(key));
  return targetKeys.map((targetKey) => {
    const target = context.tokens.getByKey(targetKey);
    states.set(target.text, [target.index]);
    return edge(
      target.text,
      target.index,
      'computedFrom',
      sources.map((s) => s.text),
      sources.map((s) => s.index),
    );
  });
}

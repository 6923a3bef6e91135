import { isTokenNode, variableTokenKeys } from './code-tokens';
import {
  byIndex,
  edge,
  groupedEdges,
  joinBranchStates,
  leafEdges,
  mergeLoopEdges,
  pairwiseEdges,
  type DataflowEdge,
  type DefinitionStates,
  type DfgContext,
  type DfgResult,
} from './dataflow-graph';
import type { SyntaxNode } from './tree-sitter/parser';

/**
 * Data-flow edges of a Python syntax tree, following the reference's DFG_python node by node
 * (including its quirks: loops are walked twice, only `if_statement` branches are joined, a
 * missing field raises and empties the whole graph).
 */
export function pythonDataflow(node: SyntaxNode | null, context: DfgContext, incoming: DefinitionStates): DfgResult {
  if (!node) throw new Error('expected a syntax node, got none');
  const states: DefinitionStates = new Map(incoming);
  if (isTokenNode(node)) return leafEdges(node, context, states);
  switch (node.type) {
    case 'default_parameter':
      return defaultParameter(node, context, states);
    case 'assignment':
    case 'augmented_assignment':
    case 'for_in_clause':
      return assignment(node, context, states);
    case 'if_statement':
      return ifStatement(node, context, states);
    case 'for_statement':
      return forStatement(node, context, states);
    case 'while_statement':
      return whileStatement(node, context, states);
    default:
      return children(node, context, states);
  }
}

function defaultParameter(node: SyntaxNode, context: DfgContext, states: DefinitionStates): DfgResult {
  const name = node.childForFieldName('name');
  const value = node.childForFieldName('value');
  if (!value) {
    const edges = variableTokenKeys(name, context.tokens).map((key) => {
      const token = context.tokens.getByKey(key);
      states.set(token.text, [token.index]);
      return edge(token.text, token.index, 'comesFrom', [], []);
    });
    return [byIndex(edges), states];
  }
  const nameKeys = variableTokenKeys(name, context.tokens);
  const valueKeys = variableTokenKeys(value, context.tokens);
  const [valueEdges, after] = pythonDataflow(value, context, states);
  return [byIndex([...valueEdges, ...pairwiseEdges(nameKeys, valueKeys, 'comesFrom', context, after)]), after];
}

/** Targets and values paired element-wise when both sides list the same number of items. */
function pairSides(left: SyntaxNode | null, right: SyntaxNode | null): [(SyntaxNode | null)[], (SyntaxNode | null)[]] {
  if (!left || !right) throw new Error('assignment without both sides');
  let leftNodes: (SyntaxNode | null)[] = left.children.filter((x) => x.type !== ',');
  let rightNodes: (SyntaxNode | null)[] = right.children.filter((x) => x.type !== ',');
  if (rightNodes.length !== leftNodes.length) {
    leftNodes = [left];
    rightNodes = [right];
  }
  if (leftNodes.length === 0) leftNodes = [left];
  if (rightNodes.length === 0) rightNodes = [right];
  return [leftNodes, rightNodes];
}

/** Walks the values, then makes every target token computed from all of its value's tokens. */
function bindTargets(leftNodes: (SyntaxNode | null)[], rightNodes: (SyntaxNode | null)[], context: DfgContext, states: DefinitionStates): DfgResult {
  const edges: DataflowEdge[] = [];
  for (const right of rightNodes) {
    const [valueEdges, after] = pythonDataflow(right, context, states);
    edges.push(...valueEdges);
    states = after;
  }
  const pairs = Math.min(leftNodes.length, rightNodes.length);
  for (let i = 0; i < pairs; i++) {
    const targetKeys = variableTokenKeys(leftNodes[i]!, context.tokens);
    const sourceKeys = variableTokenKeys(rightNodes[i]!, context.tokens);
    edges.push(...groupedEdges(targetKeys, sourceKeys, context, states));
  }
  return [edges, states];
}

function assignment(node: SyntaxNode, context: DfgContext, states: DefinitionStates): DfgResult {
  let leftNodes: (SyntaxNode | null)[];
  let rightNodes: (SyntaxNode | null)[];
  if (node.type === 'for_in_clause') {
    rightNodes = [node.children[node.children.length - 1]!];
    leftNodes = [node.childForFieldName('left')];
  } else {
    const right = node.childForFieldName('right');
    if (!right) return [[], states];
    [leftNodes, rightNodes] = pairSides(node.childForFieldName('left'), right);
  }
  const [edges, after] = bindTargets(leftNodes, rightNodes, context, states);
  return [byIndex(edges), after];
}

function ifStatement(node: SyntaxNode, context: DfgContext, states: DefinitionStates): DfgResult {
  const edges: DataflowEdge[] = [];
  let current: DefinitionStates = new Map(states);
  const branches: DefinitionStates[] = [];
  let hasElse = false;
  for (const child of node.children) {
    if (child.type.includes('else')) hasElse = true;
    if (child.type !== 'elif_clause' && child.type !== 'else_clause') {
      const [childEdges, after] = pythonDataflow(child, context, current);
      edges.push(...childEdges);
      current = after;
    } else {
      const [childEdges, branch] = pythonDataflow(child, context, states);
      edges.push(...childEdges);
      branches.push(branch);
    }
  }
  branches.push(current);
  if (!hasElse) branches.push(states);
  return [byIndex(edges), joinBranchStates(branches)];
}

function forStatement(node: SyntaxNode, context: DfgContext, states: DefinitionStates): DfgResult {
  const edges: DataflowEdge[] = [];
  for (let pass = 0; pass < 2; pass++) {
    const [leftNodes, rightNodes] = pairSides(node.childForFieldName('left'), node.childForFieldName('right'));
    const [bindEdges, after] = bindTargets(leftNodes, rightNodes, context, states);
    edges.push(...bindEdges);
    states = after;
    const last = node.children[node.children.length - 1]!;
    if (last.type === 'block') {
      const [bodyEdges, afterBody] = pythonDataflow(last, context, states);
      edges.push(...bodyEdges);
      states = afterBody;
    }
  }
  return [mergeLoopEdges(edges), states];
}

function whileStatement(node: SyntaxNode, context: DfgContext, states: DefinitionStates): DfgResult {
  const edges: DataflowEdge[] = [];
  for (let pass = 0; pass < 2; pass++) {
    for (const child of node.children) {
      const [childEdges, after] = pythonDataflow(child, context, states);
      edges.push(...childEdges);
      states = after;
    }
  }
  return [mergeLoopEdges(edges), states];
}

/** Any other node: comprehension clauses first (their targets bind before use), then the rest. */
function children(node: SyntaxNode, context: DfgContext, states: DefinitionStates): DfgResult {
  const edges: DataflowEdge[] = [];
  const all = node.children;
  for (const child of [...all.filter((c) => c.type === 'for_in_clause'), ...all.filter((c) => c.type !== 'for_in_clause')]) {
    const [childEdges, after] = pythonDataflow(child, context, states);
    edges.push(...childEdges);
    states = after;
  }
  return [byIndex(edges), states];
}

import { isTokenNode, variableTokenKeys } from './code-tokens';
import {
  byIndex,
  edge,
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
 * Data-flow edges of a Java syntax tree, following the reference's DFG_java node by node
 * (including its quirks: every statement after an `else` is a branch, loops are walked twice,
 * a missing field raises and empties the whole graph).
 */
export function javaDataflow(node: SyntaxNode | null, context: DfgContext, incoming: DefinitionStates): DfgResult {
  if (!node) throw new Error('expected a syntax node, got none');
  const states: DefinitionStates = new Map(incoming);
  if (isTokenNode(node)) return leafEdges(node, context, states);
  switch (node.type) {
    case 'variable_declarator':
      return variableDeclarator(node, context, states);
    case 'assignment_expression':
      return assignmentExpression(node, context, states);
    case 'update_expression':
      return updateExpression(node, context, states);
    case 'if_statement':
    case 'else':
      return ifStatement(node, context, states);
    case 'for_statement':
      return forStatement(node, context, states);
    case 'enhanced_for_statement':
      return enhancedForStatement(node, context, states);
    case 'while_statement':
      return whileStatement(node, context, states);
    default:
      return sequence(node.children, context, states, []);
  }
}

function variableDeclarator(node: SyntaxNode, context: DfgContext, states: DefinitionStates): DfgResult {
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
  const [valueEdges, after] = javaDataflow(value, context, states);
  return [byIndex([...valueEdges, ...pairwiseEdges(nameKeys, valueKeys, 'comesFrom', context, after)]), after];
}

function assignmentExpression(node: SyntaxNode, context: DfgContext, states: DefinitionStates): DfgResult {
  const left = node.childForFieldName('left');
  const right = node.childForFieldName('right');
  const [valueEdges, after] = javaDataflow(right, context, states);
  const nameKeys = variableTokenKeys(left, context.tokens);
  const valueKeys = variableTokenKeys(right, context.tokens);
  return [byIndex([...valueEdges, ...pairwiseEdges(nameKeys, valueKeys, 'computedFrom', context, after)]), after];
}

function updateExpression(node: SyntaxNode, context: DfgContext, states: DefinitionStates): DfgResult {
  const keys = variableTokenKeys(node, context.tokens);
  return [byIndex(pairwiseEdges(keys, keys, 'computedFrom', context, states)), states];
}

function ifStatement(node: SyntaxNode, context: DfgContext, states: DefinitionStates): DfgResult {
  const edges: DataflowEdge[] = [];
  let current: DefinitionStates = new Map(states);
  const branches: DefinitionStates[] = [];
  let inBranches = false;
  let hasElse = node.type.includes('else');
  for (const child of node.children) {
    if (child.type.includes('else')) hasElse = true;
    if (child.type !== 'if_statement' && child.type !== 'else' && !inBranches) {
      const [childEdges, after] = javaDataflow(child, context, current);
      edges.push(...childEdges);
      current = after;
    } else {
      inBranches = true;
      const [childEdges, branch] = javaDataflow(child, context, states);
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
  [, states] = sequence(node.children, context, states, edges);
  // Second pass over what follows the loop variable's declaration (condition, update, body).
  const declaration = node.children.findIndex((child) => child.type === 'local_variable_declaration');
  const rest = declaration === -1 ? [] : node.children.slice(declaration + 1);
  [, states] = sequence(rest, context, states, edges);
  return [mergeLoopEdges(edges), states];
}

function enhancedForStatement(node: SyntaxNode, context: DfgContext, states: DefinitionStates): DfgResult {
  const name = node.childForFieldName('name');
  const value = node.childForFieldName('value');
  const body = node.childForFieldName('body');
  const edges: DataflowEdge[] = [];
  for (let pass = 0; pass < 2; pass++) {
    const [valueEdges, afterValue] = javaDataflow(value, context, states);
    edges.push(...valueEdges);
    states = afterValue;
    const nameKeys = variableTokenKeys(name, context.tokens);
    const valueKeys = variableTokenKeys(value, context.tokens);
    edges.push(...pairwiseEdges(nameKeys, valueKeys, 'computedFrom', context, states));
    const [bodyEdges, afterBody] = javaDataflow(body, context, states);
    edges.push(...bodyEdges);
    states = afterBody;
  }
  return [mergeLoopEdges(edges), states];
}

function whileStatement(node: SyntaxNode, context: DfgContext, states: DefinitionStates): DfgResult {
  const edges: DataflowEdge[] = [];
  for (let pass = 0; pass < 2; pass++) [, states] = sequence(node.children, context, states, edges);
  return [mergeLoopEdges(edges), states];
}

/** Walks `nodes` in order, threading the states, appending to `edges`; returns them sorted. */
function sequence(nodes: SyntaxNode[], context: DfgContext, states: DefinitionStates, edges: DataflowEdge[]): DfgResult {
  for (const child of nodes) {
    const [childEdges, after] = javaDataflow(child, context, states);
    edges.push(...childEdges);
    states = after;
  }
  return [byIndex(edges), states];
}

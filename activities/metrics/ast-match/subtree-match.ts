import { withParsedTree, type SyntaxNode } from '../codebleu/tree-sitter/parser';
import type { ApiSignature } from './api-signatures';

interface Subtree {
  node: SyntaxNode;
  /** Text of the node's first child (a call's function name, for calls). */
  head: string | null;
}

/** The root and every node with children, in the order of Gorilla's stack walk (get_all_sub_trees). */
function subtrees(root: SyntaxNode): Subtree[] {
  const listed: Subtree[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    listed.push({ node, head: node.childCount > 0 ? node.children[0]!.text : null });
    for (const child of node.children) if (child.childCount > 0) stack.push(child);
  }
  return listed;
}

/**
 * The first database API whose call the response's AST contains (Gorilla's ast_check): a subtree
 * headed by the API's function name whose text contains every required argument. As in Gorilla,
 * when no subtree has that head, the last subtree of the walk is checked instead.
 */
export function firstMatchingApi(apiCall: string, signatures: readonly ApiSignature[]): ApiSignature | null {
  return withParsedTree('python', apiCall, (root) => {
    const listed = subtrees(root);
    const byHead = new Map<string, Subtree>();
    for (const subtree of listed) if (subtree.head !== null && !byHead.has(subtree.head)) byHead.set(subtree.head, subtree);
    const last = listed[listed.length - 1]!;
    for (const signature of signatures) {
      const text = (byHead.get(signature.functionName) ?? last).node.text;
      if (signature.requiredArguments.every((argument) => text.includes(argument))) return signature;
    }
    return null;
  });
}

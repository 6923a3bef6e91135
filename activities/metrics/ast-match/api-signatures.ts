import { withParsedTree, type SyntaxNode } from '../codebleu/tree-sitter/parser';
import type { ApiEntry, ApiHub } from './apibench';

/**
 * What Gorilla's evaluation checks a response against, per database API: the called function's
 * name (the text of the call's first child, e.g. `AutoModel.from_pretrained`) and the argument
 * texts a response must contain. Entries whose statement has no call shape, or no argument that
 * the hub's rule keeps, never match (Gorilla skips them).
 */
export interface ApiSignature {
  api: ApiEntry;
  functionName: string;
  /** Argument texts with surrounding single quotes stripped. */
  requiredArguments: string[];
}

function child(node: SyntaxNode, index: number, what: string): SyntaxNode {
  const found = node.children[index];
  // Gorilla's scripts raise IndexError here and abort the evaluation.
  if (!found) throw new Error(`API database entry without ${what}`);
  return found;
}

/** Each hub script's rule for which arguments of the database call a response must repeat. */
function argumentTexts(argumentList: SyntaxNode, hub: ApiHub): string[] {
  const texts: string[] = [];
  for (const argument of argumentList.children) {
    const text = argument.text;
    const punctuation = text === '(' || text === ')' || text === ',';
    if (hub === 'huggingface') {
      if (text.includes('=')) texts.push(child(argument, 2, 'a keyword value').text);
      else if (!punctuation) texts.push(text);
    } else if (hub === 'tensorflowhub') {
      if (text.includes('model=') || text.includes('model =')) texts.push(child(argument, 2, 'a keyword value').text);
      else if (!punctuation) texts.push(text);
    } else if (text.includes('repo_or_dir') || text.includes('model')) {
      texts.push(child(argument, 2, 'a keyword value').text);
    }
  }
  return texts;
}

function stripSingleQuotes(text: string): string {
  return text.replace(/^'+/, '').replace(/'+$/, '');
}

/** Signatures of the database entries that can match, in database order. */
export function apiSignatures(apis: readonly ApiEntry[], hub: ApiHub): ApiSignature[] {
  const signatures: ApiSignature[] = [];
  for (const api of apis) {
    withParsedTree('python', api.apiCall, (root) => {
      const call = child(child(root, 0, 'a statement'), 0, 'an expression');
      if (call.childCount === 0) return;
      const functionName = child(call, 0, 'a function').text;
      const requiredArguments = argumentTexts(child(call, 1, 'arguments'), hub).map(stripSingleQuotes);
      if (requiredArguments.length > 0) signatures.push({ api, functionName, requiredArguments });
    });
  }
  return signatures;
}

/** Languages the CodeBLEU port supports, and the keyword lists its weighted n-gram match uses. */
export type CodeBleuLanguage = 'python' | 'java';

export const CODEBLEU_LANGUAGES: readonly CodeBleuLanguage[] = ['python', 'java'];

export function isCodeBleuLanguage(value: string): value is CodeBleuLanguage {
  return (CODEBLEU_LANGUAGES as readonly string[]).includes(value);
}

/**
 * Tokens weighted 1 (all others 0.2) in the weighted n-gram match: the same lists as the
 * reference's keywords/python.txt and keywords/java.txt (codebleu 0.7.0), soft keywords included.
 */
export const KEYWORDS: Record<CodeBleuLanguage, ReadonlySet<string>> = {
  python: new Set([
    'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else',
    'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise',
    'return', 'try', 'while', 'with', 'yield', 'match', 'case', 'type',
  ]),
  java: new Set([
    'abstract', 'assert', 'boolean', 'break', 'byte', 'case', 'catch', 'char', 'class', 'const', 'continue', 'default', 'do',
    'double', 'else', 'enum', 'extends', 'final', 'finally', 'float', 'for', 'goto', 'if', 'implements', 'import', 'instanceof',
    'int', 'interface', 'long', 'native', 'new', 'package', 'private', 'protected', 'public', 'return', 'short', 'static',
    'strictfp', 'super', 'switch', 'synchronized', 'this', 'throw', 'throws', 'transient', 'try', 'void', 'volatile', 'while',
  ]),
};

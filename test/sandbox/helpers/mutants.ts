/**
 * First-order mutants of Python programs: one operator flip or off-by-one at one site. Sites
 * inside string literals and comments are skipped (a small scanner, not a full tokenizer).
 */
export interface Mutant {
  kind: string;
  /** offset of the mutated site in the original program */
  at: number;
  program: string;
}

interface Rule {
  kind: string;
  pattern: RegExp;
  replace: (match: string) => string;
}

const RULES: Rule[] = [
  { kind: 'eq-flip', pattern: /==|!=/y, replace: (m) => (m === '==' ? '!=' : '==') },
  { kind: 'compare-flip', pattern: /<=|>=|<(?![<=])|>(?![>=])/y, replace: (m) => ({ '<=': '<', '>=': '>', '<': '<=', '>': '>=' })[m]! },
  { kind: 'arith-flip', pattern: /[+-](?![=+\->\d])/y, replace: (m) => (m === '+' ? '-' : '+') },
  { kind: 'bool-flip', pattern: /\b(?:and|or)\b/y, replace: (m) => (m === 'and' ? 'or' : 'and') },
  { kind: 'off-by-one', pattern: /\b\d+\b(?![.eEjJxX])/y, replace: (m) => String(Number(m) + 1) },
];

/** Offsets of code (outside strings and comments). */
function codeOffsets(src: string): boolean[] {
  const code = new Array<boolean>(src.length).fill(true);
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '#') {
      while (i < src.length && src[i] !== '\n') code[i++] = false;
    } else if (c === '"' || c === "'") {
      const triple = src.startsWith(c.repeat(3), i);
      const quote = triple ? c.repeat(3) : c;
      const start = i;
      i += quote.length;
      while (i < src.length && !src.startsWith(quote, i)) i += src[i] === '\\' ? 2 : 1;
      i = Math.min(src.length, i + quote.length);
      for (let k = start; k < i; k++) code[k] = false;
    } else {
      i++;
    }
  }
  return code;
}

/** Binary +/-: preceded by an operand (a name, a number, a closing bracket), so "-1" and "x = -y" are left alone. */
function isBinary(src: string, at: number): boolean {
  let k = at - 1;
  while (k >= 0 && src[k] === ' ') k--;
  return k >= 0 && /[\w)\]]/.test(src[k]!) && !/\b(?:return|and|or|not|in|is|if|else|lambda|yield)$/.test(src.slice(Math.max(0, k - 6), k + 1));
}

/** The first mutant of each kind, in program order. */
export function firstMutants(program: string): Mutant[] {
  const code = codeOffsets(program);
  const found: Mutant[] = [];
  for (const rule of RULES) {
    for (let at = 0; at < program.length; at++) {
      if (!code[at]) continue;
      rule.pattern.lastIndex = at;
      const match = rule.pattern.exec(program);
      if (!match) continue;
      if (rule.kind === 'arith-flip' && !isBinary(program, at)) continue;
      if (rule.kind === 'off-by-one' && /[\w.]/.test(program[at - 1] ?? '')) continue;
      if (rule.kind === 'compare-flip' && /[<>=!-]/.test(program[at - 1] ?? '')) continue;
      const text = match[0];
      found.push({ kind: rule.kind, at, program: program.slice(0, at) + rule.replace(text) + program.slice(at + text.length) });
      break;
    }
  }
  return found;
}

import { loadIlfAnnotations } from '../../datasets/ilf';
import { loadMbpp } from '../../datasets/mbpp';
import type { SeededRandom } from '../../simulation/seeded-random';

/**
 * Program sources for the simulated backend: MBPP's gold programs, the failing programs that
 * CodeGen-Mono 6.1B wrote for the ILF paper (recorded bad), the ILF human feedback, and a
 * deterministic corruption of a gold program for tasks with no recorded failure.
 */

let gold: Map<string, string> | undefined;
let recorded: Map<string, { badProgram: string; feedback: string }> | undefined;

export function goldProgram(taskId: string): string | undefined {
  gold ??= new Map(loadMbpp().map((t) => [String(t.taskId), t.code.replace(/\r\n/g, '\n')]));
  return gold.get(taskId);
}

export function recordedFailure(taskId: string): { badProgram: string; feedback: string } | undefined {
  recorded ??= new Map(
    loadIlfAnnotations().map((a) => [String(a.taskId), { badProgram: a.modelProgram.replace(/\r\n/g, '\n'), feedback: a.feedback }]),
  );
  return recorded.get(taskId);
}

/** Mutations that keep a program syntactically plausible but (almost always) wrong. */
const MUTATIONS: { name: string; apply: (code: string) => string | undefined }[] = [
  { name: 'return-none', apply: (c) => (/\breturn\b[^\n]*/.test(c) ? c.replace(/\breturn\b[^\n]*/, 'return None') : undefined) },
  { name: 'swap-plus-minus', apply: (c) => (/ [+-] /.test(c) ? c.replace(/ ([+-]) /, (_m, op: string) => (op === '+' ? ' - ' : ' + ')) : undefined) },
  { name: 'swap-comparison', apply: (c) => (/ (<=|>=|<|>) /.test(c) ? c.replace(/ (<=|>=|<|>) /, (_m, op: string) => ` ${{ '<=': '>', '>=': '<', '<': '>=', '>': '<=' }[op]} `) : undefined) },
  { name: 'off-by-one', apply: (c) => (/\b(\d+)\b/.test(c) ? c.replace(/\b(\d+)\b/, (_m, d: string) => String(Number(d) + 1)) : undefined) },
];

export function corruptProgram(code: string, rng: SeededRandom): { program: string; mutation: string } {
  const start = rng.int(MUTATIONS.length);
  for (let k = 0; k < MUTATIONS.length; k++) {
    const m = MUTATIONS[(start + k) % MUTATIONS.length]!;
    const out = m.apply(code);
    if (out !== undefined && out !== code) return { program: out, mutation: m.name };
  }
  return { program: `${code}\nraise RuntimeError("simulated failure")\n`, mutation: 'raise' };
}

/** Token-set Jaccard similarity: the simulated reward model's notion of "close to the reference". */
export function similarity(a: string, b: string): number {
  const tokens = (s: string) => new Set(s.split(/[^A-Za-z0-9_]+/).filter(Boolean));
  const ta = tokens(a);
  const tb = tokens(b);
  if (ta.size === 0 && tb.size === 0) return 1;
  let both = 0;
  for (const t of ta) if (tb.has(t)) both++;
  return both / (ta.size + tb.size - both);
}

import { findTask } from '../../datasets/registry';
import type { SeededRandom } from '../../simulation/seeded-random';

/**
 * Programs of the SIMULATED Java policy (MBJP and MathQA-Java tasks), for RLCF dry runs: the
 * task's reference, or, when the checkpoint "fails" the draw, one of the ways generated Java
 * goes wrong, each aimed at one stage of RLCF's grounding function:
 *  - compile_error: a statement javac rejects (incompatible types);
 *  - static_check: an `if (false);` javac -Xlint flags (category empty), the tests still pass;
 *  - runtime_error: the method throws before it computes anything;
 *  - wrong_answer: an operator or constant of the solution changed (it compiles and runs, and
 *    almost always returns something else).
 * MathQA-Java has no reference solutions: its simulated "reference" returns the value its test
 * expects (read from the test), which is what a perfect policy would compute.
 */
export type SimulatedJavaOutcome = 'reference' | 'compile_error' | 'static_check' | 'runtime_error' | 'wrong_answer';

export function isJavaTaskId(taskId: string | undefined): boolean {
  return taskId !== undefined && /^(MBJP|MathQA)\//.test(taskId);
}

/** The program a perfect policy writes for a Java task: the reference, or (MathQA) the expected value. */
export function simulatedJavaReference(taskId: string, prompt: string | undefined, reference: string | undefined): string | undefined {
  if (reference !== undefined) return reference;
  if (!taskId.startsWith('MathQA/')) return undefined;
  const task = findTask('mathqa-java', taskId);
  const expected = task ? /compare\(\s*x0\s*,\s*([^)]+?)\s*\)\s*\)/.exec(task.tests)?.[1] : undefined;
  if (!task || expected === undefined) return undefined;
  return `${prompt ?? task.prompt}        return ${expected};\n    }\n}\n`;
}

const INSERTIONS = {
  compile_error: '        int simulatedBroken = "SIMULATED compile error";\n',
  static_check: '        if (false); // SIMULATED lint finding\n',
  runtime_error: '        if (true) throw new IllegalStateException("SIMULATED runtime error");\n',
} as const;

/** Changes that keep Java compiling but (almost always) change the result. */
const WRONG_ANSWER: { name: string; apply: (code: string) => string | undefined }[] = [
  { name: 'swap-plus-minus', apply: (c) => (/ [+-] /.test(c) ? c.replace(/ ([+-]) /, (_m, op: string) => (op === '+' ? ' - ' : ' + ')) : undefined) },
  { name: 'swap-comparison', apply: (c) => (/ (<=|>=|<|>) /.test(c) ? c.replace(/ (<=|>=|<|>) /, (_m, op: string) => ` ${{ '<=': '>', '>=': '<', '<': '>=', '>': '<=' }[op]} `) : undefined) },
  { name: 'off-by-one', apply: (c) => (/\b(\d+)\b/.test(c) ? c.replace(/\b(\d+)\b/, (_m, d: string) => String(Number(d) + 1)) : undefined) },
];

/** A failed program for a Java task: one draw picks the kind, a second the mutation. */
export function failedJavaProgram(reference: string, prompt: string | undefined, rng: SeededRandom): { program: string; outcome: SimulatedJavaOutcome; mutation: string } {
  // The completion is what the policy wrote after the prompt's method header.
  const head = prompt !== undefined && reference.startsWith(prompt) ? prompt : reference.slice(0, reference.indexOf('{', reference.indexOf(')')) + 2);
  const completion = reference.slice(head.length);
  const kind = rng.next();
  const insert = (what: keyof typeof INSERTIONS) => ({ program: `${head}${INSERTIONS[what]}${completion}`, outcome: what, mutation: `insert-${what}` });
  if (kind < 0.35) return insert('compile_error');
  if (kind < 0.5) return insert('static_check');
  if (kind < 0.7) return insert('runtime_error');
  const start = rng.int(WRONG_ANSWER.length);
  for (let k = 0; k < WRONG_ANSWER.length; k++) {
    const m = WRONG_ANSWER[(start + k) % WRONG_ANSWER.length]!;
    const out = m.apply(completion);
    if (out !== undefined && out !== completion) return { program: head + out, outcome: 'wrong_answer', mutation: m.name };
  }
  return insert('runtime_error');
}

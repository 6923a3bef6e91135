import type { SeededRandom } from '../../../activities/simulation/seeded-random';
import { resolveLimits, type ProgramSpec, type SandboxLimits, type SandboxRunner } from '../../../activities/sandbox/types';

/**
 * Honeypots for cRLHF's annotator reliability: programs whose line labels are known. A mutant is
 * a gold solution with one or more lines changed, each change confirmed by the sandbox to break
 * the tests on its own (so every changed line is known wrong), and the combination too; the other
 * lines are known right. An untouched gold program (confirmed to pass) has every line right.
 */

/** Edits of one line that keep it plausible Python but (usually) change what it computes. */
const LINE_MUTATIONS: { name: string; apply: (line: string) => string | undefined }[] = [
  { name: 'flip-comparison', apply: (l) => swapFirst(l, / (<=|>=|==|!=|<|>) /, (op) => ` ${{ '<=': '>', '>=': '<', '==': '!=', '!=': '==', '<': '>=', '>': '<=' }[op]} `) },
  { name: 'swap-plus-minus', apply: (l) => swapFirst(l, / ([+-]) /, (op) => (op === '+' ? ' - ' : ' + ')) },
  { name: 'swap-times-div', apply: (l) => swapFirst(l, / (\*|\/\/) /, (op) => (op === '*' ? ' // ' : ' * ')) },
  { name: 'off-by-one', apply: (l) => swapFirst(l, /\b(\d+)\b/, (d) => String(Number(d) + 1)) },
  { name: 'swap-and-or', apply: (l) => swapFirst(l, / (and|or) /, (op) => (op === 'and' ? ' or ' : ' and ')) },
  { name: 'swap-bool', apply: (l) => swapFirst(l, /\b(True|False)\b/, (b) => (b === 'True' ? 'False' : 'True')) },
  { name: 'negate-condition', apply: (l) => (/^\s*(if|while) (?!not )/.test(l) ? l.replace(/^(\s*(?:if|while) )/, '$1not ') : undefined) },
  { name: 'return-none', apply: (l) => (/^\s*return \S/.test(l) && !/return None\s*$/.test(l) ? l.replace(/return .*$/, 'return None') : undefined) },
];

function swapFirst(line: string, pattern: RegExp, replace: (captured: string) => string): string | undefined {
  if (/^\s*(#|def |class |import |from )/.test(line)) return undefined;
  const m = pattern.exec(line);
  if (!m) return undefined;
  const out = line.slice(0, m.index) + replace(m[1]!) + line.slice(m.index + m[0].length);
  return out === line ? undefined : out;
}

/** A program's lines as annotators see and label them (trailing blank lines dropped). */
export function programLines(program: string): string[] {
  const lines = program.replace(/\r\n/g, '\n').split('\n');
  while (lines.length > 1 && lines[lines.length - 1]!.trim() === '') lines.pop();
  return lines;
}

export interface Honeypot {
  kind: 'mutant' | 'gold';
  program: string;
  /** one per line: true = known correct */
  knownCorrect: boolean[];
  /** 1-based numbers of the changed lines, with the mutation applied to each */
  changes: Array<{ line: number; mutation: string }>;
  /** the sandbox's one-line verdict on the honeypot as served */
  testOutput: string;
}

export interface HoneypotSource {
  gold: string;
  tests: string;
  language: 'python';
}

type Runner = Pick<SandboxRunner, 'run'>;

async function runs(runner: Runner, spec: ProgramSpec, limits: SandboxLimits): Promise<{ passed: boolean; output: string }> {
  const r = await runner.run(spec, limits);
  if (r.outcome === 'infra_error') throw new Error(`sandbox infra error while checking a honeypot: ${r.detail ?? r.stderr.slice(0, 200)}`);
  return { passed: r.outcome === 'passed', output: `${r.outcome}${r.detail ? `: ${r.detail}` : ''}` };
}

/** The gold program as a honeypot, when the sandbox confirms it passes; undefined otherwise. */
export async function goldHoneypot(runner: Runner, source: HoneypotSource, limits: Partial<SandboxLimits>): Promise<Honeypot | undefined> {
  const lines = programLines(source.gold);
  const check = await runs(runner, { language: source.language, program: lines.join('\n'), tests: source.tests }, resolveLimits(limits));
  return check.passed ? { kind: 'gold', program: lines.join('\n'), knownCorrect: lines.map(() => true), changes: [], testOutput: check.output } : undefined;
}

/**
 * A mutant of the gold program with 1..maxChangedLines changed lines, or undefined when the gold
 * program fails its own tests or no line edit breaks them. Each accepted change fails the tests
 * alone, and the combined program is confirmed to fail too.
 */
export async function mutantHoneypot(runner: Runner, source: HoneypotSource, limits: Partial<SandboxLimits>, rng: SeededRandom, maxChangedLines: number): Promise<Honeypot | undefined> {
  const full = resolveLimits(limits);
  const lines = programLines(source.gold);
  const spec = (program: string[]) => ({ language: source.language, program: program.join('\n'), tests: source.tests });
  if (!(await runs(runner, spec(lines), full)).passed) return undefined;
  const want = 1 + rng.int(maxChangedLines);
  const candidates = shuffled(lines.map((_l, i) => i), rng);
  const changes: Array<{ index: number; text: string; mutation: string }> = [];
  for (const index of candidates) {
    if (changes.length >= want) break;
    const start = rng.int(LINE_MUTATIONS.length);
    for (let m = 0; m < LINE_MUTATIONS.length; m++) {
      const mutation = LINE_MUTATIONS[(start + m) % LINE_MUTATIONS.length]!;
      const text = mutation.apply(lines[index]!);
      if (text === undefined) continue;
      const alone = lines.map((l, i) => (i === index ? text : l));
      if ((await runs(runner, spec(alone), full)).passed) continue;
      changes.push({ index, text, mutation: mutation.name });
      break;
    }
  }
  if (changes.length === 0) return undefined;
  const mutated = lines.map((l, i) => changes.find((c) => c.index === i)?.text ?? l);
  const combined = await runs(runner, spec(mutated), full);
  if (combined.passed) return undefined;
  return {
    kind: 'mutant',
    program: mutated.join('\n'),
    knownCorrect: lines.map((_l, i) => !changes.some((c) => c.index === i)),
    changes: changes.map((c) => ({ line: c.index + 1, mutation: c.mutation })).sort((a, b) => a.line - b.line),
    testOutput: combined.output,
  };
}

export function shuffled<T>(xs: readonly T[], rng: SeededRandom): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

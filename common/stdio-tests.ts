/**
 * Stdin/stdout tests (the competitive-programming format: APPS, CodeContests, TACO): the
 * program runs once per case with the case's input on stdin, and its stdout is compared with
 * the case's output outside the program. They travel where assert tests travel (a task's
 * `tests` string, stored batches, the sandbox request) as one JSON document behind a marker
 * line, so pass@k, every loop's reward and the batch activities work on them unchanged.
 */
export interface StdioCase {
  input: string;
  output: string;
}

export interface StdioChecker {
  /** numbers within this absolute or relative distance compare equal (default: exact tokens) */
  floatTolerance?: number;
}

export interface StdioTests {
  cases: StdioCase[];
  checker?: StdioChecker;
}

const MARKER = '#feedloop-stdio v1\n';

export function encodeStdioTests(tests: StdioTests): string {
  return MARKER + JSON.stringify({ cases: tests.cases.map((c) => ({ input: c.input, output: c.output })), ...(tests.checker ? { checker: tests.checker } : {}) });
}

export function isStdioTests(tests: string): boolean {
  return tests.startsWith(MARKER);
}

/** The cases of an encoded tests string; throws on a malformed one. */
export function decodeStdioTests(tests: string): StdioTests {
  if (!isStdioTests(tests)) throw new TypeError('not stdin/stdout tests');
  const parsed = JSON.parse(tests.slice(MARKER.length)) as StdioTests;
  if (!Array.isArray(parsed.cases) || !parsed.cases.every((c) => typeof c?.input === 'string' && typeof c?.output === 'string')) {
    throw new TypeError('stdin/stdout tests need cases of {input, output} strings');
  }
  return parsed;
}

export interface OutputMismatch {
  /** 0-based index of the first differing token */
  token: number;
  expected: string | undefined;
  got: string | undefined;
}

/**
 * Compares a program's output with the expected one as the datasets' own checkers do: tokens
 * separated by whitespace (so trailing whitespace and line ends do not matter), numbers within
 * the tolerance (absolute or relative) when one is given. Null when they agree.
 */
export function compareOutput(expected: string, got: string, checker: StdioChecker = {}): OutputMismatch | null {
  const want = tokens(expected);
  const have = tokens(got);
  const tolerance = checker.floatTolerance;
  for (let i = 0; i < Math.max(want.length, have.length); i++) {
    const a = want[i];
    const b = have[i];
    if (a === b) continue;
    if (a !== undefined && b !== undefined && tolerance !== undefined && closeNumbers(a, b, tolerance)) continue;
    return { token: i, expected: a, got: b };
  }
  return null;
}

function tokens(text: string): string[] {
  return text.split(/\s+/).filter((t) => t.length > 0);
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function closeNumbers(a: string, b: string, tolerance: number): boolean {
  if (!NUMBER.test(a) || !NUMBER.test(b)) return false;
  const x = Number(a);
  const y = Number(b);
  const diff = Math.abs(x - y);
  return diff <= tolerance || diff <= tolerance * Math.abs(x);
}

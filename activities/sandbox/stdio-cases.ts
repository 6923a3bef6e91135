import { compareOutput, decodeStdioTests, type StdioTests } from '../../common/stdio-tests';
import { OUTCOMES, type CaseResult, type Outcome, type RunResult, type SandboxLimits } from './types';

/**
 * Stdin/stdout tests on the fork-server: the driver sends only the cases' inputs (in chunks:
 * one request, and for Java one compilation, per chunk; each case is a fork from the warm
 * server, or a JVM run); each case's output comes back whole and is compared here, so the
 * expected outputs never reach the sandbox. Stops at the first case that does not pass.
 */
export const CASES_PER_REQUEST = 25;
const EXCERPT = 500;

export type StdioRequest = (inputs: string[]) => Promise<Record<string, unknown>>;

export async function runStdioCases(tests: string, limits: SandboxLimits, request: StdioRequest, infra: (detail: string, ms: number) => RunResult): Promise<RunResult> {
  let parsed: StdioTests;
  try {
    parsed = decodeStdioTests(tests);
  } catch (err) {
    return infra(`malformed stdin/stdout tests: ${(err as Error).message}`, 0);
  }
  const { cases, checker } = parsed;
  const results: CaseResult[] = [];
  let durationMs = 0;
  let cpuMs = 0;
  let compileMs: number | undefined;
  let maxRssKb = 0;
  const finish = (outcome: Outcome, detail: string, extra: Partial<RunResult> = {}): RunResult => ({
    outcome,
    durationMs,
    cpuMs,
    maxRssKb,
    stdout: '',
    stderr: '',
    limits,
    detail,
    exitCode: null,
    signal: null,
    ...(compileMs !== undefined ? { compileMs } : {}),
    cases: { total: cases.length, results },
    ...extra,
  });
  for (let start = 0; start < cases.length; start += CASES_PER_REQUEST) {
    const chunk = cases.slice(start, start + CASES_PER_REQUEST);
    const reply = await request(chunk.map((c) => c.input));
    if (typeof reply.compileMs === 'number') {
      compileMs = (compileMs ?? 0) + reply.compileMs;
      durationMs += reply.compileMs;
    }
    if (reply.outcome !== 'cases' || !Array.isArray(reply.cases)) {
      // decided before any case ran (compile_error, a compile timeout) or the sandbox failed
      const outcome = (OUTCOMES as readonly string[]).includes(String(reply.outcome)) ? (reply.outcome as Outcome) : 'infra_error';
      return finish(outcome, String(reply.detail ?? `unexpected reply: ${JSON.stringify(reply).slice(0, 200)}`), { stderr: typeof reply.stderr === 'string' ? reply.stderr : '' });
    }
    for (const [offset, raw] of (reply.cases as Record<string, unknown>[]).entries()) {
      const index = start + offset;
      const num = (v: unknown) => (typeof v === 'number' ? v : 0);
      durationMs += num(raw.durationMs);
      cpuMs += num(raw.cpuMs);
      maxRssKb = Math.max(maxRssKb, num(raw.maxRssKb));
      const stderr = typeof raw.stderr === 'string' ? raw.stderr : '';
      const common = { exitCode: typeof raw.exitCode === 'number' ? raw.exitCode : null, signal: typeof raw.signal === 'string' ? raw.signal : null, stderr };
      const record = (outcome: Outcome) => results.push({ outcome, durationMs: num(raw.durationMs), cpuMs: num(raw.cpuMs), maxRssKb: num(raw.maxRssKb), exitCode: common.exitCode });
      if (raw.outcome !== 'exited') {
        const outcome = (OUTCOMES as readonly string[]).includes(String(raw.outcome)) ? (raw.outcome as Outcome) : 'infra_error';
        record(outcome);
        const excerpt = typeof raw.stdoutExcerpt === 'string' ? raw.stdoutExcerpt : '';
        return finish(outcome, `case ${index + 1} of ${cases.length}: ${String(raw.detail ?? outcome)}`, { ...common, stdout: excerpt.slice(0, 8000) });
      }
      const got = typeof raw.stdout === 'string' ? raw.stdout : '';
      const mismatch = compareOutput(chunk[offset]!.output, got, checker);
      if (mismatch) {
        record('failed');
        const failedCase = {
          index,
          input: bound(chunk[offset]!.input),
          expected: bound(chunk[offset]!.output),
          got: bound(got),
          token: mismatch.token,
        };
        const what = mismatch.got === undefined ? 'output ended early' : mismatch.expected === undefined ? 'extra output' : `expected ${JSON.stringify(bound(mismatch.expected, 80))}, got ${JSON.stringify(bound(mismatch.got, 80))}`;
        return finish('failed', `case ${index + 1} of ${cases.length}: wrong output at token ${mismatch.token + 1} (${what})`, { ...common, stdout: bound(got, 8000), failedCase });
      }
      record('passed');
    }
    if ((reply.cases as unknown[]).length < chunk.length) return finish('infra_error', 'the sandbox answered fewer cases than it was sent');
  }
  return finish('passed', `all ${cases.length} cases passed`, { exitCode: 0 });
}

function bound(text: string, max = EXCERPT): string {
  return text.length <= max ? text : `${text.slice(0, max)}...[${text.length - max} more characters]`;
}

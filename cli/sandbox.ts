import fs from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError } from '../common/config-error';
import { checkDataset, type CheckSummary } from '../activities/sandbox/dataset-check';
import { CHECK_DATASETS, type CheckDataset } from '../activities/sandbox/reference-programs';
import { createSandboxRunner } from '../activities/sandbox/sandbox-runner';
import { encodeStdioTests, type StdioCase } from '../common/stdio-tests';
import { DEFAULT_LIMITS, LANGUAGES, type Language, type RunResult, type SandboxLimits } from '../activities/sandbox/types';

/**
 * `feedloop sandbox exec`: runs one program against its tests in the sandbox.
 * `feedloop sandbox check`: runs every reference solution of a dataset against its tests.
 * Both print one JSON object with --json. Exit status of `exec`, one per class of outcome
 * (EXEC_EXIT_CODES): 0 passed; 1 failed (a test failed); 2 a user error (a missing file, a bad
 * flag); 3 infra_error (the sandbox itself failed); 4 the program did not run to its tests
 * (compile_error, runtime_error); 5 it hit a limit (timeout, memory_limit, output_limit).
 * `check`: 0 when every non-passing reference is a known-broken one; 1 for unexpected check
 * failures; 3 when the sandbox itself failed.
 */
export const EXEC_EXIT_CODES: Record<RunResult['outcome'], number> = {
  passed: 0,
  failed: 1,
  infra_error: 3,
  compile_error: 4,
  runtime_error: 4,
  timeout: 5,
  memory_limit: 5,
  output_limit: 5,
};

/** A file the user named, or a one-line error naming the flag and the file (exit 2). */
function readUserFile(flag: string, file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`${flag} ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? (err as Error).message})`}`);
  }
}
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

interface ExecOptions {
  language: Language;
  program: string;
  tests?: string;
  cases?: string;
  floatTolerance?: number;
  timeoutMs?: number;
  wallMs?: number;
  memoryMb?: number;
  json?: boolean;
}

export function execLimits(opts: Pick<ExecOptions, 'timeoutMs' | 'wallMs' | 'memoryMb'>): SandboxLimits {
  const cpuMs = opts.timeoutMs ?? DEFAULT_LIMITS.cpuMs;
  return {
    ...DEFAULT_LIMITS,
    cpuMs,
    // The CPU limit decides; the wall-clock net is wider so machine load does not.
    wallMs: opts.wallMs ?? (opts.timeoutMs ? Math.max(2 * cpuMs, cpuMs + 1000) : DEFAULT_LIMITS.wallMs),
    memoryMb: opts.memoryMb ?? DEFAULT_LIMITS.memoryMb,
  };
}

function formatResult(result: RunResult): string {
  const lines = [
    `outcome:  ${result.outcome}${result.detail ? ` (${result.detail})` : ''}`,
    `time:     ${result.durationMs.toFixed(1)} ms wall, ${(result.cpuMs ?? 0).toFixed(1)} ms CPU`,
    `limits:   ${JSON.stringify(result.limits)}`,
  ];
  if (result.stdout) lines.push('--- stdout', result.stdout.trimEnd());
  if (result.stderr) lines.push('--- stderr', result.stderr.trimEnd());
  return lines.join('\n');
}

function formatSummary(s: CheckSummary): string {
  const outcomes = Object.entries(s.outcomes)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const lines = [
    `${s.dataset}: ${s.total} reference programs (${s.skipped} tasks without one skipped): ${outcomes}`,
    `${s.programsPerSecond.toFixed(1)} programs/s (${s.wallSeconds.toFixed(1)} s)`,
  ];
  for (const n of s.notPassed) lines.push(`  ${n.taskId}: ${n.outcome}: ${n.knownBroken ? `known broken: ${n.knownBroken}` : n.detail}`);
  if (s.unexpected.length) lines.push(`unexpected failures: ${s.unexpected.join(', ')}`);
  return lines.join('\n');
}

export function registerSandboxCommands(program: Command): void {
  const sandbox = program.command('sandbox').description('run programs in the isolated sandbox, and check it against reference solutions');

  sandbox
    .command('exec')
    .description('run a program against its tests (Python: asserts run after the program; Java: program + test joined MBXP-style into Main.java)')
    .addOption(new Option('--language <language>', 'program language').choices(LANGUAGES).makeOptionMandatory())
    .requiredOption('--program <file>', 'the program')
    .option('--tests <file>', 'the tests (asserts, or MBXP-style Java tests)')
    .option('--cases <file>', 'stdin/stdout cases instead of tests: a JSON list of {input, output}')
    .addOption(new Option('--float-tolerance <x>', 'with --cases: numbers within this absolute or relative distance compare equal').argParser(Number))
    .addOption(new Option('--timeout-ms <n>', `CPU-time limit (default ${DEFAULT_LIMITS.cpuMs}); the wall-clock limit is twice this`).argParser(positiveInt))
    .addOption(new Option('--wall-ms <n>', 'wall-clock limit (overrides the default of twice --timeout-ms)').argParser(positiveInt))
    .addOption(new Option('--memory-mb <n>', `memory limit (default ${DEFAULT_LIMITS.memoryMb})`).argParser(positiveInt))
    .option('--json', 'print the result as one JSON object')
    .action(async (opts: ExecOptions) => {
      if (!opts.tests === !opts.cases) program.error('sandbox exec: give either --tests or --cases');
      const tests = opts.tests
        ? readUserFile('--tests', opts.tests)
        : encodeStdioTests({ cases: JSON.parse(readUserFile('--cases', opts.cases!)) as StdioCase[], ...(opts.floatTolerance !== undefined ? { checker: { floatTolerance: opts.floatTolerance } } : {}) });
      const spec = { language: opts.language, program: readUserFile('--program', opts.program), tests };
      const runner = createSandboxRunner({ size: 1 });
      try {
        const result = await runner.run(spec, execLimits(opts));
        process.stdout.write(opts.json ? `${JSON.stringify({ language: opts.language, ...result })}\n` : `${formatResult(result)}\n`);
        process.exitCode = EXEC_EXIT_CODES[result.outcome];
      } finally {
        await runner.close();
      }
    });

  sandbox
    .command('check')
    .description('run every reference solution of a dataset against its tests and summarize the outcomes')
    .addOption(new Option('--dataset <name>', 'dataset').choices(CHECK_DATASETS).makeOptionMandatory())
    .addOption(new Option('--sample <n>', 'run only n tasks, drawn with --seed').argParser(positiveInt))
    .addOption(new Option('--seed <n>', 'seed of --sample').argParser(positiveInt).default(1))
    .addOption(new Option('--concurrency <n>', 'programs at once (default: CPUs)').argParser(positiveInt))
    .option('--json', 'print the summary as one JSON object')
    .action(async (opts: { dataset: CheckDataset; sample?: number; seed: number; concurrency?: number; json?: boolean }) => {
      const runner = createSandboxRunner(opts.concurrency ? { size: opts.concurrency } : {});
      try {
        await runner.warmUp();
        const summary = await checkDataset(runner, opts.dataset, {
          sample: opts.sample,
          seed: opts.seed,
          concurrency: opts.concurrency,
          onProgress: opts.json
            ? undefined
            : (done, total) => {
                if (done % 100 === 0 || done === total) process.stderr.write(`  ${done}/${total}\n`);
              },
        });
        const report = { ...summary, sandbox: runner.describe() };
        process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : `${formatSummary(summary)}\n`);
        if (summary.outcomes.infra_error) process.exitCode = 3;
        else if (summary.unexpected.length > 0) process.exitCode = 1;
      } finally {
        await runner.close();
      }
    });
}

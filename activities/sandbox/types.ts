import type { Language, Outcome, SandboxLimits } from '../../common/sandbox';

export { OUTCOMES, LANGUAGES, type Language, type Outcome, type SandboxLimits } from '../../common/sandbox';

export const DEFAULT_LIMITS: SandboxLimits = {
  cpuMs: 10_000,
  wallMs: 20_000,
  memoryMb: 1024,
  outputBytes: 1 << 20,
  fileSizeMb: 16,
  processes: 64,
  openFiles: 256,
};

/** Full limits from stored, possibly partial ones; keys that are not limits (e.g. batchSize) are dropped. */
export function resolveLimits(partial: Partial<SandboxLimits> = {}): SandboxLimits {
  const out = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof SandboxLimits)[]) {
    const value = partial[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new RangeError(`sandbox limit ${key} must be a positive number, got ${String(value)}`);
    }
    out[key] = Math.floor(value);
  }
  return out;
}

export interface ProgramSpec {
  language: Language;
  /** the program under test */
  program: string;
  /** Python: statements (asserts) run after the program; Java: the MBXP test harness */
  tests: string;
}

export interface RunResult {
  outcome: Outcome;
  /** wall time of the run (Java: compilation included) */
  durationMs: number;
  /** CPU time of the program's process */
  cpuMs?: number;
  exitCode?: number | null;
  signal?: string | null;
  /** bounded excerpts */
  stdout: string;
  stderr: string;
  limits: SandboxLimits;
  /** one line saying why this outcome (the failing assertion, the limit hit, an early exit...) */
  detail?: string;
  /** full sizes of the streams the excerpts come from */
  stdoutBytes?: number;
  stderrBytes?: number;
  /** peak resident memory of the program's process */
  maxRssKb?: number;
  /** Java: time spent in javac */
  compileMs?: number;
  /**
   * Where the verdict was decided: `judge` (the tests ran in a separate judge process, or for
   * Java a judge JVM, under another uid; the program's process only answered calls with plain
   * values), `in-process` (tests that need more than plain values or plain static calls:
   * checked inside the program's process, as human-eval and MBXP do). Absent for outcomes
   * decided before any test (compile_error, limits).
   */
  verdict?: 'judge' | 'in-process';
  /**
   * Stdin/stdout tests: each case ran in its own process under `limits` (every limit per case);
   * the cases run (in order, up to the first that did not pass) and how each ended.
   */
  cases?: { total: number; results: CaseResult[] };
  /** benchmarks (SandboxRunnerOptions.profile): the server's time per stage of the run, ms */
  profile?: Record<string, number>;
  /** stdin/stdout tests, outcome `failed`: the first case whose output differs (bounded excerpts) */
  failedCase?: { index: number; input: string; expected: string; got: string; token: number };
}

/** One stdin/stdout case's run. */
export interface CaseResult {
  outcome: Outcome;
  durationMs: number;
  cpuMs?: number;
  maxRssKb?: number;
  exitCode?: number | null;
}

/** One item of a stored batch, as the sandbox activity reads it back. */
export interface BatchItem extends ProgramSpec {
  idx: number;
  taskId: string;
  limits: Partial<SandboxLimits>;
}

export interface RunOptions {
  /** aborting kills the program and rejects the run with the signal's reason */
  signal?: AbortSignal;
}

/** The typed result of compiling a Java program alone (no tests, nothing run). */
export const COMPILE_OUTCOMES = ['compiled', 'compile_error', 'timeout', 'infra_error'] as const;
export type CompileOutcome = (typeof COMPILE_OUTCOMES)[number];

/** One javac diagnostic, as javax.tools reports it (code e.g. compiler.warn.div.zero). */
export interface CompilerDiagnostic {
  kind: 'ERROR' | 'WARNING' | 'MANDATORY_WARNING' | 'NOTE' | 'OTHER';
  code: string;
  line: number;
  column: number;
  message: string;
}

/** A method the compiled source declares, with the types javac resolved (e.g. java.util.List<java.lang.Integer>). */
export interface DeclaredMethod {
  /** the class's qualified name (nested classes: Outer.Inner) */
  class: string;
  name: string;
  returns: string;
  static: boolean;
  params: string[];
}

export interface CompileResult {
  outcome: CompileOutcome;
  /** wall time of the request, as the sandbox measured it */
  durationMs: number;
  /** time spent in javac */
  compileMs?: number;
  /** javac's output, bounded (6000 characters) */
  diagnostics: string;
  /** javac's diagnostics with codes and lines, at most 60 */
  items: CompilerDiagnostic[];
  /** declared methods, at most 200; empty when the program did not compile */
  methods: DeclaredMethod[];
  detail: string;
  limits: SandboxLimits;
}

/** Compiles Java programs with -Xlint:all in the sandbox's confined compile server. */
export interface JavaAnalyzer {
  compileJava(program: string, limits: SandboxLimits, options?: RunOptions): Promise<CompileResult>;
}

/** What isolation and toolchain a runner uses: recorded with every batch. */
export interface SandboxDescription {
  runner: string;
  [key: string]: unknown;
}

/** Something that runs programs against tests: the fork-server pool, or the minimal subprocess runner. */
export interface SandboxRunner {
  run(spec: ProgramSpec, limits: SandboxLimits, options?: RunOptions): Promise<RunResult>;
  close(): Promise<void>;
  describe?(): SandboxDescription;
}

/** The typed result of running one program against its tests. */
export const OUTCOMES = [
  'passed',
  'failed',
  'runtime_error',
  'compile_error',
  'timeout',
  'memory_limit',
  'output_limit',
  'infra_error',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

export type Language = 'python' | 'java';

export interface SandboxLimits {
  /** CPU-time limit in ms: the verdict limit, independent of machine load */
  cpuMs: number;
  /** wall-clock limit in ms: a safety net against sleeping or blocked programs */
  wallMs: number;
  memoryMb: number;
  /** bytes of stdout + stderr kept before the run is stopped as output_limit */
  outputBytes: number;
}

export const DEFAULT_LIMITS: SandboxLimits = { cpuMs: 10_000, wallMs: 20_000, memoryMb: 1024, outputBytes: 1 << 20 };

export interface ProgramSpec {
  language: Language;
  /** the program under test */
  program: string;
  /** Python: statements (asserts) run after the program; Java: the MBXP test harness */
  tests: string;
}

export interface RunResult {
  outcome: Outcome;
  durationMs: number;
  cpuMs?: number;
  exitCode?: number | null;
  signal?: string | null;
  /** bounded excerpts */
  stdout: string;
  stderr: string;
  limits: SandboxLimits;
}

/** One item of a stored batch, as the sandbox activity reads it back. */
export interface BatchItem extends ProgramSpec {
  idx: number;
  taskId: string;
  limits: Partial<SandboxLimits>;
}

/** Something that runs programs against tests: the process pool, or the minimal subprocess runner. */
export interface SandboxRunner {
  run(spec: ProgramSpec, limits: SandboxLimits): Promise<RunResult>;
  close(): Promise<void>;
}

/**
 * The sandbox's vocabulary shared by workflows and activities: the typed outcomes, the languages
 * and the limits a run is held to. The sandbox itself is activities/sandbox/.
 */
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
export const LANGUAGES: readonly Language[] = ['python', 'java'];

export interface SandboxLimits {
  /** CPU-time limit in ms: the verdict limit, independent of machine load */
  cpuMs: number;
  /** wall-clock limit in ms: a safety net against sleeping or blocked programs */
  wallMs: number;
  /** address-space limit (Python); maximum heap (Java, which gets its JVM overhead on top) */
  memoryMb: number;
  /** bytes of stdout + stderr kept before the run is stopped as output_limit */
  outputBytes: number;
  /** largest file the program may write (RLIMIT_FSIZE) */
  fileSizeMb: number;
  /** processes and threads of the program's uid (RLIMIT_NPROC; Java gets its JVM threads on top) */
  processes: number;
  /** open file descriptors (RLIMIT_NOFILE) */
  openFiles: number;
}

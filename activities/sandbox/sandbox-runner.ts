import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../infra/logger';
import { createFaultInjector, type FaultInjection } from './fault-injection';
import { ForkServer, ForkServerError, JAVA_SUPPORT_SOURCES, type ForkServerLaunch, type ServerInfo, type ServerReply } from './fork-server';
import { defaultMaskPaths, detectIsolation, resolvePython } from './isolation';
import { isStdioTests } from '../../common/stdio-tests';
import { CASES_PER_REQUEST, runStdioCases } from './stdio-cases';
import { COMPILE_OUTCOMES, OUTCOMES, resolveLimits, type CompileOutcome, type CompileResult, type CompilerDiagnostic, type DeclaredMethod, type JavaAnalyzer, type Outcome, type ProgramSpec, type RunOptions, type RunResult, type SandboxDescription, type SandboxLimits, type SandboxRunner } from './types';

/**
 * The default sandbox: a pool of warm fork-servers, one program at a time each. Every program
 * still gets its own process, uid, work dir, rlimits, and no network (see python/); the pool
 * only saves the interpreter start-up. A server that dies or hangs is replaced, and the run it
 * had in flight comes back as infra_error (the activity retries those; they are never scored).
 */
export interface SandboxRunnerOptions {
  /** warm servers, i.e. programs run at once (default: the CPUs of this host) */
  size?: number;
  /** the interpreter (default FEEDLOOP_SANDBOX_PYTHON or python3, resolved to its real path) */
  python?: string;
  /** size of each server's private tmpfs holding the programs' work dirs */
  workSizeMb?: number;
  /** first of the dedicated uids programs run under (root mode) */
  uidFirst?: number;
  uidCount?: number;
  maskPaths?: string[];
  /** test hook: fail a seeded share of spawns */
  faults?: FaultInjection;
  /** benchmarks: each result says where the server's time went, per stage (RunResult.profile) */
  profile?: boolean;
  log?: Logger;
}

export interface SandboxPoolRunner extends SandboxRunner, JavaAnalyzer {
  /** starts every server now (otherwise each starts on first use) */
  warmUp(): Promise<void>;
  describe(): SandboxDescription;
  /** servers started and failed so far: a hostile program must not raise either */
  stats(): { serverStarts: number; serverFailures: number };
}

interface Slot {
  server?: ForkServer;
}

const REPLY_GRACE_MS = 10_000;
/** first Java run builds the launcher and starts the compile server; each compile has a 60 s wall cap */
const JAVA_EXTRA_MS = 120_000;

export function createSandboxRunner(options: SandboxRunnerOptions = {}): SandboxPoolRunner {
  const size = Math.max(1, options.size ?? os.availableParallelism());
  const nextFault = createFaultInjector(options.faults);
  const slots: Slot[] = Array.from({ length: size }, () => ({}));
  const idle = [...slots];
  const waiters: Array<(slot: Slot) => void> = [];
  let launch: ForkServerLaunch | undefined;
  let serverInfo: ServerInfo | undefined;
  let closed = false;
  let serverStarts = 0;
  let serverFailures = 0;

  function launchSpec(): ForkServerLaunch {
    // Resolved lazily: a host without namespaces fails its first run with a clear error.
    launch ??= (() => {
      const isolation = detectIsolation();
      return {
        unshare: isolation.unshare,
        python: resolvePython(options.python),
        env: { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', ...(process.env.JAVA_HOME ? { JAVA_HOME: process.env.JAVA_HOME } : {}) },
        config: {
          mode: isolation.mode,
          lockDir: path.join(os.tmpdir(), 'feedloop-sandbox-uids'),
          uidFirst: options.uidFirst ?? 61_000,
          uidCount: options.uidCount ?? 2_000,
          workSizeMb: options.workSizeMb ?? 512,
          mask: options.maskPaths ?? defaultMaskPaths(),
          javaSources: JAVA_SUPPORT_SOURCES,
          javaCacheDir: path.join(os.tmpdir(), 'feedloop-java-cache'),
        },
      };
    })();
    return launch;
  }

  function acquire(signal?: AbortSignal): Promise<Slot> {
    const slot = idle.pop();
    if (slot) return Promise.resolve(slot);
    return new Promise<Slot>((resolve, reject) => {
      const onAbort = () => {
        const i = waiters.indexOf(take);
        if (i >= 0) waiters.splice(i, 1);
        reject(signal!.reason as Error);
      };
      const take = (s: Slot) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(s);
      };
      waiters.push(take);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  function release(slot: Slot): void {
    const waiter = waiters.shift();
    if (waiter) waiter(slot);
    else idle.push(slot);
  }

  async function serverFor(slot: Slot): Promise<ForkServer> {
    if (slot.server?.alive) return slot.server;
    const { server, info } = await ForkServer.start(launchSpec());
    serverStarts++;
    serverInfo ??= info;
    slot.server = server;
    return server;
  }

  /** Sends one request to the slot's server; a failure of the server itself becomes `infra(detail, ms)`. */
  async function requestOnSlot<T>(slot: Slot, message: Record<string, unknown>, timeoutMs: number, signal: AbortSignal | undefined, infra: (detail: string, ms: number) => T, toResult: (reply: ServerReply) => T): Promise<T> {
    const started = performance.now();
    let server: ForkServer | undefined;
    const onAbort = () => server?.kill();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      server = await serverFor(slot);
      signal?.throwIfAborted();
      const fault = nextFault();
      const reply = await server.request({ ...message, ...(fault ? { fault } : {}) }, timeoutMs);
      if (Array.isArray(reply.cleanupProblems)) {
        // The host's problem, not the program's: logged, the outcome stands.
        options.log?.warn({ problems: reply.cleanupProblems }, 'sandbox could not clean up a work dir');
      }
      return toResult(reply);
    } catch (err) {
      signal?.throwIfAborted();
      if (!(err instanceof ForkServerError)) throw err;
      serverFailures++;
      slot.server?.kill();
      slot.server = undefined;
      options.log?.warn({ err: err.message }, 'sandbox fork-server failed; it will be restarted');
      return infra(err.message, performance.now() - started);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  function runOnSlot(slot: Slot, spec: ProgramSpec, limits: SandboxLimits, signal?: AbortSignal): Promise<RunResult> {
    if (isStdioTests(spec.tests)) {
      const infra = (detail: string, ms: number) => infraResult(detail, ms, limits);
      const timeoutMs = (limits.wallMs + 1000) * CASES_PER_REQUEST + (spec.language === 'java' ? JAVA_EXTRA_MS : 0) + REPLY_GRACE_MS;
      return runStdioCases(spec.tests, limits, (inputs) =>
        requestOnSlot<Record<string, unknown>>(
          slot,
          { op: 'stdio', language: spec.language, program: spec.program, inputs, limits },
          timeoutMs,
          signal,
          (detail) => ({ outcome: 'infra_error', detail }),
          (reply) => reply,
        ), infra);
    }
    const timeoutMs = limits.wallMs + (spec.language === 'java' ? JAVA_EXTRA_MS : 0) + REPLY_GRACE_MS;
    return requestOnSlot(
      slot,
      { op: 'run', language: spec.language, program: spec.program, tests: spec.tests, limits, ...(options.profile ? { profile: true } : {}) },
      timeoutMs,
      signal,
      (detail, ms) => infraResult(detail, ms, limits),
      (reply) => toRunResult(reply, limits),
    );
  }

  async function onFreeSlot<T>(signal: AbortSignal | undefined, work: (slot: Slot) => Promise<T>): Promise<T> {
    if (closed) throw new Error('the sandbox runner is closed');
    signal?.throwIfAborted();
    const slot = await acquire(signal);
    try {
      return await work(slot);
    } finally {
      release(slot);
    }
  }

  return {
    async run(spec: ProgramSpec, partialLimits: SandboxLimits, runOptions: RunOptions = {}): Promise<RunResult> {
      if (closed) throw new Error('the sandbox runner is closed');
      const limits = resolveLimits(partialLimits);
      if (spec.language !== 'python' && spec.language !== 'java') throw new RangeError(`unsupported language ${String(spec.language)}`);
      return onFreeSlot(runOptions.signal, (slot) => runOnSlot(slot, spec, limits, runOptions.signal));
    },

    async compileJava(program: string, partialLimits: SandboxLimits, runOptions: RunOptions = {}): Promise<CompileResult> {
      if (closed) throw new Error('the sandbox runner is closed');
      const limits = resolveLimits(partialLimits);
      return onFreeSlot(runOptions.signal, (slot) =>
        requestOnSlot<CompileResult>(
          slot,
          { op: 'compile', language: 'java', program, limits },
          JAVA_EXTRA_MS + REPLY_GRACE_MS,
          runOptions.signal,
          (detail, ms) => ({ outcome: 'infra_error', durationMs: ms, diagnostics: '', items: [], methods: [], detail, limits }),
          (reply) => toCompileResult(reply, limits),
        ),
      );
    },

    async warmUp(): Promise<void> {
      const taken = await Promise.all(Array.from({ length: size }, () => acquire()));
      try {
        await Promise.all(taken.map((s) => serverFor(s)));
      } finally {
        taken.forEach(release);
      }
    },

    describe(): SandboxDescription {
      return { runner: 'fork-server', servers: size, ...(serverInfo ?? {}) };
    },

    stats() {
      return { serverStarts, serverFailures };
    },

    async close(): Promise<void> {
      closed = true;
      for (const slot of slots) slot.server?.kill();
      await Promise.resolve();
    },
  };
}

function toRunResult(reply: ServerReply, limits: SandboxLimits): RunResult {
  const outcome = (OUTCOMES as readonly string[]).includes(String(reply.outcome)) ? (reply.outcome as Outcome) : 'infra_error';
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const result: RunResult = {
    outcome,
    durationMs: num(reply.durationMs) ?? 0,
    exitCode: num(reply.exitCode) ?? null,
    signal: typeof reply.signal === 'string' ? reply.signal : null,
    stdout: str(reply.stdout),
    stderr: str(reply.stderr),
    limits,
    detail: str(reply.detail) || (outcome === 'infra_error' ? `unexpected reply: ${JSON.stringify(reply).slice(0, 200)}` : ''),
  };
  if (reply.verdict === 'judge' || reply.verdict === 'in-process') result.verdict = reply.verdict;
  if (reply.profile && typeof reply.profile === 'object') result.profile = reply.profile as Record<string, number>;
  for (const key of ['cpuMs', 'maxRssKb', 'stdoutBytes', 'stderrBytes', 'compileMs'] as const) {
    const value = num(reply[key]);
    if (value !== undefined) result[key] = value;
  }
  return result;
}

const DIAGNOSTIC_KINDS = new Set(['ERROR', 'WARNING', 'MANDATORY_WARNING', 'NOTE']);

function toCompileResult(reply: ServerReply, limits: SandboxLimits): CompileResult {
  const known = (COMPILE_OUTCOMES as readonly string[]).includes(String(reply.outcome));
  const outcome: CompileOutcome = known ? (reply.outcome as CompileOutcome) : 'infra_error';
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const records = (v: unknown) => (Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object') as Record<string, unknown>[]) : []);
  const items: CompilerDiagnostic[] = records(reply.items).map((d) => ({
    kind: DIAGNOSTIC_KINDS.has(str(d.kind)) ? (str(d.kind) as CompilerDiagnostic['kind']) : 'OTHER',
    code: str(d.code),
    line: num(d.line),
    column: num(d.column),
    message: str(d.message),
  }));
  const methods: DeclaredMethod[] = records(reply.methods).map((m) => ({
    class: str(m.class),
    name: str(m.name),
    returns: str(m.returns),
    static: m.static === true,
    params: Array.isArray(m.params) ? m.params.map(str) : [],
  }));
  const result: CompileResult = {
    outcome,
    durationMs: num(reply.durationMs),
    diagnostics: str(reply.stderr),
    items,
    methods,
    detail: known ? str(reply.detail) : str(reply.detail) || `unexpected reply: ${JSON.stringify(reply).slice(0, 200)}`,
    limits,
  };
  if (typeof reply.compileMs === 'number') result.compileMs = reply.compileMs;
  return result;
}

function infraResult(detail: string, durationMs: number, limits: SandboxLimits): RunResult {
  return { outcome: 'infra_error', durationMs, stdout: '', stderr: '', limits, detail, exitCode: null, signal: null };
}

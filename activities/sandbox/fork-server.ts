import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Writable } from 'node:stream';
import path from 'node:path';

/**
 * One warm Python fork-server (activities/sandbox/python), spoken to over its stdin/stdout
 * with length-prefixed JSON frames. It serves one program at a time. Any failure of the
 * server itself (it died, stopped answering, sent garbage) rejects with ForkServerError: the
 * caller scores that as infra_error, never as the program's fault.
 */
export const FORK_SERVER_SCRIPT = path.join(__dirname, 'python', 'forkserver.py');
export const JAVA_SUPPORT_SOURCES = ['FeedloopLauncher.java', 'FeedloopCompileServer.java', 'FeedloopValues.java', 'FeedloopCallee.java', 'FeedloopJudge.java'].map((f) => path.join(__dirname, 'java', f));

function frame(message: Record<string, unknown>): Buffer {
  const body = Buffer.from(JSON.stringify(message));
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length);
  return Buffer.concat([header, body]);
}

export class ForkServerError extends Error {
  override name = 'ForkServerError';
}

export interface ForkServerConfig {
  mode: 'root' | 'userns';
  lockDir: string;
  uidFirst: number;
  uidCount: number;
  workSizeMb: number;
  mask: string[];
  javaSources: string[];
  /** host-wide cache of the compiled Java launcher (saves a javac run per server start) */
  javaCacheDir: string;
}

export interface ForkServerLaunch {
  /** namespace command prefix (unshare ...) */
  unshare: string[];
  python: string;
  config: ForkServerConfig;
  /** the server's own environment: no secrets */
  env: NodeJS.ProcessEnv;
  startTimeoutMs?: number;
}

export type ServerInfo = Record<string, unknown>;
export type ServerReply = Record<string, unknown> & { outcome?: string };

const STDERR_TAIL = 4000;

export class ForkServer {
  private buffer: Buffer = Buffer.alloc(0);
  private pending: { resolve: (r: ServerReply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | undefined;
  private exited = false;
  private stderrTail = '';
  private nextId = 1;
  private onReady: { resolve: (info: ServerInfo) => void; reject: (e: Error) => void } | undefined;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    /** fd 3 of the server, read only by its judge process: the tests of Python runs */
    private readonly testsPipe: Writable,
  ) {
    testsPipe.on('error', () => undefined);
    child.stdout.on('data', (chunk: Buffer) => this.receive(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-STDERR_TAIL);
    });
    // EPIPE when the server died mid-write; 'exit' below reports it.
    child.stdin.on('error', () => undefined);
    child.once('error', (err) => this.fail(new ForkServerError(`fork-server could not start: ${err.message}`)));
    child.once('exit', (code, signal) => {
      this.exited = true;
      this.fail(new ForkServerError(`fork-server exited (${signal ?? `status ${code}`})${this.stderrTail ? `: ${this.stderrTail.slice(-800)}` : ''}`));
    });
  }

  static async start(launch: ForkServerLaunch): Promise<{ server: ForkServer; info: ServerInfo }> {
    const [command, ...args] = launch.unshare;
    const child = spawn(command!, [...args, launch.python, '-I', '-S', '-B', FORK_SERVER_SCRIPT, JSON.stringify(launch.config)], {
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      env: launch.env,
    });
    const server = new ForkServer(child as unknown as ChildProcessWithoutNullStreams, child.stdio[3] as Writable);
    const timeoutMs = launch.startTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      const info = await new Promise<ServerInfo>((resolve, reject) => {
        server.onReady = { resolve, reject };
        timer = setTimeout(() => reject(new ForkServerError(`fork-server not ready after ${timeoutMs} ms`)), timeoutMs);
      });
      return { server, info };
    } catch (err) {
      server.kill();
      throw err;
    } finally {
      clearTimeout(timer);
      server.onReady = undefined;
    }
  }

  get alive(): boolean {
    return !this.exited;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Sends one request and waits for its reply; only one may be outstanding. The tests of a
   * Python run go to the server's judge on their own pipe (the server, and so every program's
   * process, never holds them); the run request itself carries only the program.
   */
  request(message: Record<string, unknown>, timeoutMs: number): Promise<ServerReply> {
    if (this.exited) return Promise.reject(new ForkServerError('fork-server is not running'));
    if (this.pending) return Promise.reject(new ForkServerError('fork-server is busy'));
    const id = this.nextId++;
    let outgoing: Record<string, unknown> = { ...message, id };
    if (message.op === 'run' && message.language === 'python') {
      const { tests, ...rest } = outgoing;
      this.testsPipe.write(frame({ id, tests }));
      outgoing = { ...rest, judged: true };
    }
    const body = frame(outgoing);
    return new Promise<ServerReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new ForkServerError(`fork-server gave no answer within ${timeoutMs} ms`));
        this.kill();
      }, timeoutMs);
      this.pending = { resolve, reject, timer };
      this.child.stdin.write(body);
    });
  }

  /** Kills the server and, with it, its whole PID namespace (the program included). */
  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    while (this.buffer.length >= 4) {
      const size = this.buffer.readUInt32BE(0);
      if (this.buffer.length < 4 + size) return;
      const body = this.buffer.subarray(4, 4 + size);
      this.buffer = this.buffer.subarray(4 + size);
      let message: ServerReply;
      try {
        message = JSON.parse(body.toString('utf8')) as ServerReply;
      } catch {
        this.fail(new ForkServerError('fork-server sent a malformed frame'));
        this.kill();
        return;
      }
      this.dispatch(message);
    }
  }

  private dispatch(message: ServerReply): void {
    if (message.op === 'ready') {
      this.onReady?.resolve((message.info as ServerInfo) ?? {});
    } else if (message.op === 'fatal') {
      this.onReady?.reject(new ForkServerError(`fork-server set-up failed: ${String(message.error)}`));
    } else if (this.pending) {
      const { resolve, timer } = this.pending;
      this.pending = undefined;
      clearTimeout(timer);
      resolve(message);
    }
  }

  private fail(err: Error): void {
    this.onReady?.reject(err);
    if (this.pending) {
      const { reject, timer } = this.pending;
      this.pending = undefined;
      clearTimeout(timer);
      reject(err);
    }
  }
}

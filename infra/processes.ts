import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Small process-supervision helpers for the local dev servers (`feedloop dev up|down|status`). */

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readPidFile(file: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8').split('\n')[0] ?? '', 10);
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export interface DetachedOptions {
  command: string;
  args: string[];
  logFile: string;
  pidFile?: string;
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
  cwd?: string;
}

/**
 * Starts a server in its own session so that it outlives the CLI that started it, with output
 * appended to a log file. Returns its pid.
 */
export function spawnDetached(opts: DetachedOptions): number {
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const out = fs.openSync(opts.logFile, 'a');
  try {
    const child = spawn(opts.command, opts.args, {
      detached: true,
      stdio: ['ignore', out, out],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      uid: opts.uid,
      gid: opts.gid,
    });
    if (child.pid === undefined) throw new Error(`could not start ${opts.command}`);
    child.unref();
    if (opts.pidFile) {
      fs.mkdirSync(path.dirname(opts.pidFile), { recursive: true });
      fs.writeFileSync(opts.pidFile, `${child.pid}\n`);
    }
    return child.pid;
  } finally {
    fs.closeSync(out);
  }
}

export function canConnect(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Polls `probe` until it resolves true; fails with `describe()` (e.g. the log tail) on timeout. */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  { timeoutMs = 60_000, intervalMs = 200, describe }: { timeoutMs?: number; intervalMs?: number; describe?: () => string } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) {
      throw new Error(`${what} did not become ready within ${timeoutMs} ms${describe ? `\n${describe()}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Sends `signal`, waits up to `graceMs` for the process to exit, then SIGKILLs it. */
export async function stopProcess(pid: number, signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

export function tailFile(file: string, bytes = 4000): string {
  try {
    const data = fs.readFileSync(file);
    return data.subarray(Math.max(0, data.length - bytes)).toString('utf8');
  } catch {
    return `(no log at ${file})`;
  }
}

/**
 * Ports handed out below the kernel's ephemeral range (32768-60999 on Linux): a port that
 * another process's outgoing connection or `listen(0)` takes between our check and the server's
 * start-up (seconds for PostgreSQL or Temporal) can then no longer collide with ours.
 */
const PICK_LOW = 20000;
const PICK_HIGH = 32767;
const handedOut = new Set<number>();

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Finds a free loopback port (used by tests to run isolated servers). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PICK_LOW + Math.floor(Math.random() * (PICK_HIGH - PICK_LOW + 1));
    if (handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free loopback port between ${PICK_LOW} and ${PICK_HIGH}`);
}

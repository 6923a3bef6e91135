import fs from 'node:fs';
import { isAlive } from '../../infra/processes';

/** Process liveness and process-group signalling (Linux semantics; pids only elsewhere). */

export { isAlive };

/**
 * The process start time in clock ticks since boot (field 22 of /proc/PID/stat), so that a
 * recycled pid is not mistaken for the process that wrote a lock. Undefined where /proc is absent.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after it start past the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** True when `pid` is alive and, if a start time was recorded, is still that same process. */
export function isSameProcessAlive(pid: number, startTime: string | undefined): boolean {
  if (!isAlive(pid)) return false;
  if (startTime === undefined) return true;
  const now = processStartTime(pid);
  return now === undefined || now === startTime;
}

/** Whether any process of the group led by `pgid` is alive. */
export function isGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* already gone */
  }
}

/**
 * SIGTERM to the whole group, up to `graceMs` for it to exit, then SIGKILL. Resolves when the
 * group is gone; returns whether SIGKILL was needed. A trainer's data-loader workers and
 * torchrun children live in the same group, so none is left behind holding the GPU.
 */
export async function stopGroup(pgid: number, graceMs: number, exited?: Promise<unknown>): Promise<{ killed: boolean }> {
  if (!isGroupAlive(pgid)) return { killed: false };
  signalGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isGroupAlive(pgid) && Date.now() < deadline) await sleep(50);
  if (!isGroupAlive(pgid)) {
    await exited;
    return { killed: false };
  }
  signalGroup(pgid, 'SIGKILL');
  while (isGroupAlive(pgid)) await sleep(20);
  await exited;
  return { killed: true };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

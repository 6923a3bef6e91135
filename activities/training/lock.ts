import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isGroupAlive, isSameProcessAlive, processStartTime } from './process-group';

/**
 * An exclusive lock on a training job's output directory, so two copies of one job never run
 * at once (a retry while the previous attempt's trainer still runs, a duplicate workflow).
 *
 * The lock file names its holder: host, worker pid (with its start time, against pid reuse) and
 * the trainer's process group. It is stale when, on this host, both the worker and the trainer
 * group are gone; on another host, when the holder has not refreshed it for `staleAfterMs`
 * (the holder touches it every few seconds while it runs).
 */
export const LOCK_FILE = '.feedloop-train.lock';

export interface LockHolder {
  token: string;
  jobId: string;
  host: string;
  workerPid: number;
  workerStartTime?: string;
  /** the trainer's pid, which leads its own process group */
  trainerPid?: number;
  acquiredAt: string;
}

export type LockState =
  | { state: 'free' }
  | { state: 'live'; holder: LockHolder }
  /** on this host, the worker is gone but its trainer still runs: it must be stopped first */
  | { state: 'orphaned'; holder: LockHolder }
  | { state: 'stale'; holder: LockHolder };

export class JobLock {
  private readonly file: string;

  constructor(
    private readonly dir: string,
    private readonly host: string,
    private readonly staleAfterMs: number,
  ) {
    this.file = path.join(dir, LOCK_FILE);
  }

  read(): LockHolder | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.file, 'utf8')) as LockHolder;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      // A torn or foreign file: treat it as held by nobody we can check, aged by its mtime.
      return { token: 'unreadable', jobId: '?', host: '?', workerPid: 0, acquiredAt: '' };
    }
  }

  inspect(): LockState {
    const holder = this.read();
    if (!holder) return { state: 'free' };
    if (holder.host === this.host) {
      const worker = holder.workerPid > 0 && isSameProcessAlive(holder.workerPid, holder.workerStartTime);
      const trainer = holder.trainerPid !== undefined && isGroupAlive(holder.trainerPid);
      if (worker) return { state: 'live', holder };
      return trainer ? { state: 'orphaned', holder } : { state: 'stale', holder };
    }
    let age = Infinity;
    try {
      age = Date.now() - fs.statSync(this.file).mtimeMs;
    } catch {
      return { state: 'free' };
    }
    return age > this.staleAfterMs ? { state: 'stale', holder } : { state: 'live', holder };
  }

  /**
   * Takes the lock if it is free or stale. Returns the holder record, or undefined when someone
   * else holds it (live or orphaned: the caller decides whether to wait or stop the orphan).
   */
  tryAcquire(jobId: string): LockHolder | undefined {
    fs.mkdirSync(this.dir, { recursive: true });
    const mine: LockHolder = {
      token: randomUUID(),
      jobId,
      host: this.host,
      workerPid: process.pid,
      workerStartTime: processStartTime(process.pid),
      acquiredAt: new Date().toISOString(),
    };
    const tmp = `${this.file}.${mine.token}`;
    fs.writeFileSync(tmp, JSON.stringify(mine));
    try {
      for (let tries = 0; tries < 5; tries++) {
        try {
          // link() creates the lock only if absent, with its full content at once.
          fs.linkSync(tmp, this.file);
          return mine;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        const current = this.inspect();
        if (current.state === 'live' || current.state === 'orphaned') return undefined;
        if (current.state === 'stale') this.removeIfStill(current.holder);
      }
      return undefined;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  /** Removes the lock only if it is still the record we judged stale (another taker may have replaced it). */
  private removeIfStill(stale: LockHolder): void {
    const aside = `${this.file}.stale-${randomUUID()}`;
    try {
      fs.renameSync(this.file, aside);
    } catch {
      return;
    }
    const moved = (() => {
      try {
        return JSON.parse(fs.readFileSync(aside, 'utf8')) as LockHolder;
      } catch {
        return undefined;
      }
    })();
    if (moved && moved.token !== stale.token) {
      // We moved a fresh lock someone took meanwhile: put it back (unless yet another appeared).
      try {
        fs.linkSync(aside, this.file);
      } catch {
        /* the new holder will notice on its next refresh */
      }
    }
    fs.rmSync(aside, { force: true });
  }

  /** Whether `mine` still holds the lock (a holder checks this on every refresh). */
  holds(mine: LockHolder): boolean {
    return this.read()?.token === mine.token;
  }

  /** Records the trainer's pid and refreshes the mtime; returns false when the lock was lost. */
  update(mine: LockHolder): boolean {
    if (!this.holds(mine)) return false;
    const tmp = `${this.file}.${mine.token}.update`;
    fs.writeFileSync(tmp, JSON.stringify(mine));
    fs.renameSync(tmp, this.file);
    return true;
  }

  /** Marks the lock fresh for holders on other hosts; returns false when the lock was lost. */
  refresh(mine: LockHolder): boolean {
    if (!this.holds(mine)) return false;
    const now = new Date();
    try {
      fs.utimesSync(this.file, now, now);
    } catch {
      return false;
    }
    return true;
  }

  release(mine: LockHolder): void {
    if (this.holds(mine)) fs.rmSync(this.file, { force: true });
  }
}

import type pg from 'pg';
import { saveRunResults, type StoredRun } from '../store/sandbox-results';

/**
 * Stores results as they come without making programs wait for the database: while one
 * insert runs, the next results queue up and go in the following insert. `saved` counts what
 * is durable, which is what a retry resumes from.
 */
export class ResultWriter {
  saved = 0;
  private queue: StoredRun[] = [];
  private writing: Promise<void> | undefined;
  private error: unknown;

  constructor(
    private readonly pool: pg.Pool,
    private readonly batchId: string,
  ) {}

  add(run: StoredRun): void {
    if (this.error) throw this.error;
    this.queue.push(run);
    this.writing ??= this.drain();
  }

  /** Resolves once everything added so far is stored; rejects if a write failed. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.error) throw this.error;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const runs = this.queue.splice(0);
        await saveRunResults(this.pool, this.batchId, runs);
        this.saved += runs.length;
      }
    } catch (err) {
      this.error = err;
    } finally {
      this.writing = undefined;
    }
  }
}

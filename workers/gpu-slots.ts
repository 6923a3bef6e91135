import { Context } from '@temporalio/activity';

/**
 * One slot per GPU, shared by every GPU activity of this process: the shared GPU queue and the
 * host's own queue are two Temporal workers, but they must not run more GPU jobs than GPUs.
 * An activity waiting for a slot keeps heartbeating, so it is not mistaken for a dead one.
 */
export class GpuSlots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly size: number) {
    this.free = size;
  }

  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    const ctx = Context.current();
    const beat = setInterval(() => ctx.heartbeat(ctx.info.heartbeatDetails), 5000);
    try {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } finally {
      clearInterval(beat);
    }
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }

  /** Wraps every activity so that it holds a slot while it runs. */
  wrap<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
    const wrapped: Record<string, unknown> = {};
    for (const [name, fn] of Object.entries(activities)) {
      wrapped[name] = async (...args: never[]) => {
        await this.acquire();
        try {
          return await fn(...args);
        } finally {
          this.release();
        }
      };
    }
    return wrapped as T;
  }
}

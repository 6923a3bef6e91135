import pg from 'pg';

/**
 * One pg pool per process. A dropped connection (PostgreSQL restarted) surfaces as an activity
 * error and is retried by Temporal; the pool itself must not crash the worker.
 */
export function createPool(databaseUrl: string, max = 8): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 30_000 });
  pool.on('error', () => {
    /* idle client lost (server restart); the next query reconnects */
  });
  return pool;
}

/** Runs `fn` with a small pool of its own (a CLI command), then closes it. */
export async function withPool<T>(databaseUrl: string, fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = createPool(databaseUrl, 4);
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

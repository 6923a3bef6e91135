import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { downLocalServers, isolatedEnv, localServersStatus, upLocalServers } from '../../infra/local-servers';
import { tempDir } from '../helpers/temp-dir';

/**
 * `feedloop dev up|down|status` on its own state directory: idempotent up, and state that
 * survives a stop, as a user's campaigns must.
 */
const home = tempDir('dev');
let env: Awaited<ReturnType<typeof isolatedEnv>>;

afterAll(async () => {
  if (env) await downLocalServers(env);
  fs.rmSync(home, { recursive: true, force: true });
});

describe('local servers', () => {
  it('start, report, stop and come back with their state', async () => {
    env = await isolatedEnv(home, { FEEDLOOP_TEMPORAL: 'dev' });
    const first = await upLocalServers(env);
    expect(first.started.sort()).toEqual(['postgres', 'temporal']);
    const again = await upLocalServers(env);
    expect(again.started).toEqual([]);
    expect(localServersStatus(env).map((s) => s.running)).toEqual([true, true]);

    // Leave something in each server.
    const connection = await Connection.connect({ address: first.temporalAddress });
    const client = new Client({ connection });
    await client.workflow.start('notRegisteredAnywhere', { taskQueue: 'nobody-polls', workflowId: 'survives-restart' });
    await connection.close();
    const db = new pg.Client({ connectionString: first.databaseUrl });
    await db.connect();
    await db.query(`insert into sandbox_batches (id, owner, item_count) values ('survivor', 'test', 0)`);
    await db.end();

    expect((await downLocalServers(env)).sort()).toEqual(['postgres', 'temporal']);
    expect(localServersStatus(env).map((s) => s.running)).toEqual([false, false]);

    const second = await upLocalServers(env);
    expect(second.started.sort()).toEqual(['postgres', 'temporal']);
    const connection2 = await Connection.connect({ address: second.temporalAddress });
    const desc = await new Client({ connection: connection2 }).workflow.getHandle('survives-restart').describe();
    expect(desc.status.name).toBe('RUNNING');
    await connection2.close();
    const db2 = new pg.Client({ connectionString: second.databaseUrl });
    await db2.connect();
    const { rowCount } = await db2.query(`select 1 from sandbox_batches where id = 'survivor'`);
    await db2.end();
    expect(rowCount).toBe(1);
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { downLocalServers, isolatedEnv, localServersStatus, upLocalServers } from '../../infra/local-servers';
import { statePaths } from '../../infra/env';
import { isAlive } from '../../infra/processes';
import { SEARCH_ATTRIBUTES } from '../../common/search-attributes';
import { tempDir } from '../helpers/temp-dir';
import { buildTemporalServer, TEMPORAL_SERVER_BUILD_MS } from '../helpers/temporal-server';

/**
 * `feedloop dev up --cluster`: the multi-service Temporal server on the embedded PostgreSQL,
 * each service its own process, feedloop's search attributes registered in the namespace, and
 * state (in PostgreSQL now, not SQLite) that survives `dev down` and `dev up`.
 */
const home = tempDir('cluster');
let env: Awaited<ReturnType<typeof isolatedEnv>>;

beforeAll(buildTemporalServer, TEMPORAL_SERVER_BUILD_MS);

afterAll(async () => {
  if (env) await downLocalServers(env);
  fs.rmSync(home, { recursive: true, force: true });
});

const SERVICES = ['temporal-history', 'temporal-matching', 'temporal-frontend', 'temporal-worker'];

describe('dev up --cluster', () => {
  it('runs frontend, history, matching and worker as processes of their own on PostgreSQL, and comes back with its state', async () => {
    env = await isolatedEnv(home, { FEEDLOOP_TEMPORAL: 'cluster' });
    const first = await upLocalServers(env);
    expect(first.started.sort()).toEqual(['postgres', ...SERVICES].sort());
    expect((await upLocalServers(env)).started).toEqual([]);

    const status = localServersStatus(env);
    expect(status.map((s) => s.name)).toEqual([...SERVICES, 'postgres']);
    expect(status.every((s) => s.running)).toBe(true);
    const pids = status.map((s) => s.pid);
    expect(new Set(pids).size).toBe(pids.length);
    expect(status.find((s) => s.name === 'temporal-frontend')?.where).toContain(env.TEMPORAL_ADDRESS);

    // The server's own databases, with the module's schema.
    const db = new pg.Client({ connectionString: first.databaseUrl.replace(/\/feedloop$/, '/temporal_visibility') });
    await db.connect();
    const { rows } = await db.query(`select count(*)::int as n from executions_visibility`);
    await db.end();
    expect(rows[0].n).toBeGreaterThanOrEqual(0);

    const connection = await Connection.connect({ address: first.temporalAddress });
    const client = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE });
    const desc = await connection.operatorService.listSearchAttributes({ namespace: env.TEMPORAL_NAMESPACE });
    for (const name of Object.keys(SEARCH_ATTRIBUTES)) expect(Object.keys(desc.customAttributes ?? {})).toContain(name);
    await client.workflow.start('notRegisteredAnywhere', {
      taskQueue: 'nobody-polls',
      workflowId: 'survives-cluster-restart',
      searchAttributes: { FeedloopCampaignId: ['cluster-test'] },
    });
    await connection.close();

    const stopped = await downLocalServers(env);
    expect(stopped.sort()).toEqual(['postgres', ...SERVICES].sort());
    for (const pid of pids) expect(isAlive(pid!)).toBe(false);
    expect(localServersStatus(env).some((s) => s.running)).toBe(false);
    expect(fs.readdirSync(statePaths(home).logs).filter((f) => f.startsWith('temporal-')).sort()).toEqual(SERVICES.map((s) => `${s}.log`).sort());

    const second = await upLocalServers(env);
    expect(second.started.sort()).toEqual(['postgres', ...SERVICES].sort());
    const connection2 = await Connection.connect({ address: second.temporalAddress });
    const client2 = new Client({ connection: connection2, namespace: env.TEMPORAL_NAMESPACE });
    expect((await client2.workflow.getHandle('survives-cluster-restart').describe()).status.name).toBe('RUNNING');
    // SQL visibility answers feedloop's search-attribute queries.
    const found: string[] = [];
    for await (const w of client2.workflow.list({ query: `FeedloopCampaignId = "cluster-test"` })) found.push(w.workflowId);
    expect(found).toEqual(['survives-cluster-restart']);
    await client2.workflow.getHandle('survives-cluster-restart').terminate('test over');
    await connection2.close();
    expect(fs.existsSync(path.join(statePaths(home).run, 'cluster.json'))).toBe(true);
  });
});

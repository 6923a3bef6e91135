import fs from 'node:fs';
import path from 'node:path';
import { readEnv, statePaths, type FeedloopEnv } from './env';
import { embeddedPostgresPid, startEmbeddedPostgres, stopEmbeddedPostgres } from './postgres';
import { freePort, readPidFile } from './processes';
import { findTemporalCli, startTemporalServer, stopTemporalServer } from './temporal';
import { createPool } from '../activities/store/pool';
import { migrate } from '../activities/store/migrate';

/**
 * The embedded defaults on loopback: a Temporal dev server (SQLite under the state directory)
 * and PostgreSQL (data under the state directory, unless DATABASE_URL names an external one).
 * Used by `feedloop dev up|down|status`, the demo and the test suite's global setup.
 */
export interface LocalServers {
  temporalAddress: string;
  temporalUiUrl: string;
  databaseUrl: string;
  externalDatabase: boolean;
  started: string[];
}

function temporalHostPort(address: string): { host: string; port: number } {
  const [host, port] = address.split(':');
  return { host: host ?? '127.0.0.1', port: Number(port) };
}

/**
 * The environment of a throw-away set of local servers: its own state directory and free
 * loopback ports, never the user's DATABASE_URL (tests, the chaos harness).
 */
export async function isolatedEnv(home: string): Promise<FeedloopEnv> {
  return readEnv({
    ...process.env,
    FEEDLOOP_HOME: home,
    TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
    FEEDLOOP_TEMPORAL_UI_PORT: String(await freePort()),
    FEEDLOOP_PG_PORT: String(await freePort()),
    DATABASE_URL: '',
  });
}

export async function upLocalServers(env: FeedloopEnv, log: (line: string) => void = () => undefined): Promise<LocalServers> {
  const paths = statePaths(env.FEEDLOOP_HOME);
  for (const dir of [paths.home, paths.logs, paths.run, paths.blobs]) fs.mkdirSync(dir, { recursive: true });
  const started: string[] = [];

  const { host, port } = temporalHostPort(env.TEMPORAL_ADDRESS);
  const cli = findTemporalCli({ explicit: env.TEMPORAL_CLI, log });
  const temporal = await startTemporalServer({
    cli,
    dbFile: paths.temporalDb,
    host,
    port,
    uiPort: env.FEEDLOOP_TEMPORAL_UI_PORT,
    logFile: path.join(paths.logs, 'temporal.log'),
    pidFile: path.join(paths.run, 'temporal.pid'),
    namespace: env.TEMPORAL_NAMESPACE,
  });
  if (temporal.startedNow) started.push('temporal');

  let databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    const pgInfo = await startEmbeddedPostgres({
      dataDir: paths.postgresData,
      port: env.FEEDLOOP_PG_PORT,
      logFile: path.join(paths.logs, 'postgres.log'),
    });
    if (pgInfo.startedNow) started.push('postgres');
    databaseUrl = pgInfo.url;
  }
  const pool = createPool(databaseUrl, 1);
  try {
    const applied = await migrate(pool);
    if (applied.length) log(`applied migrations: ${applied.join(', ')}`);
  } finally {
    await pool.end();
  }
  return { temporalAddress: temporal.address, temporalUiUrl: temporal.uiUrl, databaseUrl, externalDatabase: Boolean(env.DATABASE_URL), started };
}

export async function downLocalServers(env: FeedloopEnv): Promise<string[]> {
  const paths = statePaths(env.FEEDLOOP_HOME);
  const stopped: string[] = [];
  if (await stopTemporalServer(path.join(paths.run, 'temporal.pid'))) stopped.push('temporal');
  if (await stopEmbeddedPostgres(paths.postgresData)) stopped.push('postgres');
  return stopped;
}

export interface ServerStatus {
  name: string;
  running: boolean;
  pid?: number;
  where: string;
}

export function localServersStatus(env: FeedloopEnv): ServerStatus[] {
  const paths = statePaths(env.FEEDLOOP_HOME);
  const temporalPid = readPidFile(path.join(paths.run, 'temporal.pid'));
  const { host, port } = temporalHostPort(env.TEMPORAL_ADDRESS);
  const pgPid = embeddedPostgresPid(paths.postgresData);
  return [
    {
      name: 'temporal',
      running: temporalPid !== undefined,
      pid: temporalPid,
      where: `${host}:${port} (UI http://${host}:${env.FEEDLOOP_TEMPORAL_UI_PORT}), state ${paths.temporalDb}`,
    },
    env.DATABASE_URL
      ? { name: 'postgres', running: true, where: 'external (DATABASE_URL)' }
      : { name: 'postgres', running: pgPid !== undefined, pid: pgPid, where: `127.0.0.1:${env.FEEDLOOP_PG_PORT}, data ${paths.postgresData}` },
  ];
}

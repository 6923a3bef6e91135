import fs from 'node:fs';
import path from 'node:path';
import { readEnv, statePaths, type FeedloopEnv } from './env';
import { embeddedPostgresPid, startEmbeddedPostgres, stopEmbeddedPostgres } from './postgres';
import { canConnect, freePort, readPidFile } from './processes';
import { ConfigError } from '../common/config-error';
import { findTemporalCli, startTemporalServer, stopTemporalServer } from './temporal';
import { clusterDatabaseOf, clusterStatus, findTemporalServer, readClusterState, startTemporalCluster, stopTemporalCluster, type ClusterTls } from './temporal-cluster';
import { createPool } from './pool';
import { migrate } from './migrate';

/**
 * The embedded defaults on loopback: a Temporal dev server (SQLite under the state directory)
 * and PostgreSQL (data under the state directory, unless DATABASE_URL names an external one).
 * With FEEDLOOP_TEMPORAL=cluster (`dev up --cluster`), Temporal is instead the multi-service
 * server on that PostgreSQL (infra/temporal-cluster.ts).
 * Used by `feedloop dev up|down|status`, the demo and the test suite's global setup.
 */
export interface LocalServers {
  temporalAddress: string;
  /** the dev server's UI (the cluster has none: run temporalio/ui against it) */
  temporalUiUrl?: string;
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
export async function isolatedEnv(home: string, overrides: NodeJS.ProcessEnv = {}): Promise<FeedloopEnv> {
  return readEnv({
    ...process.env,
    ...overrides,
    FEEDLOOP_HOME: home,
    TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
    FEEDLOOP_TEMPORAL_UI_PORT: String(await freePort()),
    FEEDLOOP_PG_PORT: String(await freePort()),
    DATABASE_URL: '',
    ...(overrides.DATABASE_URL ? { DATABASE_URL: overrides.DATABASE_URL } : {}),
  });
}

export interface UpOptions {
  log?: (line: string) => void;
  /** cluster mode only: TLS on the frontend (the mTLS test) */
  tls?: ClusterTls;
}

export async function upLocalServers(env: FeedloopEnv, logOrOptions: ((line: string) => void) | UpOptions = {}): Promise<LocalServers> {
  const opts = typeof logOrOptions === 'function' ? { log: logOrOptions } : logOrOptions;
  const paths = statePaths(env.FEEDLOOP_HOME);
  for (const dir of [paths.home, paths.logs, paths.run, paths.blobs]) fs.mkdirSync(dir, { recursive: true });
  const started: string[] = [];
  // Refused before anything starts: a Temporal of the other kind, or a port someone else holds.
  await checkTemporalCanStart(env);

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

  try {
    return await startTemporalAndMigrate(env, opts, databaseUrl, started);
  } catch (err) {
    // Nothing half-up: the PostgreSQL this call started stops again.
    if (started.includes('postgres')) await stopEmbeddedPostgres(paths.postgresData).catch(() => undefined);
    throw err;
  }
}

/**
 * One line saying why Temporal cannot start at TEMPORAL_ADDRESS: the dev server feedloop started
 * in this home runs and the cluster is asked for (or the other way round), or another process
 * holds the port.
 */
async function checkTemporalCanStart(env: FeedloopEnv): Promise<void> {
  const paths = statePaths(env.FEEDLOOP_HOME);
  const devServer = readPidFile(path.join(paths.run, 'temporal.pid'));
  const clusterFrontend = readClusterState(paths.run) ? readPidFile(path.join(paths.run, 'temporal-frontend.pid')) : undefined;
  if (env.FEEDLOOP_TEMPORAL === 'cluster' && devServer) {
    throw new ConfigError(`the Temporal dev server feedloop started in ${env.FEEDLOOP_HOME} runs (pid ${devServer}): stop it with \`npx feedloop dev down\` before \`dev up --cluster\`, or give the cluster another FEEDLOOP_HOME and TEMPORAL_ADDRESS`);
  }
  if (env.FEEDLOOP_TEMPORAL === 'dev' && clusterFrontend) {
    throw new ConfigError(`the Temporal cluster feedloop started in ${env.FEEDLOOP_HOME} runs (frontend pid ${clusterFrontend}): stop it with \`npx feedloop dev down\`, or use it with \`dev up --cluster\``);
  }
  const { host, port } = temporalHostPort(env.TEMPORAL_ADDRESS);
  const ours = env.FEEDLOOP_TEMPORAL === 'cluster' ? clusterFrontend : devServer;
  if (!ours && (await canConnect(host, port))) {
    throw new ConfigError(`port ${port} (TEMPORAL_ADDRESS ${env.TEMPORAL_ADDRESS}) is already in use by a process feedloop did not start: set TEMPORAL_ADDRESS to use that server, or to a free port (e.g. TEMPORAL_ADDRESS=127.0.0.1:${port + 10})`);
  }
}

async function startTemporalAndMigrate(env: FeedloopEnv, opts: UpOptions, databaseUrl: string, started: string[]): Promise<LocalServers> {
  const log = opts.log ?? (() => undefined);
  const paths = statePaths(env.FEEDLOOP_HOME);
  const cli = findTemporalCli({ explicit: env.TEMPORAL_CLI, log });
  let temporalAddress: string;
  let temporalUiUrl: string | undefined;
  if (env.FEEDLOOP_TEMPORAL === 'cluster') {
    const cluster = await startTemporalCluster({
      binaries: findTemporalServer({ log }),
      database: clusterDatabaseOf(databaseUrl),
      frontendAddress: env.TEMPORAL_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      cli,
      logDir: paths.logs,
      runDir: paths.run,
      tls: opts.tls,
    });
    started.push(...cluster.started.map((s) => `temporal-${s}`));
    temporalAddress = cluster.frontendAddress;
  } else {
    const { host, port } = temporalHostPort(env.TEMPORAL_ADDRESS);
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
    temporalAddress = temporal.address;
    temporalUiUrl = temporal.uiUrl;
  }

  const pool = createPool(databaseUrl, 1);
  try {
    const applied = await migrate(pool);
    if (applied.length) log(`applied migrations: ${applied.join(', ')}`);
  } finally {
    await pool.end();
  }
  return { temporalAddress, temporalUiUrl, databaseUrl, externalDatabase: Boolean(env.DATABASE_URL), started };
}

export async function downLocalServers(env: FeedloopEnv): Promise<string[]> {
  const paths = statePaths(env.FEEDLOOP_HOME);
  const stopped: string[] = [];
  if (await stopTemporalServer(path.join(paths.run, 'temporal.pid'))) stopped.push('temporal');
  stopped.push(...(await stopTemporalCluster(paths.run)).map((s) => `temporal-${s}`));
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
  const cluster = readClusterState(paths.run);
  const useCluster = cluster !== undefined && (env.FEEDLOOP_TEMPORAL === 'cluster' || temporalPid === undefined);
  const temporal: ServerStatus[] = useCluster
    ? clusterStatus(paths.run, cluster).map((s) => ({ name: `temporal-${s.name}`, running: s.running, pid: s.pid, where: `${s.address}${s.name === 'frontend' ? ` (namespace ${cluster.namespace}${cluster.tls ? ', TLS' : ''})` : ''}` }))
    : [
        {
          name: 'temporal',
          running: temporalPid !== undefined,
          pid: temporalPid,
          where: `${host}:${port} (UI http://${host}:${env.FEEDLOOP_TEMPORAL_UI_PORT}), state ${paths.temporalDb}`,
        },
      ];
  return [
    ...temporal,
    env.DATABASE_URL
      ? { name: 'postgres', running: true, where: 'external (DATABASE_URL)' }
      : { name: 'postgres', running: pgPid !== undefined, pid: pgPid, where: `127.0.0.1:${env.FEEDLOOP_PG_PORT}, data ${paths.postgresData}` },
  ];
}

import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { PROJECT_ROOT } from './paths';
import { canConnect, readPidFile, spawnDetached, stopProcess, tailFile, waitFor } from './processes';
import { RETENTION, TOOLS_DIR } from './temporal';
import { SEARCH_ATTRIBUTES } from '../common/search-attributes';
import { ConfigError } from '../common/config-error';

const run = promisify(execFile);

/**
 * The production Temporal server, locally: the `go.temporal.io/server` module built once into
 * the tools directory (scripts/install-temporal-server.sh), on PostgreSQL (`temporal` and
 * `temporal_visibility`, schema applied with the module's SQL tool), frontend, history,
 * matching and the internal worker each a process of its own. Its configuration is
 * infra/temporal-server/config.yaml, the same file compose.yaml and the k8s manifests use; only
 * the environment differs.
 */
export const TEMPORAL_SERVER_VERSION = 'v1.32.2';
export const TEMPORAL_SERVER_CONFIG = path.join(PROJECT_ROOT, 'infra', 'temporal-server', 'config.yaml');
export const TEMPORAL_SERVER_DYNAMIC_CONFIG = path.join(PROJECT_ROOT, 'infra', 'temporal-server', 'dynamicconfig.yaml');
export const TEMPORAL_SERVER_INSTALL_SCRIPT = path.join(PROJECT_ROOT, 'scripts', 'install-temporal-server.sh');

/** Start order: history and matching first, so the frontend finds them; the worker service last. */
export const CLUSTER_SERVICES = ['history', 'matching', 'frontend', 'worker'] as const;
export type ClusterService = (typeof CLUSTER_SERVICES)[number];

/** The ports config.yaml reads (FRONTEND_GRPC_PORT, ...) and their one-host defaults. */
export const DEFAULT_CLUSTER_PORTS = {
  frontend: { grpc: 7233, membership: 6933, http: 7243 },
  history: { grpc: 7234, membership: 6934 },
  matching: { grpc: 7235, membership: 6935 },
  worker: { grpc: 7239, membership: 6939 },
} as const;
export type ClusterPorts = { [S in ClusterService]: { grpc: number; membership: number; http?: number } };

export interface TemporalServerBinaries {
  dir: string;
  server: string;
  sqlTool: string;
  schemaDir: string;
}

/**
 * The server binaries: FEEDLOOP_TEMPORAL_SERVER_DIR, else the versioned directory in the tools
 * directory, building it with the install script when missing (minutes, once per machine).
 */
export function findTemporalServer(opts: { install?: boolean; log?: (line: string) => void } = {}): TemporalServerBinaries {
  const explicit = process.env.FEEDLOOP_TEMPORAL_SERVER_DIR;
  const dir = explicit || path.join(TOOLS_DIR, `temporal-server-${TEMPORAL_SERVER_VERSION}`);
  const bins = { dir, server: path.join(dir, 'bin', 'temporal-server'), sqlTool: path.join(dir, 'bin', 'temporal-sql-tool'), schemaDir: path.join(dir, 'schema', 'postgresql', 'v12') };
  const present = () => fs.existsSync(bins.server) && fs.existsSync(bins.sqlTool) && fs.existsSync(bins.schemaDir);
  if (present()) return bins;
  if (explicit) throw new Error(`FEEDLOOP_TEMPORAL_SERVER_DIR=${explicit} lacks bin/temporal-server, bin/temporal-sql-tool or schema/postgresql/v12`);
  if (opts.install === false) throw new Error(`Temporal server ${TEMPORAL_SERVER_VERSION} is not built: run bash scripts/install-temporal-server.sh`);
  opts.log?.(`building Temporal server ${TEMPORAL_SERVER_VERSION} with Go into ${dir} (once; ~12 min on 2 cores)`);
  try {
    execFileSync('bash', [TEMPORAL_SERVER_INSTALL_SCRIPT], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, FEEDLOOP_TOOLS_DIR: TOOLS_DIR } });
  } catch (err) {
    throw new Error(`could not build the Temporal server (scripts/install-temporal-server.sh): ${(err as Error).message}`);
  }
  if (!present()) throw new Error(`scripts/install-temporal-server.sh finished but ${dir} is incomplete`);
  return bins;
}

/** Where the server's databases live: the embedded PostgreSQL or DATABASE_URL's server. */
export interface ClusterDatabase {
  host: string;
  port: number;
  user: string;
  password: string;
}

export function clusterDatabaseOf(databaseUrl: string): ClusterDatabase {
  const url = new URL(databaseUrl);
  return { host: url.hostname, port: Number(url.port || 5432), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
}

/** TLS on the frontend: a certificate for server and client auth, and the CA that signs clients. */
export interface ClusterTls {
  certFile: string;
  keyFile: string;
  caFile: string;
  /** mTLS: clients must present a certificate the CA signed */
  requireClientAuth: boolean;
  /** the name in the frontend certificate (default localhost) */
  serverName?: string;
}

export interface ClusterOptions {
  binaries: TemporalServerBinaries;
  database: ClusterDatabase;
  /** the frontend's address, host:port */
  frontendAddress: string;
  namespace: string;
  /** the `temporal` CLI, for namespace and search-attribute registration */
  cli: string;
  logDir: string;
  runDir: string;
  tls?: ClusterTls;
  /** the other services' ports (default: see choosePorts) */
  ports?: Partial<ClusterPorts>;
}

/** What `dev status`/`dev down` need to find the cluster again: written to run/cluster.json. */
export interface ClusterState {
  version: string;
  frontendAddress: string;
  namespace: string;
  ports: ClusterPorts;
  database: { host: string; port: number };
  tls: boolean;
}

export function clusterStateFile(runDir: string): string {
  return path.join(runDir, 'cluster.json');
}

export function readClusterState(runDir: string): ClusterState | undefined {
  try {
    return JSON.parse(fs.readFileSync(clusterStateFile(runDir), 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

const pidFileOf = (runDir: string, service: ClusterService) => path.join(runDir, `temporal-${service}.pid`);
const logFileOf = (logDir: string, service: ClusterService) => path.join(logDir, `temporal-${service}.log`);

/** Whether this process can bind `port` on loopback now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * The preferred port if free, else a free one below 32768: the server stores membership ports in
 * a PostgreSQL smallint (cluster_membership.rpc_port), so an ephemeral port above it kills the
 * service at start ("out of range for type smallint").
 */
async function portOrFree(preferred: number, taken: Set<number>): Promise<number> {
  if (preferred && !taken.has(preferred) && (await bindable(preferred))) {
    taken.add(preferred);
    return preferred;
  }
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (!taken.has(port) && (await bindable(port))) {
      taken.add(port);
      return port;
    }
  }
}

/** The given ports that can still be bound. */
async function stillFree(ports: ClusterPorts): Promise<Partial<ClusterPorts>> {
  const out: Partial<ClusterPorts> = {};
  for (const s of CLUSTER_SERVICES) {
    const entry: { grpc?: number; membership?: number; http?: number } = {};
    for (const k of ['grpc', 'membership', 'http'] as const) {
      const port = ports[s][k];
      if (port !== undefined && (s !== 'frontend' || k !== 'grpc') && (await bindable(port))) entry[k] = port;
    }
    (out as Record<string, unknown>)[s] = entry;
  }
  return out;
}

/**
 * A frontend on its default port (a user's `dev up --cluster`) gets the other defaults where free;
 * any other (tests, several clusters at once) gets free ports throughout, so that two clusters
 * starting together never both take a default port they each saw free.
 */
async function choosePorts(frontendPort: number, given: Partial<ClusterPorts> = {}): Promise<ClusterPorts> {
  const taken = new Set([frontendPort]);
  const defaults = frontendPort === DEFAULT_CLUSTER_PORTS.frontend.grpc;
  const pick = async (s: ClusterService, k: 'grpc' | 'membership' | 'http') =>
    given[s]?.[k] ?? (await portOrFree(defaults ? (DEFAULT_CLUSTER_PORTS[s] as Record<string, number>)[k]! : 0, taken));
  return {
    frontend: { grpc: frontendPort, membership: await pick('frontend', 'membership'), http: await pick('frontend', 'http') },
    history: { grpc: await pick('history', 'grpc'), membership: await pick('history', 'membership') },
    matching: { grpc: await pick('matching', 'grpc'), membership: await pick('matching', 'membership') },
    worker: { grpc: await pick('worker', 'grpc'), membership: await pick('worker', 'membership') },
  };
}

/** The environment config.yaml is rendered with, for one host. */
export function clusterServerEnv(o: { database: ClusterDatabase; ports: ClusterPorts; host: string; tls?: ClusterTls }): Record<string, string> {
  const env: Record<string, string> = {
    POSTGRES_SEEDS: o.database.host,
    DB_PORT: String(o.database.port),
    POSTGRES_USER: o.database.user,
    POSTGRES_PWD: o.database.password,
    BIND_ON_IP: o.host,
    TEMPORAL_BROADCAST_ADDRESS: o.host,
    DYNAMIC_CONFIG_FILE_PATH: TEMPORAL_SERVER_DYNAMIC_CONFIG,
    FRONTEND_GRPC_PORT: String(o.ports.frontend.grpc),
    FRONTEND_MEMBERSHIP_PORT: String(o.ports.frontend.membership),
    FRONTEND_HTTP_PORT: String(o.ports.frontend.http),
  };
  for (const s of ['history', 'matching', 'worker'] as const) {
    env[`${s.toUpperCase()}_GRPC_PORT`] = String(o.ports[s].grpc);
    env[`${s.toUpperCase()}_MEMBERSHIP_PORT`] = String(o.ports[s].membership);
  }
  if (o.tls) {
    Object.assign(env, {
      TEMPORAL_TLS_FRONTEND_CERT: o.tls.certFile,
      TEMPORAL_TLS_FRONTEND_KEY: o.tls.keyFile,
      TEMPORAL_TLS_CLIENT_CA_CERT: o.tls.caFile,
      TEMPORAL_TLS_SERVER_CA_CERT: o.tls.caFile,
      TEMPORAL_TLS_REQUIRE_CLIENT_AUTH: String(o.tls.requireClientAuth),
      TEMPORAL_TLS_FRONTEND_SERVER_NAME: o.tls.serverName ?? 'localhost',
    });
  }
  return env;
}

/** Creates `temporal` and `temporal_visibility` if missing and brings their schemas to the module's latest version. */
export async function applyClusterSchema(bins: TemporalServerBinaries, db: ClusterDatabase, log: (line: string) => void = () => undefined): Promise<void> {
  const base = ['--ep', db.host, '-p', String(db.port), '-u', db.user, '--pl', 'postgres12'];
  // the password goes through the environment (SQL_PASSWORD), not argv, where `ps` shows it
  const env = { ...process.env, SQL_PASSWORD: db.password };
  for (const [database, schema] of [['temporal', 'temporal'], ['temporal_visibility', 'visibility']] as const) {
    const admin = new pg.Client({ host: db.host, port: db.port, user: db.user, password: db.password, database: 'postgres' });
    await admin.connect();
    let fresh = false;
    try {
      const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [database]);
      if (!rowCount) {
        await admin.query(`create database ${admin.escapeIdentifier(database)}`);
        fresh = true;
      }
    } finally {
      await admin.end();
    }
    const tool = (...args: string[]) => run(bins.sqlTool, [...base, '--db', database, ...args], { env });
    if (fresh) await tool('setup-schema', '-v', '0.0');
    await tool('update-schema', '-d', path.join(bins.schemaDir, schema, 'versioned'));
    if (fresh) log(`created database ${database} with the Temporal ${TEMPORAL_SERVER_VERSION} schema`);
  }
}

/** `temporal` CLI flags reaching this cluster's frontend (TLS when it has it). */
export function cliConnectionArgs(address: string, namespace: string, tls?: ClusterTls): string[] {
  const args = ['--address', address, '--namespace', namespace];
  if (tls) args.push('--tls-ca-path', tls.caFile, '--tls-cert-path', tls.certFile, '--tls-key-path', tls.keyFile, '--tls-server-name', tls.serverName ?? 'localhost');
  return args;
}

async function registerNamespace(o: ClusterOptions): Promise<void> {
  const conn = cliConnectionArgs(o.frontendAddress, o.namespace, o.tls);
  const cli = (...args: string[]) => run(o.cli, [...args, ...conn], { timeout: 30_000 });
  // The frontend answers before its namespace registry is ready: retry the first call briefly.
  await waitFor(
    `namespace ${o.namespace} on ${o.frontendAddress}`,
    async () => {
      try {
        await cli('operator', 'namespace', 'describe');
        await cli('operator', 'namespace', 'update', '--retention', RETENTION);
        return true;
      } catch (err) {
        const stderr = String((err as { stderr?: string }).stderr ?? err);
        if (!/not found|NotFound/i.test(stderr)) return false;
      }
      try {
        await cli('operator', 'namespace', 'create', '--retention', RETENTION);
      } catch {
        /* created by a concurrent start, or not ready yet: the next round tells */
      }
      return false;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  // The frontend serves namespace calls before history has joined its membership ring ("Not
  // enough hosts to serve the request"): ready is when a history call answers NotFound.
  await waitFor(
    `Temporal history behind ${o.frontendAddress}`,
    async () => {
      try {
        await cli('workflow', 'describe', '--workflow-id', 'feedloop-readiness-probe');
        return true;
      } catch (err) {
        return /not found|NotFound/i.test(String((err as { stderr?: string }).stderr ?? err));
      }
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  // With SQL visibility, search attributes belong to a namespace.
  const { stdout } = await cli('operator', 'search-attribute', 'list', '--output', 'json');
  const existing = new Set((JSON.parse(stdout) as { customAttributes?: Record<string, unknown> }).customAttributes ? Object.keys((JSON.parse(stdout) as { customAttributes: Record<string, unknown> }).customAttributes) : []);
  const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([name]) => !existing.has(name));
  if (missing.length) {
    await cli('operator', 'search-attribute', 'create', ...missing.flatMap(([name, type]) => ['--name', name, '--type', type]));
  }
}

export interface ClusterInfo {
  frontendAddress: string;
  ports: ClusterPorts;
  /** services this call started (the others were running) */
  started: ClusterService[];
}

/** Starts the services that are not running (idempotent), registers the namespace and search attributes. */
export async function startTemporalCluster(o: ClusterOptions): Promise<ClusterInfo> {
  const [host, frontendPort] = [o.frontendAddress.split(':')[0]!, Number(o.frontendAddress.split(':')[1])];
  const previous = readClusterState(o.runDir);
  const runningNow = CLUSTER_SERVICES.filter((s) => readPidFile(pidFileOf(o.runDir, s)) !== undefined);
  if (!runningNow.includes('frontend') && (await canConnect(host, frontendPort))) {
    throw new ConfigError(`port ${frontendPort} is already in use by a process feedloop did not start: set TEMPORAL_ADDRESS to use that server, or to a free port`);
  }
  // The last ports again where free: the members a restarted service finds in PostgreSQL
  // (cluster_membership) are then itself, not stale addresses it waits on.
  const ports = previous && runningNow.length ? previous.ports : await choosePorts(frontendPort, o.ports ?? (previous?.frontendAddress === o.frontendAddress ? await stillFree(previous.ports) : undefined));
  await applyClusterSchema(o.binaries, o.database);
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...clusterServerEnv({ database: o.database, ports, host, tls: o.tls }) };
  const started: ClusterService[] = [];
  for (const service of CLUSTER_SERVICES) {
    if (runningNow.includes(service)) continue;
    const pidFile = pidFileOf(o.runDir, service);
    const logFile = logFileOf(o.logDir, service);
    spawnDetached({
      command: o.binaries.server,
      args: ['--config-file', TEMPORAL_SERVER_CONFIG, '--allow-no-auth', 'start', '--service', service],
      logFile,
      pidFile,
      env,
    });
    started.push(service);
    await waitFor(`Temporal ${service} on ${host}:${ports[service].grpc}`, async () => {
      if (!readPidFile(pidFile)) throw new Error(`Temporal ${service} exited during start-up:\n${tailFile(logFile)}`);
      return canConnect(host, ports[service].grpc);
    }, { timeoutMs: 60_000, describe: () => tailFile(logFile) });
  }
  const state: ClusterState = { version: TEMPORAL_SERVER_VERSION, frontendAddress: o.frontendAddress, namespace: o.namespace, ports, database: { host: o.database.host, port: o.database.port }, tls: Boolean(o.tls) };
  fs.mkdirSync(o.runDir, { recursive: true });
  fs.writeFileSync(clusterStateFile(o.runDir), `${JSON.stringify(state, null, 2)}\n`);
  await registerNamespace(o);
  return { frontendAddress: o.frontendAddress, ports, started };
}

/** Stops one service (SIGTERM, then SIGKILL after the grace); false if it was not running. */
export async function stopClusterService(runDir: string, service: ClusterService, signal: NodeJS.Signals = 'SIGTERM'): Promise<boolean> {
  const pid = readPidFile(pidFileOf(runDir, service));
  if (!pid) return false;
  await stopProcess(pid, signal, 15_000);
  fs.rmSync(pidFileOf(runDir, service), { force: true });
  return true;
}

/** Stops every service, the frontend first (clients see it go), history last. */
export async function stopTemporalCluster(runDir: string): Promise<ClusterService[]> {
  const stopped: ClusterService[] = [];
  for (const service of ['frontend', 'worker', 'matching', 'history'] as const) {
    if (await stopClusterService(runDir, service)) stopped.push(service);
  }
  return stopped;
}

export interface ClusterServiceStatus {
  name: ClusterService;
  running: boolean;
  pid?: number;
  address: string;
}

export function clusterStatus(runDir: string, state: ClusterState): ClusterServiceStatus[] {
  const host = state.frontendAddress.split(':')[0]!;
  return CLUSTER_SERVICES.map((name) => {
    const pid = readPidFile(pidFileOf(runDir, name));
    return { name, running: pid !== undefined, pid, address: `${host}:${state.ports[name].grpc}` };
  });
}

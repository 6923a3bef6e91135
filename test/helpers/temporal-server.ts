import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../infra/paths';
import { TOOLS_DIR } from '../../infra/temporal';

/**
 * How long the first build of the multi-service Temporal server may take: about 12 minutes on
 * 2 cores, more while the rest of the suite runs beside it.
 */
export const TEMPORAL_SERVER_BUILD_MS = 30 * 60_000;

/**
 * Builds the multi-service Temporal server once (scripts/install-temporal-server.sh; at once when
 * built). upLocalServers would build it too, but synchronously, inside a test's own time limit.
 */
export async function buildTemporalServer(): Promise<void> {
  await promisify(execFile)('bash', [path.join(PROJECT_ROOT, 'scripts', 'install-temporal-server.sh')], {
    env: { ...process.env, FEEDLOOP_TOOLS_DIR: TOOLS_DIR },
    maxBuffer: 64 * 1024 * 1024,
  });
}

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { TOOLS_DIR } from '../../infra/temporal';
import { TEMPORAL_SERVER_INSTALL_SCRIPT } from '../../infra/temporal-cluster';

/**
 * How long the first build of the multi-service Temporal server may take: about 12 minutes on
 * 2 cores, more while the rest of the suite runs beside it.
 */
export const TEMPORAL_SERVER_BUILD_MS = 30 * 60_000;

/**
 * Builds the multi-service Temporal server once (at once when built), as findTemporalServer
 * would, but asynchronously: findTemporalServer builds synchronously, inside a test's own time limit.
 */
export async function buildTemporalServer(): Promise<void> {
  if (process.env.FEEDLOOP_TEMPORAL_SERVER_DIR) return; // a server built elsewhere: findTemporalServer checks it
  await promisify(execFile)('bash', [TEMPORAL_SERVER_INSTALL_SCRIPT], { env: { ...process.env, FEEDLOOP_TOOLS_DIR: TOOLS_DIR }, maxBuffer: 64 * 1024 * 1024 });
}

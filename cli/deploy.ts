import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { temporal } from '@temporalio/proto';
import { ConfigError } from '../common/config-error';
import { formatWorkerVersion } from '../common/worker-version';
import { formatTable } from '../audit/text';
import { DEFAULT_DEPLOYMENT_NAME } from '../workers/versioning';
import { withClient } from './campaign';

/**
 * `feedloop deploy status|set-current|ramp`: the operator's side of worker versioning
 * (workers/versioning.ts). Workers of a new build join the deployment beside the old ones;
 * `set-current` sends new campaigns and the next iteration of running ones to it; the old
 * version drains as its pinned iterations finish, and `status` says when it can be stopped.
 */

const VersionStatus = temporal.api.enums.v1.WorkerDeploymentVersionStatus;
const Drainage = temporal.api.enums.v1.VersionDrainageStatus;

export interface DeploymentVersionStatus {
  buildId: string;
  /** current | ramping | draining | drained | inactive */
  status: string;
  /** the server's drainage check: draining | drained; null while current or ramping, or not yet checked */
  drainage: string | null;
  /** open workflows whose current version this is, pinned and not (visibility) */
  openWorkflows: number;
  /** open pinned workflows (iterations): while any is open, its workers must keep running */
  openPinned: number;
  /** not current nor ramping and no open pinned workflow: its workers can be stopped */
  safeToStop: boolean;
  createdAt: string | null;
}

export interface DeploymentStatus {
  deploymentName: string;
  namespace: string;
  current: string | null;
  ramping: { buildId: string; percent: number } | null;
  versions: DeploymentVersionStatus[];
}

const NOT_FOUND = 5;
/** gRPC codes of a request the server refused for what it asks (e.g. ramping the current version): the operator's to fix */
const REFUSED = new Set([3 /* INVALID_ARGUMENT */, 9 /* FAILED_PRECONDITION */]);

/** A routing change the server refused, as one line. */
async function routingChange<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const e = err as { code?: number; details?: string; message?: string };
    if (e.code !== undefined && REFUSED.has(e.code)) throw new ConfigError(`${what} refused by the server: ${e.details ?? e.message}`);
    throw err;
  }
}

/** The server's name for a status, without its enum prefix, in lower case. */
function enumName(enumObj: Record<string | number, string | number>, value: unknown, prefix: string): string | null {
  const name = typeof value === 'string' ? value : typeof value === 'number' ? String(enumObj[value]) : undefined;
  if (!name || name.endsWith('UNSPECIFIED')) return null;
  return name.replace(prefix, '').toLowerCase();
}

const isoOf = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): string | null =>
  t?.seconds !== undefined && t.seconds !== null ? new Date(Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString() : null;

async function describe(client: Client, deploymentName: string) {
  try {
    const res = await client.connection.workflowService.describeWorkerDeployment({ namespace: client.options.namespace, deploymentName });
    return res.workerDeploymentInfo!;
  } catch (err) {
    if ((err as { code?: number }).code === NOT_FOUND) {
      throw new ConfigError(`no worker deployment "${deploymentName}" in namespace ${client.options.namespace}: start workers with --deployment-name/FEEDLOOP_DEPLOYMENT or --build-id/FEEDLOOP_BUILD_ID first`);
    }
    throw err;
  }
}

/** The deployment's versions, which one is current or ramping, and how far each has drained. */
export async function deploymentStatus(client: Client, deploymentName: string): Promise<DeploymentStatus> {
  const info = await describe(client, deploymentName);
  const routing = info.routingConfig;
  const count = async (query: string) => Number((await client.workflow.count(query)).count);
  const versions = await Promise.all(
    (info.versionSummaries ?? []).map(async (v): Promise<DeploymentVersionStatus> => {
      const buildId = v.deploymentVersion?.buildId ?? '';
      const status = enumName(VersionStatus as unknown as Record<string, string>, v.status, 'WORKER_DEPLOYMENT_VERSION_STATUS_') ?? 'unknown';
      const open = `TemporalWorkerDeploymentVersion = '${deploymentName}:${buildId}' AND ExecutionStatus = 'Running'`;
      const [openWorkflows, openPinned] = await Promise.all([count(open), count(`${open} AND TemporalWorkflowVersioningBehavior = 'Pinned'`)]);
      return {
        buildId,
        status,
        drainage: enumName(Drainage as unknown as Record<string, string>, v.drainageInfo?.status, 'VERSION_DRAINAGE_STATUS_'),
        openWorkflows,
        openPinned,
        safeToStop: status !== 'current' && status !== 'ramping' && openPinned === 0,
        createdAt: isoOf(v.createTime),
      };
    }),
  );
  versions.sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? ''));
  const ramping = routing?.rampingDeploymentVersion?.buildId;
  return {
    deploymentName,
    namespace: client.options.namespace,
    current: routing?.currentDeploymentVersion?.buildId ?? null,
    ramping: ramping ? { buildId: ramping, percent: routing?.rampingVersionPercentage ?? 0 } : null,
    versions,
  };
}

export function formatDeploymentStatus(s: DeploymentStatus): string {
  const lines = [
    `deployment  ${s.deploymentName} (namespace ${s.namespace})`,
    `current     ${s.current ? formatWorkerVersion({ deploymentName: s.deploymentName, buildId: s.current }) : 'none: versioned workers get no new workflows until a version is set current'}`,
  ];
  if (s.ramping) lines.push(`ramping     ${formatWorkerVersion({ deploymentName: s.deploymentName, buildId: s.ramping.buildId })} at ${s.ramping.percent}%`);
  lines.push(
    '',
    formatTable(
      ['build id', 'status', 'drainage', 'open workflows', 'open pinned', 'stop its workers', 'created'],
      s.versions.map((v) => [v.buildId, v.status, v.drainage ?? '-', String(v.openWorkflows), String(v.openPinned), v.safeToStop ? 'safe' : v.status === 'current' || v.status === 'ramping' ? 'no (it takes new work)' : 'no (pinned work open)', v.createdAt ?? '-']),
    ),
  );
  return lines.join('\n');
}

/** The build id, checked against the deployment's versions: an unknown one is a one-line user error. */
async function knownBuildId(client: Client, deploymentName: string, buildId: string): Promise<void> {
  const info = await describe(client, deploymentName);
  const known = (info.versionSummaries ?? []).map((v) => v.deploymentVersion?.buildId ?? '');
  if (!known.includes(buildId)) {
    throw new ConfigError(`unknown build id "${buildId}" in worker deployment "${deploymentName}" (its versions: ${known.join(', ') || 'none'}): start workers with --build-id ${buildId} first`);
  }
}

/** Makes a version current: new workflows and the next workflow task of auto-upgrading ones go to it. */
export async function setCurrentVersion(client: Client, deploymentName: string, buildId: string): Promise<{ previous: string | null }> {
  await knownBuildId(client, deploymentName, buildId);
  const res = await routingChange(`set-current ${buildId}`, () =>
    client.connection.workflowService.setWorkerDeploymentCurrentVersion({ namespace: client.options.namespace, deploymentName, buildId, identity: 'feedloop deploy' }),
  );
  return { previous: res.previousDeploymentVersion?.buildId || null };
}

/** Sends `percent` of new workflows (by workflow id) to a version beside the current one; 0 with no build id stops ramping. */
export async function setRampingVersion(client: Client, deploymentName: string, buildId: string | undefined, percent: number): Promise<void> {
  if (buildId !== undefined) await knownBuildId(client, deploymentName, buildId);
  await routingChange(`ramp ${buildId ?? '(none)'}`, () =>
    client.connection.workflowService.setWorkerDeploymentRampingVersion({ namespace: client.options.namespace, deploymentName, buildId: buildId ?? '', percentage: percent, identity: 'feedloop deploy' }),
  );
}

function parsePercent(v: string): number {
  const p = Number(v);
  if (v.trim() === '' || !Number.isFinite(p) || p < 0 || p > 100) throw new ConfigError(`percent must be a number from 0 to 100, got "${v}"`);
  return p;
}

const deploymentOption = (env: NodeJS.ProcessEnv = process.env) => env.FEEDLOOP_DEPLOYMENT || DEFAULT_DEPLOYMENT_NAME;

export function registerDeployCommands(program: Command): void {
  const deploy = program.command('deploy').description('upgrade workers without stopping campaigns: worker deployment versions (README "Upgrading workers mid-campaign")');
  const named = (cmd: Command) => cmd.option('--deployment-name <name>', 'the worker deployment (env FEEDLOOP_DEPLOYMENT, default feedloop)');

  named(deploy.command('status'))
    .description('the deployment\'s versions: which is current or ramping, open workflows on each, and which can be stopped')
    .option('--json', 'print JSON')
    .action(async (opts: { deploymentName?: string; json?: boolean }) => {
      await withClient(async (client) => {
        const s = await deploymentStatus(client, opts.deploymentName ?? deploymentOption());
        console.log(opts.json ? JSON.stringify(s, null, 2) : formatDeploymentStatus(s));
      });
    });

  named(deploy.command('set-current <buildId>'))
    .description('make a version current: new campaigns start on it, running campaigns start their next iteration on it')
    .action(async (buildId: string, opts: { deploymentName?: string }) => {
      const name = opts.deploymentName ?? deploymentOption();
      await withClient(async (client) => {
        const { previous } = await setCurrentVersion(client, name, buildId);
        console.log(`${formatWorkerVersion({ deploymentName: name, buildId })} is current${previous && previous !== buildId ? `; ${previous} drains as its pinned iterations finish (see \`feedloop deploy status\`)` : ''}`);
      });
    });

  named(deploy.command('ramp <buildId> <percent>'))
    .description('send a share of new workflows to a version beside the current one (0 stops the ramp)')
    .action(async (buildId: string, percentText: string, opts: { deploymentName?: string }) => {
      const percent = parsePercent(percentText);
      const name = opts.deploymentName ?? deploymentOption();
      await withClient(async (client) => {
        await setRampingVersion(client, name, percent === 0 ? undefined : buildId, percent);
        console.log(percent === 0 ? `no version ramping in ${name}` : `${formatWorkerVersion({ deploymentName: name, buildId })} ramping at ${percent}%`);
      });
    });
}

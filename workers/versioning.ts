import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, type WorkerDeploymentOptions, type WorkflowBundle } from '@temporalio/worker';
import { PROJECT_ROOT, WORKFLOWS_PATH } from '../infra/paths';

/**
 * Temporal worker versioning (Worker Deployments) for feedloop's workers. Off unless a
 * deployment or a build id is configured: then every worker of the process (workflow, CPU and
 * GPU queues) joins the one deployment version `<deployment>/<buildId>`, so a pinned iteration's
 * activities go to workers of its own version. Workflows are PINNED unless their code says
 * otherwise (the campaign workflows say AUTO_UPGRADE: workflows/versioning.ts).
 */
export interface VersioningSettings {
  deploymentName: string;
  /** unset: derived from the workflow code (defaultBuildId) */
  buildId?: string;
}

export const DEFAULT_DEPLOYMENT_NAME = 'feedloop';

/** Versioning from --deployment / FEEDLOOP_DEPLOYMENT and --build-id / FEEDLOOP_BUILD_ID; undefined when neither is set. */
export function versioningFrom(deploymentName: string | undefined, buildId: string | undefined): VersioningSettings | undefined {
  if (deploymentName === undefined && buildId === undefined) return undefined;
  return { deploymentName: deploymentName ?? DEFAULT_DEPLOYMENT_NAME, ...(buildId !== undefined ? { buildId } : {}) };
}

function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * The build id a worker takes when none is given: the package version and the first 12 hex
 * digits of the SHA-256 of the workflow bundle, e.g. "0.1.0-670eb8d7ffcf". Workers built from the
 * same workflow code share a version wherever they run (the bundle holds no local paths); any
 * change to workflow code makes a new one. A change to activities alone keeps the version.
 */
export function defaultBuildId(bundle: WorkflowBundle): string {
  if (!('code' in bundle)) throw new Error('defaultBuildId needs a workflow bundle with its code');
  return `${packageVersion()}-${createHash('sha256').update(bundle.code).digest('hex').slice(0, 12)}`;
}

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

export interface ResolvedVersion {
  deploymentName: string;
  buildId: string;
  /** the bundle the build id was derived from, when it was (the workflow worker runs this one) */
  bundle?: WorkflowBundle;
}

/** The version this process's workers join: the given build id, or the bundle's (bundled here if need be). */
export async function resolveVersion(settings: VersioningSettings, bundle: WorkflowBundle | undefined): Promise<ResolvedVersion> {
  if (settings.buildId !== undefined) return { deploymentName: settings.deploymentName, buildId: settings.buildId, ...(bundle ? { bundle } : {}) };
  const built = bundle ?? (await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quiet }));
  return { deploymentName: settings.deploymentName, buildId: defaultBuildId(built), bundle: built };
}

/** Worker options of a versioned worker: workflows without a behavior of their own are PINNED. */
export function deploymentOptions(v: ResolvedVersion): WorkerDeploymentOptions {
  return { version: { deploymentName: v.deploymentName, buildId: v.buildId }, useWorkerVersioning: true, defaultVersioningBehavior: 'PINNED' };
}

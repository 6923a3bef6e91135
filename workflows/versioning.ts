import { setWorkflowOptions, workflowInfo } from '@temporalio/workflow';
import type { WorkerVersion } from '../common/worker-version';

/**
 * Worker versioning of feedloop's workflows (effective only on versioned workers,
 * workers/versioning.ts; on unversioned workers nothing changes). A versioned worker pins every workflow
 * to the deployment version it started on, except the campaign workflows marked here: they
 * AUTO_UPGRADE, moving to the deployment's current version at their next workflow task. So an
 * iteration (a child workflow) finishes on the code it started with, and the next iteration the
 * campaign starts runs on the current code: the upgrade happens at the iteration boundary. The
 * campaign workflow's own code is replayed by the new version: a change to it needs patched().
 */
export function upgradeAtIterationBoundary(...campaignWorkflows: Array<(...args: never[]) => Promise<unknown>>): void {
  // Decided at the run's first activation: the server refuses a behavior from an unversioned
  // worker, and a run whose first task was unversioned (versioning turned on mid-campaign) keeps
  // the worker's default, PINNED, on whichever version replays it first.
  const options = () => (currentWorkerVersion() ? { versioningBehavior: 'AUTO_UPGRADE' as const } : {});
  for (const wf of campaignWorkflows) setWorkflowOptions(options, wf as (...args: unknown[]) => Promise<unknown>);
}

/** The deployment version running this workflow task (deterministic: it comes from the history); undefined when unversioned. */
export function currentWorkerVersion(): WorkerVersion | undefined {
  const v = workflowInfo().currentDeploymentVersion;
  return v?.deploymentName ? { deploymentName: v.deploymentName, buildId: v.buildId } : undefined;
}

/** A Temporal Worker Deployment version: the deployment's name and the build id (workers/versioning.ts). */
export interface WorkerVersion {
  deploymentName: string;
  buildId: string;
}

/** "feedloop/0.1.0-670eb8d7ffcf", as the audit and `feedloop deploy` print a version. */
export function formatWorkerVersion(v: WorkerVersion | null | undefined): string {
  return v ? `${v.deploymentName}/${v.buildId}` : 'unversioned';
}

-- The Temporal Worker Deployment version an iteration workflow ran on ({deploymentName, buildId};
-- workers/versioning.ts): iterations are pinned, so one version runs all of an iteration. Null
-- for unversioned workers and for iterations recorded before this column.
alter table campaign_iterations add column if not exists worker_version jsonb;

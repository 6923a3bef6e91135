import { Context } from '@temporalio/activity';
import type pg from 'pg';
import { runOfStoreId } from '../../common/campaign';
import type { PolicyBackend } from '../../common/campaign-schema';
import type { WorkerVersion } from '../../common/worker-version';

/** Campaign and iteration rows: the audit's spine. All writes are idempotent upserts. */
export function createCampaignStoreActivities(deps: { pool: pg.Pool }) {
  const workflowOf = () => {
    const exec = Context.current().info.workflowExecution;
    return { workflowId: exec?.workflowId ?? '', runId: exec?.runId ?? '' };
  };
  return {
    async registerCampaign(input: { campaignId: string; algorithm: string; config: object }): Promise<void> {
      await deps.pool.query(
        `insert into campaigns (id, algorithm, config, workflow_id) values ($1, $2, $3, $4)
         on conflict (id) do nothing`,
        [input.campaignId, input.algorithm, JSON.stringify(input.config), workflowOf().workflowId],
      );
      // Run 1 of the id (audit/runs.ts), with the Temporal run that registered it: the first
      // execution. A later run (`<id>~<n>`) was recorded by `campaign start` before it started.
      if (runOfStoreId(input.campaignId).run === 1) {
        const { workflowId, runId } = workflowOf();
        await deps.pool.query(
          `insert into campaign_runs (campaign_id, run, store_id, workflow_id, temporal_run_id, started_how, from_iteration) values ($1, 1, $1, $2, $3, 'new', 1)
           on conflict (campaign_id, run) do update set temporal_run_id = coalesce(campaign_runs.temporal_run_id, excluded.temporal_run_id)`,
          [input.campaignId, workflowId, runId || null],
        );
      }
    },

    /** `workerVersion`: the deployment version the (pinned) iteration workflow runs on; absent when unversioned */
    async startIteration(input: { campaignId: string; iteration: number; policy: PolicyBackend; workerVersion?: WorkerVersion }): Promise<void> {
      const { workflowId, runId } = workflowOf();
      await deps.pool.query(
        `insert into campaign_iterations (campaign_id, iteration, workflow_id, run_id, policy, worker_version) values ($1, $2, $3, $4, $5, $6)
         on conflict (campaign_id, iteration) do update set workflow_id = excluded.workflow_id, run_id = excluded.run_id, worker_version = excluded.worker_version`,
        [input.campaignId, input.iteration, workflowId, runId, JSON.stringify(input.policy), input.workerVersion ? JSON.stringify(input.workerVersion) : null],
      );
    },

    /** Marks a phase as reached and merges the counts it produced into the iteration row. */
    async recordPhase(input: { campaignId: string; iteration: number; phase: string; counts?: Record<string, unknown> }): Promise<void> {
      await deps.pool.query(
        `update campaign_iterations
         set phase = $3,
             counts = counts || $4::jsonb || jsonb_build_object('phases', coalesce(counts->'phases', '[]'::jsonb) ||
               case when coalesce(counts->'phases', '[]'::jsonb) ? $3 then '[]'::jsonb else jsonb_build_array($3::text) end)
         where campaign_id = $1 and iteration = $2`,
        [input.campaignId, input.iteration, input.phase, JSON.stringify(input.counts ?? {})],
      );
    },

    async finishIteration(input: {
      campaignId: string;
      iteration: number;
      status: 'completed' | 'stopped' | 'failed';
      metrics?: Record<string, number>;
      nextPolicy?: PolicyBackend;
    }): Promise<void> {
      await deps.pool.query(
        `update campaign_iterations set status = $3, metrics = coalesce($4::jsonb, metrics), next_policy = coalesce($5::jsonb, next_policy), finished_at = now()
         where campaign_id = $1 and iteration = $2`,
        [input.campaignId, input.iteration, input.status, input.metrics ? JSON.stringify(input.metrics) : null, input.nextPolicy ? JSON.stringify(input.nextPolicy) : null],
      );
    },

    /** `reason`: why a failed campaign failed (the step and the innermost message) */
    async finishCampaign(input: { campaignId: string; status: 'completed' | 'stopped' | 'failed'; reason?: string }): Promise<void> {
      await deps.pool.query(`update campaigns set status = $2, end_reason = $3, finished_at = now() where id = $1`, [input.campaignId, input.status, input.reason ?? null]);
    },
  };
}

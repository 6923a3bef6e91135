import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import type { ModelBackendConfig } from '../../../common/model-config';
import type { OpenFeedbackRequest } from '../types';
import { ilfIds } from '../types';
import { loadIlfAnnotations } from '../../../activities/datasets/ilf';
import { ilfTasks } from './tasks';
import type { ModelBackendCache } from '../../../activities/models/index';
import { feedbackPrompt, PROMPTS_VERSION } from '../../../activities/models/prompts';
import { judgedGenerations, type JudgedGeneration } from '../../../activities/store/sample-outcomes';
import { SeededRandom, shuffled } from '../../../activities/simulation/seeded-random';

/**
 * Feedback on failing programs. Every failing program (or, in the no-feedback control, every
 * program the shuffled verdicts choose) gets a request row; where the feedback comes from is the
 * campaign's choice:
 *  - dataset: the human feedback released with the ILF paper, by task;
 *  - llm: a model with the feedback prompt (an empty answer is recorded as unanswerable);
 *  - human: requests stay open for people (`feedloop feedback list|submit`).
 */
export interface OpenFeedbackRequestsInput {
  campaignId: string;
  iteration: number;
  source: 'dataset' | 'llm' | 'human';
  feedbackModel?: ModelBackendConfig;
  /** shuffled: the programs that get feedback are chosen by the tests' verdicts permuted (the no-feedback control) */
  programs?: 'failing' | 'shuffled';
}

export interface OpenFeedbackRequestsOutput {
  requested: number;
  received: number;
  unanswerable: number;
  /** open requests, for the human source (ids only) */
  open: OpenFeedbackRequest[];
}

const requestIdFor = (taskId: string, generationId: string) => `task-${taskId}-gen-${generationId}`;

/**
 * The programs that get feedback: those that failed their tests (ILF), or, for the no-feedback
 * control, as many as failed, chosen by the verdicts permuted among all the judged programs
 * (seeded by the iteration and the programs, so a retry and a rerun choose the same).
 */
export function programsForFeedback(judged: readonly JudgedGeneration[], iteration: number, programs: 'failing' | 'shuffled' = 'failing'): JudgedGeneration[] {
  if (programs === 'failing') return judged.filter((g) => !g.passed);
  const rng = new SeededRandom('ilf-shuffled-programs', iteration, judged.map((g) => [g.taskId, g.program]));
  const verdicts = shuffled(judged.map((g) => g.passed), rng);
  return judged.filter((_, i) => !verdicts[i]);
}

export function createFeedbackActivities(deps: { pool: pg.Pool; models: ModelBackendCache }) {
  async function insertFeedback(c: string, k: number, requestId: string, source: string, text: string, author: string | null, meta: object) {
    await deps.pool.query(
      `with f as (insert into feedback (campaign_id, iteration, request_id, source, author, text, meta)
                  values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing returning 1)
       update feedback_requests set status = 'answered' where campaign_id = $1 and iteration = $2 and request_id = $3`,
      [c, k, requestId, source, author, text, JSON.stringify(meta)],
    );
  }
  async function markUnanswerable(c: string, k: number, requestId: string) {
    await deps.pool.query(`update feedback_requests set status = 'unanswerable' where campaign_id = $1 and iteration = $2 and request_id = $3`, [c, k, requestId]);
  }

  return {
    async openFeedbackRequests(input: OpenFeedbackRequestsInput): Promise<OpenFeedbackRequestsOutput> {
      const { campaignId: c, iteration: k, source } = input;
      const chosen = programsForFeedback(await judgedGenerations(deps.pool, ilfIds.trainSamples(c, k)), k, input.programs);
      await deps.pool.query(
        `insert into feedback_requests (campaign_id, iteration, request_id, generation_id, task_id, source)
         select $1, $2, t.request_id, t.generation_id, t.task_id, $3
         from jsonb_to_recordset($4::jsonb) as t(request_id text, generation_id bigint, task_id text)
         on conflict do nothing`,
        [c, k, source, JSON.stringify(chosen.map((f) => ({ request_id: requestIdFor(f.taskId, f.generationId), generation_id: f.generationId, task_id: f.taskId })))],
      );
      // Only requests still open are worked on: a retried activity resumes where it stopped.
      const { rows: open } = await deps.pool.query<{ request_id: string; task_id: string; generation_id: string }>(
        `select request_id, task_id, generation_id from feedback_requests where campaign_id = $1 and iteration = $2 and status = 'open' order by request_id`,
        [c, k],
      );
      const ctx = Context.current();
      if (source === 'dataset') {
        const byTask = new Map(loadIlfAnnotations().map((a) => [String(a.taskId), a]));
        let done = 0;
        for (const r of open) {
          const ann = byTask.get(r.task_id);
          if (ann) await insertFeedback(c, k, r.request_id, 'dataset', ann.feedback, ann.workerId, { dataset: 'ilf/surge_annotations.jsonl' });
          else await markUnanswerable(c, k, r.request_id);
          // Tens of thousands of failing programs at scale: minutes, past the heartbeat timeout.
          ctx.heartbeat({ done: ++done, of: open.length });
        }
      } else if (source === 'llm') {
        if (!input.feedbackModel) throw ApplicationFailure.nonRetryable('feedback.source "llm" needs models.feedback', 'InvalidConfig');
        const backend = deps.models.get(input.feedbackModel);
        const tasks = await ilfTasks(deps.pool, c, k); // MBPP's, or the campaign's dataset file's
        const programs = new Map(chosen.map((f) => [f.generationId, f.program]));
        try {
          let done = 0;
          for (const r of open) {
            const task = tasks.get(r.task_id)!;
            const evidence = await deps.pool.query<{ outcome: string; stderr: string | null }>(
              `select r.outcome, r.evidence->>'stderr' as stderr from sandbox_items i join sandbox_results r using (batch_id, idx) where i.generation_id = $1 limit 1`,
              [r.generation_id],
            );
            const ev = evidence.rows[0];
            const result = await backend.generate(
              { prompt: feedbackPrompt(task, programs.get(r.generation_id) ?? '', `${ev?.outcome ?? ''} ${ev?.stderr ?? ''}`), n: 1, temperature: 0, maxTokens: 300, taskId: r.task_id, reference: task.code },
              { signal: ctx.cancellationSignal },
            );
            const text = result.samples[0]?.text.trim() ?? '';
            if (text) await insertFeedback(c, k, r.request_id, 'llm', text, backend.model, { prompts: PROMPTS_VERSION, ...(result.samples[0]?.meta ?? {}) });
            else await markUnanswerable(c, k, r.request_id);
            ctx.heartbeat({ done: ++done, of: open.length });
          }
        } finally {
          await backend.close();
        }
      }
      const counts = await deps.pool.query<{ status: string; n: string }>(
        `select status, count(*) as n from feedback_requests where campaign_id = $1 and iteration = $2 group by status`,
        [c, k],
      );
      const by = Object.fromEntries(counts.rows.map((r) => [r.status, Number(r.n)]));
      const stillOpen = source === 'human' ? open.map((r) => ({ requestId: r.request_id, taskId: r.task_id })) : [];
      return {
        requested: chosen.length,
        received: by.answered ?? 0,
        unanswerable: by.unanswerable ?? 0,
        open: stillOpen,
      };
    },

    /** Stores one person's feedback (validated by the workflow's update validator first). */
    async recordHumanFeedback(input: { campaignId: string; iteration: number; requestId: string; text: string; author?: string }): Promise<void> {
      await insertFeedback(input.campaignId, input.iteration, input.requestId, 'human', input.text, input.author ?? null, {});
    },

    /** At the deadline: requests nobody answered are closed, so the audit shows them. */
    async closeFeedbackRequests(input: { campaignId: string; iteration: number }): Promise<number> {
      const { rowCount } = await deps.pool.query(
        `update feedback_requests set status = 'closed' where campaign_id = $1 and iteration = $2 and status = 'open'`,
        [input.campaignId, input.iteration],
      );
      return rowCount ?? 0;
    },
  };
}

import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import type { PolicyBackend } from '../../../common/campaign-schema';
import { ilfIds } from '../types';
import { loadIlfAnnotations } from '../../../activities/datasets/ilf';
import { ilfTasks } from './tasks';
import type { SandboxLimits } from '../../../activities/sandbox/types';
import { createBatch } from '../../../activities/store/sandbox-batches';
import { batchId as batchIdOf, type BatchRef } from '../../../common/sandbox-batches';
import type { ModelBackendCache } from '../../../activities/models/index';
import { programFromOutput } from '../../../activities/models/program-text';
import { refinementPrompt } from '../../../activities/models/prompts';
import { SeededRandom, shuffled } from '../../../activities/simulation/seeded-random';

/**
 * ILF's refine step: for every failing program that received feedback, the refiner writes a
 * refinement; the refinements are stored and handed to the sandbox as batches (filter step).
 *  - dataset: the human refinements released with the ILF paper, by task;
 *  - model: any backend, prompted with the task, the failing program and the feedback.
 */
export interface RefineProgramsInput {
  campaignId: string;
  iteration: number;
  kind: 'dataset' | 'model';
  refiner?: PolicyBackend;
  limits?: Partial<SandboxLimits>;
  batchSize: number;
  /** shuffled: each program is refined with another task's feedback (the no-feedback control) */
  feedback?: 'given' | 'shuffled';
}

/**
 * The control's feedback: each request gets the feedback of another task's request of the same
 * iteration, along one cycle through all of them, seeded by the iteration and its feedback (the
 * same for every retry, which refines only what is left, and for a rerun of the control). A
 * request whose task is the only one keeps no feedback: an empty text.
 */
export function shuffledFeedback(all: readonly { request_id: string; task_id: string; feedback: string }[], iteration: number): Map<string, string> {
  const ordered = [...all].sort((a, b) => a.request_id.localeCompare(b.request_id));
  const rng = new SeededRandom('ilf-shuffled-feedback', iteration, ordered.map((r) => [r.task_id, r.feedback]));
  const cycle = shuffled(ordered, rng);
  const out = new Map<string, string>();
  cycle.forEach((r, i) => {
    let j = 1;
    while (j < cycle.length && cycle[(i + j) % cycle.length]!.task_id === r.task_id) j++;
    out.set(r.request_id, j < cycle.length ? cycle[(i + j) % cycle.length]!.feedback : '');
  });
  return out;
}

export function createRefineActivities(deps: { pool: pg.Pool; models: ModelBackendCache }) {
  return {
    async refinePrograms(input: RefineProgramsInput): Promise<{ generated: number; batchIds: string[]; batches: BatchRef }> {
      const { campaignId: c, iteration: k } = input;
      const { rows: todo } = await deps.pool.query<{ request_id: string; task_id: string; program: string; feedback: string }>(
        `select q.request_id, q.task_id, g.program, f.text as feedback
         from feedback_requests q join feedback f using (campaign_id, iteration, request_id)
         join generations g on g.id = q.generation_id
         left join refinements r using (campaign_id, iteration, request_id)
         where q.campaign_id = $1 and q.iteration = $2 and r.request_id is null
         order by q.request_id`,
        [c, k],
      );
      const tasks = await ilfTasks(deps.pool, c, k); // MBPP's, or the campaign's dataset file's
      if (input.feedback === 'shuffled') {
        const { rows: all } = await deps.pool.query<{ request_id: string; task_id: string; feedback: string }>(
          `select q.request_id, q.task_id, f.text as feedback from feedback_requests q join feedback f using (campaign_id, iteration, request_id)
           where q.campaign_id = $1 and q.iteration = $2`,
          [c, k],
        );
        const other = shuffledFeedback(all, k);
        for (const r of todo) r.feedback = other.get(r.request_id) ?? '';
      }
      const save = (requestId: string, taskId: string, refiner: string, program: string) =>
        deps.pool.query(
          `insert into refinements (campaign_id, iteration, request_id, task_id, refiner, program) values ($1, $2, $3, $4, $5, $6) on conflict do nothing`,
          [c, k, requestId, taskId, refiner, program],
        );

      if (input.kind === 'dataset') {
        const byTask = new Map(loadIlfAnnotations().map((a) => [String(a.taskId), a]));
        const ctx = Context.current();
        let done = 0;
        for (const r of todo) {
          const ann = byTask.get(r.task_id);
          if (ann) await save(r.request_id, r.task_id, 'dataset:human', ann.refinement);
          // Thousands of refinements at scale: longer than the heartbeat timeout.
          ctx.heartbeat({ done: ++done, of: todo.length });
        }
      } else {
        const refiner = input.refiner;
        if (!refiner || refiner.backend === 'replay') throw ApplicationFailure.nonRetryable('refiner.kind "model" needs a model backend in models.refiner', 'InvalidConfig');
        const backend = deps.models.get(refiner);
        const ctx = Context.current();
        try {
          let done = 0;
          for (const r of todo) {
            const task = tasks.get(r.task_id)!;
            const prompt = refinementPrompt(task, r.program, r.feedback);
            const result = await backend.generate(
              { prompt, n: 1, temperature: 0, maxTokens: 512, taskId: r.task_id, reference: task.code, sampleIndexStart: k },
              { signal: ctx.cancellationSignal },
            );
            const text = result.samples[0]?.text ?? '';
            await save(r.request_id, r.task_id, `${refiner.backend}:${backend.model}`, programFromOutput(refiner, '', text));
            ctx.heartbeat({ done: ++done, of: todo.length });
          }
        } finally {
          await backend.close();
        }
      }

      // Batches are derived from all refinements in a fixed order, so a retry recreates the same ids.
      const { rows: all } = await deps.pool.query<{ request_id: string; task_id: string; program: string }>(
        `select request_id, task_id, program from refinements where campaign_id = $1 and iteration = $2 order by request_id`,
        [c, k],
      );
      const owner = ilfIds.refinements(c, k);
      const prefix = `${owner}-`;
      const batchIds: string[] = [];
      for (let i = 0; i < all.length; i += input.batchSize) {
        const batchId = batchIdOf(prefix, batchIds.length);
        const part = all.slice(i, i + input.batchSize);
        await createBatch(
          deps.pool,
          batchId,
          owner,
          part.map((r) => ({ taskId: r.task_id, language: 'python' as const, program: r.program, tests: tasks.get(r.task_id)!.tests, limits: input.limits })),
        );
        await deps.pool.query(
          `update refinements r set batch_id = $3, idx = t.idx
           from jsonb_to_recordset($4::jsonb) as t(request_id text, idx int)
           where r.campaign_id = $1 and r.iteration = $2 and r.request_id = t.request_id`,
          [c, k, batchId, JSON.stringify(part.map((r, idx) => ({ request_id: r.request_id, idx })))],
        );
        batchIds.push(batchId);
      }
      // batchIds for iterations that run the filter's batches themselves (histories before the child).
      return { generated: all.length, batchIds, batches: { prefix, count: batchIds.length } };
    },

    /**
     * ILF's filter: a refinement is kept when it passed its tests. refiner.filter: none keeps
     * every refinement the sandbox judged, whatever its outcome; shuffled (the no-feedback
     * control) keeps as many as passed, but which ones is decided by the verdicts permuted across
     * the judged refinements. One whose run hit an infrastructure error is never kept, in any.
     */
    async markKeptRefinements(input: { campaignId: string; iteration: number; filter?: 'tests' | 'none' | 'shuffled' }): Promise<number> {
      if (input.filter === 'shuffled') await keepShuffled(deps.pool, input.campaignId, input.iteration);
      else await deps.pool.query(
        `update refinements f set kept = case when $3 then r.outcome <> 'infra_error' else r.outcome = 'passed' end
         from sandbox_results r where r.batch_id = f.batch_id and r.idx = f.idx
           and f.campaign_id = $1 and f.iteration = $2`,
        [input.campaignId, input.iteration, input.filter === 'none'],
      );
      const { rows } = await deps.pool.query<{ n: string }>(
        `select count(*) as n from refinements where campaign_id = $1 and iteration = $2 and kept`,
        [input.campaignId, input.iteration],
      );
      return Number(rows[0]?.n ?? 0);
    },
  };
}

/**
 * The shuffled filter: the judged refinements' verdicts (passed or not) permuted among them,
 * seeded by the iteration and the refinements, so as many are kept as passed, at random.
 */
async function keepShuffled(pool: pg.Pool, campaignId: string, iteration: number): Promise<void> {
  const { rows } = await pool.query<{ request_id: string; task_id: string; program: string; outcome: string }>(
    `select f.request_id, f.task_id, f.program, r.outcome from refinements f join sandbox_results r on r.batch_id = f.batch_id and r.idx = f.idx
     where f.campaign_id = $1 and f.iteration = $2 order by f.request_id`,
    [campaignId, iteration],
  );
  const judged = rows.filter((r) => r.outcome !== 'infra_error');
  const rng = new SeededRandom('ilf-shuffled-filter', iteration, judged.map((r) => [r.task_id, r.program]));
  const verdicts = shuffled(judged.map((r) => r.outcome === 'passed'), rng);
  const kept = judged.filter((_, i) => verdicts[i]).map((r) => r.request_id);
  await pool.query(
    `update refinements set kept = request_id = any($3::text[]) where campaign_id = $1 and iteration = $2 and batch_id is not null`,
    [campaignId, iteration, kept],
  );
}

import type { TemporalConnectionOptions } from '../../../infra/temporal-connection';
import { Context } from '@temporalio/activity';
import { Client, Connection, WorkflowUpdateFailedError } from '@temporalio/client';
import type pg from 'pg';
import { campaignIds } from '../../../common/campaign';
import { submitLineLabelsUpdate, type LineLabel } from '../annotation-protocol';
import { codeDataset } from '../../../activities/datasets/registry';
import { SeededRandom } from '../../../activities/simulation/seeded-random';
import { programLines } from './honeypots';

/**
 * A SIMULATED crowd for dry runs and tests: seeded annotators with set behaviours (reliable with
 * a set accuracy, a spammer flipping coins, one who marks every line correct) label their
 * assigned items and submit through the REAL update path, a Temporal client calling the waiting
 * iteration's submitLineLabels, so the iteration's validation and recording are what people
 * would meet. Annotators answer at the same time (one submission in flight each).
 *
 * What a simulated annotator is right about: honeypots' known labels; for a generated program
 * that passed its tests every line is correct, for one that failed, the lines that are not in
 * the task's reference program are wrong (the last line when every line is) — a SIMULATED
 * stand-in for the truth, which only people know.
 */
export interface SimulatedCrowdInput {
  campaignId: string;
  iteration: number;
  annotators: Array<{ name: string; behaviour: 'reliable' | 'spammer' | 'always-correct'; reliability?: number; answerShare: number }>;
  seed: number;
}

export interface SimulatedCrowdOutput {
  submitted: number;
  /** already recorded before this attempt (a retry after a worker died) */
  alreadyAnswered: number;
  skipped: number;
  /** annotation closed before they got to these */
  closedBefore: number;
}

export function simulatedTruth(program: string, passed: boolean, reference: string | undefined): boolean[] {
  const lines = programLines(program);
  if (passed) return lines.map(() => true);
  const ref = new Set(programLines(reference ?? '').map((l) => l.trim()));
  const truth = lines.map((l) => l.trim() === '' || ref.has(l.trim()));
  if (truth.every(Boolean)) truth[truth.length - 1] = false;
  return truth;
}

export function simulatedLabels(truth: readonly boolean[], a: SimulatedCrowdInput['annotators'][number], rng: SeededRandom): LineLabel[] {
  return truth.map((right) => {
    if (a.behaviour === 'always-correct') return 'correct';
    if (a.behaviour === 'spammer') return rng.next() < 0.5 ? 'correct' : 'wrong';
    const accurate = rng.next() < a.reliability!;
    return right === accurate ? 'correct' : 'wrong';
  });
}

export function createSimulatedCrowdActivities(deps: { pool: pg.Pool; temporal?: { connection: TemporalConnectionOptions; namespace: string } }) {
  return {
    async runSimulatedCrowd(input: SimulatedCrowdInput): Promise<SimulatedCrowdOutput> {
      if (!deps.temporal) throw new Error('the simulated crowd needs the worker\'s Temporal address (CpuActivityDeps.temporal)');
      const { campaignId: c, iteration: k } = input;
      const { rows } = await deps.pool.query<{ item_id: string; annotator: string; program: string; dataset: string; task_id: string; known_labels: boolean[] | null; outcome: string | null; answered: boolean }>(
        `select a.item_id, a.annotator, i.program, i.dataset, i.task_id, i.known_labels, r.outcome, (l.item_id is not null) as answered
         from crowd_assignments a join crowd_items i using (campaign_id, iteration, item_id)
         left join sandbox_items si on si.generation_id = i.generation_id left join sandbox_results r on r.batch_id = si.batch_id and r.idx = si.idx
         left join crowd_labels l on l.campaign_id = a.campaign_id and l.iteration = a.iteration and l.item_id = a.item_id and l.annotator = a.annotator
         where a.campaign_id = $1 and a.iteration = $2 order by a.annotator, a.item_id`,
        [c, k],
      );
      const connection = await Connection.connect(deps.temporal.connection);
      const client = new Client({ connection, namespace: deps.temporal.namespace });
      const handle = client.workflow.getHandle(campaignIds.iterationWorkflow(c, k));
      const ctx = Context.current();
      const out: SimulatedCrowdOutput = { submitted: 0, alreadyAnswered: 0, skipped: 0, closedBefore: 0 };
      let closed = false;
      try {
        await Promise.all(
          input.annotators.map(async (a) => {
            for (const row of rows.filter((r) => r.annotator === a.name)) {
              // Seeded per (annotator, item): a retried attempt makes the same choices and labels.
              const rng = new SeededRandom('simulated-annotator', input.seed, k, a.name, row.item_id);
              if (rng.next() >= a.answerShare) {
                out.skipped++;
                continue;
              }
              if (row.answered) {
                out.alreadyAnswered++;
                continue;
              }
              if (closed) {
                out.closedBefore++;
                continue;
              }
              const reference = codeDataset(row.dataset).tasks().find((t) => t.taskId === row.task_id)?.reference;
              const truth = row.known_labels ?? simulatedTruth(row.program, row.outcome === 'passed', reference);
              const labels = simulatedLabels(truth, a, rng);
              try {
                await handle.executeUpdate(submitLineLabelsUpdate, { args: [{ annotator: a.name, itemId: row.item_id, labels }] });
                out.submitted++;
              } catch (err) {
                const reason = err instanceof WorkflowUpdateFailedError ? (err.cause?.message ?? err.message) : String((err as Error).message ?? err);
                // Accepted by an attempt that died before it saw the answer: recorded once, not twice.
                if (/already answered/.test(reason)) out.alreadyAnswered++;
                else if (/is closed|not open/.test(reason)) {
                  closed = true;
                  out.closedBefore++;
                } else throw err;
              }
              ctx.heartbeat(out);
            }
          }),
        );
      } finally {
        await connection.close();
      }
      return out;
    },
  };
}

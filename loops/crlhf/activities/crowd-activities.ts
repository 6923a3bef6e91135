import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type pg from 'pg';
import type { SandboxLimits } from '../../../common/sandbox';
import { codeDataset, selectTasks } from '../../../activities/datasets/registry';
import { saveRewards, type RolloutReward } from '../../../activities/rewards/reward-table';
import { SeededRandom } from '../../../activities/simulation/seeded-random';
import type { SandboxRunner } from '../../../activities/sandbox/types';
import type { AggregationMethod } from '../../../activities/crowd/aggregation/index';
import type { LineVerdict } from '../../../activities/crowd/aggregation/line-consensus';
import { estimateReliability, linePosteriors, majorityLines, type ItemLabels, type LabelledItem } from './crowd-reliability';
import { goldHoneypot, mutantHoneypot, programLines, shuffled, type Honeypot } from './honeypots';

/**
 * The store side of cRLHF's annotation (CPU queue): building an iteration's items (its generated
 * programs and honeypots) and assignments, recording accepted submissions, and scoring: annotator
 * reliability, line consensus, one reward per program into the shared reward table.
 */
export const CROWD_REWARD_RULE = 'crlhf-consensus-v1';

export interface BuildItemsInput {
  campaignId: string;
  iteration: number;
  evalRunId: string;
  annotators: string[];
  k: number;
  honeypots: { dataset: 'mbpp' | 'humaneval'; split: string; mutants: number; gold: number; maxChangedLines: number };
  showTestOutput: boolean;
  limits: Partial<SandboxLimits>;
  seed: number;
}

export interface BuiltItems {
  items: Array<{ itemId: string; lineCount: number; annotators: string[] }>;
  honeypots: number;
}

export interface ScoreInput {
  campaignId: string;
  iteration: number;
  consensus: { method: 'consensus' | AggregationMethod; prior: number | 'estimated'; minLabels: number; agreementRounds: number };
  /** the SIMULATED crowd's set reliabilities, recorded beside the estimates */
  simulated?: Array<{ name: string; behaviour: string; reliability?: number }>;
}

interface ItemRow {
  item_id: string;
  task_id: string;
  dataset: string;
  prompt: string;
  program: string;
  line_count: number;
  test_output: string | null;
  is_honeypot: boolean;
  known_labels: boolean[] | null;
  generation_id: string | null;
  honeypot_kind: 'mutant' | 'gold' | null;
}

/**
 * An opaque item id (annotators cannot tell a honeypot from a generated program by it), from the
 * campaign's seed and what the item is: the same config gives the same items, assignments and
 * simulated labels in every run, so two runs' audits can be compared number for number.
 */
const itemIdOf = (...parts: unknown[]) => `item-${createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 10)}`;

export async function loadItems(pool: Pick<pg.Pool, 'query'>, campaignId: string, iteration: number): Promise<ItemRow[]> {
  const { rows } = await pool.query<ItemRow>(
    `select item_id, task_id, dataset, prompt, program, line_count, test_output, is_honeypot, known_labels, generation_id::text, honeypot_kind
     from crowd_items where campaign_id = $1 and iteration = $2 order by item_id`,
    [campaignId, iteration],
  );
  return rows;
}

export async function loadSubmissions(pool: Pick<pg.Pool, 'query'>, campaignId: string, iteration: number): Promise<ItemLabels[]> {
  const { rows } = await pool.query<{ item_id: string; annotator: string; labels: LineVerdict[] }>(
    `select item_id, annotator, labels from crowd_labels where campaign_id = $1 and iteration = $2 order by item_id, annotator`,
    [campaignId, iteration],
  );
  return rows.map((r) => ({ itemId: r.item_id, annotator: r.annotator, labels: r.labels }));
}

/** k annotators per item, spreading the load: the least-loaded first, ties broken by the seeded order. */
export function assignAnnotators(itemIds: readonly string[], annotators: readonly string[], k: number, rng: SeededRandom): Map<string, string[]> {
  const load = new Map(annotators.map((a) => [a, 0]));
  const out = new Map<string, string[]>();
  for (const itemId of itemIds) {
    const order = shuffled(annotators, rng).sort((a, b) => load.get(a)! - load.get(b)!);
    const chosen = order.slice(0, k).sort();
    for (const a of chosen) load.set(a, load.get(a)! + 1);
    out.set(itemId, chosen);
  }
  return out;
}

export function createCrowdActivities(deps: { pool: pg.Pool; runner: SandboxRunner }) {
  const { pool } = deps;
  return {
    /** Stores the iteration's items and assignments once (a retry returns what is stored). */
    async buildAnnotationItems(input: BuildItemsInput): Promise<BuiltItems> {
      const { campaignId: c, iteration: k } = input;
      let stored = await loadItems(pool, c, k);
      if (stored.length === 0) {
        const { rows: programs } = await pool.query<{ generation_id: string; task_id: string; sample_index: number; program: string; dataset: string; outcome: string | null; detail: string | null }>(
          `select g.id::text as generation_id, g.task_id, g.sample_index, g.program, e.dataset, r.outcome, r.evidence->>'detail' as detail
           from generations g join eval_runs e on e.id = g.eval_run_id
           left join sandbox_items i on i.generation_id = g.id left join sandbox_results r on r.batch_id = i.batch_id and r.idx = i.idx
           where g.eval_run_id = $1 order by g.task_id, g.sample_index`,
          [input.evalRunId],
        );
        const rows: ItemRow[] = programs
          .filter((p) => p.program.trim() !== '')
          .map((p) => {
            const ds = codeDataset(p.dataset);
            const task = ds.tasks().find((t) => t.taskId === p.task_id);
            const lines = programLines(p.program);
            return {
              item_id: itemIdOf(input.seed, k, 'program', p.task_id, p.sample_index),
              task_id: p.task_id,
              dataset: p.dataset,
              prompt: task?.prompt ?? '',
              program: lines.join('\n'),
              line_count: lines.length,
              test_output: input.showTestOutput && p.outcome ? `${p.outcome}${p.detail ? `: ${p.detail}` : ''}` : null,
              is_honeypot: false,
              known_labels: null,
              generation_id: p.generation_id,
              honeypot_kind: null,
            };
          });
        rows.push(...(await buildHoneypots(deps.runner, input)));
        const rng = new SeededRandom('crlhf-assign', input.seed, k);
        const assigned = assignAnnotators(shuffled(rows.map((r) => r.item_id), rng), input.annotators, input.k, rng);
        const client = await pool.connect();
        try {
          await client.query('begin');
          await client.query(
            `insert into crowd_items (campaign_id, iteration, item_id, task_id, dataset, prompt, program, line_count, test_output, is_honeypot, known_labels, generation_id, honeypot_kind)
             select $1, $2, t.item_id, t.task_id, t.dataset, t.prompt, t.program, t.line_count, t.test_output, t.is_honeypot, t.known_labels, t.generation_id, t.honeypot_kind
             from jsonb_to_recordset($3::jsonb) as t(item_id text, task_id text, dataset text, prompt text, program text, line_count int, test_output text, is_honeypot bool, known_labels jsonb, generation_id bigint, honeypot_kind text)
             on conflict do nothing`,
            [c, k, JSON.stringify(rows)],
          );
          await client.query(
            `insert into crowd_assignments (campaign_id, iteration, item_id, annotator)
             select $1, $2, t.item_id, t.annotator from jsonb_to_recordset($3::jsonb) as t(item_id text, annotator text) on conflict do nothing`,
            [c, k, JSON.stringify([...assigned].flatMap(([itemId, as]) => as.map((annotator) => ({ item_id: itemId, annotator }))))],
          );
          await client.query('commit');
        } catch (err) {
          await client.query('rollback');
          throw err;
        } finally {
          client.release();
        }
        stored = await loadItems(pool, c, k);
      }
      const { rows: assignments } = await pool.query<{ item_id: string; annotator: string }>(
        'select item_id, annotator from crowd_assignments where campaign_id = $1 and iteration = $2 order by item_id, annotator',
        [c, k],
      );
      return {
        items: stored.map((r) => ({ itemId: r.item_id, lineCount: r.line_count, annotators: assignments.filter((a) => a.item_id === r.item_id).map((a) => a.annotator) })),
        honeypots: stored.filter((r) => r.is_honeypot).length,
      };
    },

    /** One accepted submission; idempotent on (campaign, iteration, item, annotator). */
    async recordLineLabels(input: { campaignId: string; iteration: number; itemId: string; annotator: string; labels: LineVerdict[]; notes: Record<string, string> }): Promise<void> {
      await pool.query(
        `insert into crowd_labels (campaign_id, iteration, item_id, annotator, labels, notes) values ($1, $2, $3, $4, $5, $6) on conflict do nothing`,
        [input.campaignId, input.iteration, input.itemId, input.annotator, JSON.stringify(input.labels), JSON.stringify(input.notes)],
      );
    },

    /**
     * Reliability per annotator, consensus per item, and one reward per generated program into
     * the reward table (source crowd-consensus): P(all lines correct), or UNSCORABLE with the
     * reason when fewer than minLabels annotators answered. Honeypots are scored with the
     * reliabilities estimated WITHOUT their own known labels, so their accuracy is a fair check.
     */
    async scoreCrowdLabels(input: ScoreInput): Promise<{ scored: number; unscorable: number }> {
      const { campaignId: c, iteration: k, consensus } = input;
      const rows = await loadItems(pool, c, k);
      const submissions = await loadSubmissions(pool, c, k);
      const items: LabelledItem[] = rows.map((r) => ({ itemId: r.item_id, lineCount: r.line_count, knownCorrect: r.known_labels ?? undefined }));
      const options = { agreementRounds: consensus.agreementRounds };
      const estimate = estimateReliability(items, submissions, options);
      const reliability = estimate.annotators;
      // the paper's prior (0.5), or the estimated share of correct lines
      const priorOf = (e: typeof estimate) => (consensus.prior === 'estimated' ? e.shareCorrect : consensus.prior);
      const p = new Map([...reliability].map(([a, r]) => [a, r.estimated]));
      const posteriors = linePosteriors(consensus.method, submissions, p, priorOf(estimate));
      const majority = majorityLines(submissions);
      const ctx = Context.current();
      // Held-out posteriors of each honeypot: reliabilities re-estimated with its known labels hidden.
      for (const r of rows.filter((x) => x.is_honeypot)) {
        const held = estimateReliability(items, submissions, { ...options, hide: new Set([r.item_id]) });
        const heldP = new Map([...held.annotators].map(([a, x]) => [a, x.estimated]));
        const mine = submissions.filter((s) => s.itemId === r.item_id);
        const post = linePosteriors(consensus.method, consensus.method === 'consensus' ? mine : submissions, heldP, priorOf(held)).get(r.item_id);
        if (post) posteriors.set(r.item_id, post);
        ctx.heartbeat();
      }
      const setOf = new Map((input.simulated ?? []).map((a) => [a.name, a.behaviour === 'spammer' ? 0.5 : a.reliability]));
      const consensusRows = rows.map((r) => {
        const n = submissions.filter((s) => s.itemId === r.item_id).length;
        const post = posteriors.get(r.item_id);
        const scorable = n >= consensus.minLabels && post !== undefined;
        return {
          item_id: r.item_id,
          status: scorable ? 'scored' : 'unscorable',
          labels_count: n,
          line_posteriors: post ?? null,
          majority: majority.get(r.item_id) ?? null,
          score: scorable ? post.reduce((prod, x) => prod * x, 1) : null,
          reason: scorable ? null : `${n} of the ${consensus.minLabels} label(s) needed`,
        };
      });
      await pool.query(
        `insert into crowd_reliability (campaign_id, iteration, annotator, estimated, honeypot_lines, honeypot_accuracy, set_reliability, labelled_items)
         select $1, $2, t.annotator, t.estimated, t.honeypot_lines, t.honeypot_accuracy, t.set_reliability, t.labelled_items
         from jsonb_to_recordset($3::jsonb) as t(annotator text, estimated float8, honeypot_lines int, honeypot_accuracy float8, set_reliability float8, labelled_items int)
         on conflict do nothing`,
        [
          c,
          k,
          JSON.stringify(
            [...reliability.values()].map((r) => ({
              annotator: r.annotator,
              estimated: r.estimated,
              honeypot_lines: r.honeypotLines,
              honeypot_accuracy: r.honeypotAccuracy ?? null,
              set_reliability: setOf.get(r.annotator) ?? null,
              labelled_items: r.labelledItems,
            })),
          ),
        ],
      );
      await pool.query(
        `insert into crowd_consensus (campaign_id, iteration, item_id, method, rule, status, labels_count, line_posteriors, majority, score, reason)
         select $1, $2, t.item_id, $3, $4, t.status, t.labels_count, t.line_posteriors, t.majority, t.score, t.reason
         from jsonb_to_recordset($5::jsonb) as t(item_id text, status text, labels_count int, line_posteriors jsonb, majority jsonb, score float8, reason text)
         on conflict do nothing`,
        [c, k, consensus.method, CROWD_REWARD_RULE, JSON.stringify(consensusRows)],
      );
      const rewards: RolloutReward[] = rows
        .filter((r) => !r.is_honeypot && r.generation_id !== null)
        .map((r) => {
          const row = consensusRows.find((x) => x.item_id === r.item_id)!;
          return {
            generationId: r.generation_id!,
            taskId: r.task_id,
            reward: row.status === 'scored' ? { status: 'scored' as const, value: row.score! } : { status: 'unscorable' as const, reason: `too few crowd labels: ${row.reason!}` },
          };
        });
      await saveRewards(pool, { campaignId: c, iteration: k, source: 'crowd-consensus', scoredBy: `${CROWD_REWARD_RULE}/${consensus.method}` }, rewards);
      return { scored: rewards.filter((r) => r.reward.status === 'scored').length, unscorable: rewards.filter((r) => r.reward.status === 'unscorable').length };
    },
  };
}

/** The iteration's honeypots: mutants and untouched gold programs of seeded tasks, sandbox-confirmed. */
async function buildHoneypots(runner: SandboxRunner, input: BuildItemsInput): Promise<ItemRow[]> {
  const { iteration: k, honeypots: h } = input;
  const ds = codeDataset(h.dataset);
  if (ds.language !== 'python') throw new Error(`honeypots need a Python dataset, got ${h.dataset}`);
  const rng = new SeededRandom('crlhf-honeypots', input.seed, k);
  const pool = shuffled(selectTasks({ dataset: h.dataset, split: h.split }).filter((t) => t.reference), rng);
  const out: ItemRow[] = [];
  const ctx = Context.current();
  let mutants = 0;
  let golds = 0;
  for (const task of pool) {
    if (mutants >= h.mutants && golds >= h.gold) break;
    const source = { gold: task.reference!, tests: task.tests, language: 'python' as const };
    const wantsMutant = mutants < h.mutants && (golds >= h.gold || rng.next() < h.mutants / (h.mutants + h.gold));
    const hp: Honeypot | undefined = wantsMutant ? await mutantHoneypot(runner, source, input.limits, rng, h.maxChangedLines) : await goldHoneypot(runner, source, input.limits);
    ctx.heartbeat({ mutants, golds });
    if (!hp) continue;
    if (hp.kind === 'mutant') mutants++;
    else golds++;
    out.push({
      item_id: itemIdOf(input.seed, k, 'honeypot', task.taskId, hp.kind),
      task_id: task.taskId,
      dataset: h.dataset,
      prompt: task.prompt,
      program: hp.program,
      line_count: hp.knownCorrect.length,
      test_output: input.showTestOutput ? hp.testOutput : null,
      is_honeypot: true,
      known_labels: hp.knownCorrect,
      generation_id: null,
      honeypot_kind: hp.kind,
    });
  }
  if (mutants < h.mutants || golds < h.gold) {
    throw new Error(`only ${mutants} mutant and ${golds} gold honeypot(s) could be confirmed from ${h.dataset}/${h.split} (asked for ${h.mutants} and ${h.gold})`);
  }
  return out;
}

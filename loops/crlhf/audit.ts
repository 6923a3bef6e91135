import type pg from 'pg';
import { krippendorffAlphaNominal } from '../../activities/crowd/aggregation/agreement';
import {
  AUDIT_SCHEMA_VERSION,
  backendLabel,
  campaignHead,
  CampaignNotFoundError,
  countMismatches,
  executionRef,
  inSnapshot,
  iterationHead,
  jobNumbers,
  num,
  obj,
  readCampaignRow,
  readEvalRuns,
  readIterationRows,
  readTrainingJobs,
  rows,
  str,
  trainingJobAudit,
  type BackendLabel,
  type CampaignHead,
  type EvalRunRow,
  type ExecutionRef,
  type IterationHead,
  type Queryable,
  type TrainingJobAudit,
} from '../../audit/core';
import { crlhfEvalDatasets, crlhfIds } from './types';

/**
 * The audit of a cRLHF campaign, recounted from the rows: per iteration the programs, the
 * annotation items and honeypots, the labels, each annotator's honeypot accuracy beside their
 * estimated (and, for a SIMULATED crowd, set) reliability, Krippendorff's alpha, the consensus and
 * majority vote's accuracy on honeypot lines, the consensus score distribution, the rewards, the
 * policy-update job and pass@k on HumanEval and MBPP beside the start.
 */
export interface CrlhfConfigSummary {
  description: string | null;
  iterations: number | null;
  policy: BackendLabel | null;
  train: { dataset: string | null; split: string | null; maxTasks: number | null };
  k: number | null;
  annotators: string[];
  simulatedCrowd: boolean;
  method: string | null;
  minLabels: number | null;
  honeypots: { mutants: number | null; gold: number | null };
  trainerCommand: string[];
}

export interface AnnotatorAudit {
  annotator: string;
  assigned: number;
  answered: number;
  honeypotLines: number;
  /** share of their honeypot line labels that match the known ones; null without any */
  honeypotAccuracy: number | null;
  /** the reliability p_i the consensus used */
  estimated: number | null;
  /** SIMULATED crowd only: the reliability it was set to (spammer 0.5; null for always-correct) */
  set: number | null;
  behaviour: string | null;
}

export interface EvaluationAudit {
  status: string;
  policy: BackendLabel;
  /** per dataset: pass@k keyed by k */
  perDataset: Record<string, { tasks: number | null; samples: number | null; passAtK: Record<string, number> }>;
  /** pass@k keyed by k: the mean over the datasets */
  passAtK: Record<string, number>;
}

export interface CrlhfIterationAudit extends IterationHead {
  rollouts: { generated: number; tasks: number; passed: number };
  annotation: { items: number; honeypots: { mutant: number; gold: number }; assignments: number; labels: number; itemsWithMinLabels: number; notes: number };
  annotators: AnnotatorAudit[];
  agreement: { krippendorffAlpha: number | null; lines: number };
  /** line-level accuracy on honeypots (held-out consensus vs crowd-kit majority vote) */
  honeypotAccuracy: { lines: number; consensus: number | null; majorityVote: number | null };
  consensus: { method: string | null; rule: string | null; scored: number; unscorable: number; meanScore: number | null; histogram: number[] };
  rewards: { scored: number; unscorable: number; meanReward: number | null; source: string | null };
  policyUpdate: TrainingJobAudit | null;
  evaluation: EvaluationAudit | null;
  history: { iteration: ExecutionRef; evaluation: ExecutionRef | null; rollouts: ExecutionRef | null };
  recordedCounts: Record<string, unknown>;
  mismatches: string[];
}

export interface CrlhfCampaignAudit {
  schemaVersion: typeof AUDIT_SCHEMA_VERSION;
  campaign: CampaignHead<CrlhfConfigSummary>;
  iterations: CrlhfIterationAudit[];
  start: { evaluation: EvaluationAudit; history: ExecutionRef | null } | null;
}

const HISTOGRAM_BINS = 10;

function summarizeConfig(raw: unknown): CrlhfConfigSummary {
  const c = obj(raw);
  const train = obj(obj(c.dataset).train);
  const crowd = obj(c.crowd);
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  return {
    description: str(c.description),
    iterations: num(c.iterations),
    policy: obj(c.models).policy ? backendLabel(obj(c.models).policy) : null,
    train: { dataset: str(train.dataset), split: str(train.split), maxTasks: num(train.maxTasks) },
    k: num(crowd.k),
    annotators: strings(crowd.annotators),
    simulatedCrowd: crowd.simulated !== undefined && crowd.simulated !== null,
    method: str(obj(c.consensus).method),
    minLabels: num(obj(c.consensus).minLabels),
    honeypots: { mutants: num(obj(c.honeypots).mutants), gold: num(obj(c.honeypots).gold) },
    trainerCommand: strings(obj(c.trainer).command),
  };
}

const passAtKOf = (metrics: unknown) =>
  Object.fromEntries(Object.entries(obj(obj(metrics).passAtK)).filter(([, v]) => num(v) !== null).sort(([a], [b]) => Number(a) - Number(b))) as Record<string, number>;

function evaluationAudit(parts: ReadonlyArray<[string, EvalRunRow | undefined]>): EvaluationAudit | null {
  const present = parts.filter((p): p is [string, EvalRunRow] => p[1] !== undefined);
  if (present.length === 0) return null;
  const perDataset: EvaluationAudit['perDataset'] = {};
  for (const [dataset, run] of present) perDataset[dataset] = { tasks: num(obj(run.metrics).tasks), samples: num(obj(run.metrics).samples), passAtK: passAtKOf(run.metrics) };
  const complete = present.length === parts.length && present.every(([, r]) => r.status === 'completed');
  const passAtK: Record<string, number> = {};
  if (complete) {
    for (const k of Object.keys(perDataset[present[0]![0]]!.passAtK)) passAtK[k] = present.reduce((s, [d]) => s + (perDataset[d]!.passAtK[k] ?? 0), 0) / present.length;
  }
  return { status: complete ? 'completed' : (present.find(([, r]) => r.status !== 'completed')?.[1].status ?? 'running'), policy: backendLabel(present[0]![1].policy), perDataset, passAtK };
}

export async function loadCrlhfAudit(pool: pg.Pool, campaignId: string, opts: { iteration?: number } = {}): Promise<CrlhfCampaignAudit> {
  return inSnapshot(pool, (db) => readAudit(db, campaignId, opts));
}

async function readAudit(db: Queryable, campaignId: string, opts: { iteration?: number }): Promise<CrlhfCampaignAudit> {
  const campaign = await readCampaignRow(db, campaignId);
  if (campaign.algorithm !== 'crlhf') throw new CampaignNotFoundError(`campaign "${campaignId}" is an ${campaign.algorithm} campaign, not crlhf`);
  const iterationRows = await readIterationRows(db, campaignId, opts.iteration);
  const ks = iterationRows.map((r) => r.iteration);
  const evalDatasets = crlhfEvalDatasets((campaign.config as { dataset?: { eval?: unknown } } | null)?.dataset?.eval);
  const evalPart = (k: number) => evalDatasets.map((d) => crlhfIds.datasetEvaluation(campaignId, k, d));
  const rolloutIds = ks.map((k) => crlhfIds.rollouts(campaignId, k));
  const runById = await readEvalRuns(db, [...rolloutIds, ...ks.flatMap(evalPart), ...evalPart(0), ...ks.map((k) => crlhfIds.evaluation(campaignId, k))]);
  const generated = await rows<{ eval_run_id: string; n: string; tasks: string; passed: string }>(
    db,
    `select g.eval_run_id, count(*) as n, count(distinct g.task_id) as tasks, count(*) filter (where r.outcome = 'passed') as passed
     from generations g left join sandbox_items i on i.generation_id = g.id left join sandbox_results r on r.batch_id = i.batch_id and r.idx = i.idx
     where g.eval_run_id = any($1) group by g.eval_run_id`,
    [rolloutIds],
  );
  const items = await rows<{ iteration: number; item_id: string; is_honeypot: boolean; honeypot_kind: string | null; known_labels: boolean[] | null }>(
    db,
    'select iteration, item_id, is_honeypot, honeypot_kind, known_labels from crowd_items where campaign_id = $1 and iteration = any($2)',
    [campaignId, ks],
  );
  const assignments = await rows<{ iteration: number; item_id: string; annotator: string }>(db, 'select iteration, item_id, annotator from crowd_assignments where campaign_id = $1 and iteration = any($2)', [campaignId, ks]);
  const labels = await rows<{ iteration: number; item_id: string; annotator: string; labels: string[]; notes: unknown }>(
    db,
    'select iteration, item_id, annotator, labels, notes from crowd_labels where campaign_id = $1 and iteration = any($2) order by item_id, annotator',
    [campaignId, ks],
  );
  const reliability = await rows<{ iteration: number; annotator: string; estimated: number; set_reliability: number | null }>(
    db,
    'select iteration, annotator, estimated, set_reliability from crowd_reliability where campaign_id = $1 and iteration = any($2)',
    [campaignId, ks],
  );
  const consensus = await rows<{ iteration: number; item_id: string; method: string; rule: string; status: string; line_posteriors: number[] | null; majority: boolean[] | null; score: number | null }>(
    db,
    'select iteration, item_id, method, rule, status, line_posteriors, majority, score from crowd_consensus where campaign_id = $1 and iteration = any($2)',
    [campaignId, ks],
  );
  const rewards = await rows<{ iteration: number; scored: string; unscorable: string; mean: number | null; source: string | null }>(
    db,
    `select iteration, count(*) filter (where status = 'scored') as scored, count(*) filter (where status = 'unscorable') as unscorable,
            (avg(reward::numeric) filter (where status = 'scored'))::float8 as mean, min(source) as source
     from rollout_rewards where campaign_id = $1 and iteration = any($2) group by iteration`,
    [campaignId, ks],
  );
  const jobs = await readTrainingJobs(db, campaignId);
  const config = summarizeConfig(campaign.config);
  const simulatedAnnotators = obj(obj(obj(campaign.config).crowd).simulated).annotators;
  const behaviours = new Map((Array.isArray(simulatedAnnotators) ? simulatedAnnotators : []).map((a) => [str(obj(a).name) ?? '', str(obj(a).behaviour)]));

  const iterations = iterationRows.map((row): CrlhfIterationAudit => {
    const k = row.iteration;
    const gen = generated.find((g) => g.eval_run_id === crlhfIds.rollouts(campaignId, k));
    const its = items.filter((i) => i.iteration === k);
    const honeypotById = new Map(its.filter((i) => i.is_honeypot).map((i) => [i.item_id, i.known_labels ?? []]));
    const asg = assignments.filter((a) => a.iteration === k);
    const lab = labels.filter((l) => l.iteration === k);
    const con = consensus.filter((c) => c.iteration === k);
    const annotatorNames = [...new Set([...config.annotators, ...asg.map((a) => a.annotator)])];
    const annotators = annotatorNames.map((a): AnnotatorAudit => {
      let hpLines = 0;
      let hpRight = 0;
      for (const l of lab.filter((x) => x.annotator === a)) {
        const known = honeypotById.get(l.item_id);
        if (!known) continue;
        l.labels.forEach((v, i) => {
          hpLines++;
          if ((v === 'correct') === known[i]) hpRight++;
        });
      }
      const rel = reliability.find((r) => r.iteration === k && r.annotator === a);
      return {
        annotator: a,
        assigned: asg.filter((x) => x.annotator === a).length,
        answered: lab.filter((x) => x.annotator === a).length,
        honeypotLines: hpLines,
        honeypotAccuracy: hpLines > 0 ? hpRight / hpLines : null,
        estimated: rel?.estimated ?? null,
        set: rel?.set_reliability ?? null,
        behaviour: behaviours.get(a) ?? null,
      };
    });
    const alpha = krippendorffAlphaNominal(lab.flatMap((l) => l.labels.map((label, i) => ({ task: `${l.item_id}:${i + 1}`, worker: l.annotator, label }))));
    let hpLines = 0;
    let consensusRight = 0;
    let majorityRight = 0;
    for (const c of con) {
      const known = honeypotById.get(c.item_id);
      if (!known || !c.line_posteriors || !c.majority) continue;
      known.forEach((truth, i) => {
        hpLines++;
        if (c.line_posteriors![i]! >= 0.5 === truth) consensusRight++;
        if (c.majority![i] === truth) majorityRight++;
      });
    }
    const programScores = con.filter((c) => !honeypotById.has(c.item_id) && c.status === 'scored').map((c) => c.score!);
    const histogram = Array.from({ length: HISTOGRAM_BINS }, () => 0);
    for (const s of programScores) histogram[Math.min(HISTOGRAM_BINS - 1, Math.floor(s * HISTOGRAM_BINS))]!++;
    const rw = rewards.find((r) => r.iteration === k);
    const updateJob = jobs.find((j) => j.id === crlhfIds.policyUpdateJob(campaignId, k));
    const evaluation = evaluationAudit(evalDatasets.map((d) => [d, runById.get(crlhfIds.datasetEvaluation(campaignId, k, d))]));
    const it: CrlhfIterationAudit = {
      ...iterationHead(row),
      rollouts: { generated: Number(gen?.n ?? 0), tasks: Number(gen?.tasks ?? 0), passed: Number(gen?.passed ?? 0) },
      annotation: {
        items: its.length,
        honeypots: { mutant: its.filter((i) => i.honeypot_kind === 'mutant').length, gold: its.filter((i) => i.honeypot_kind === 'gold').length },
        assignments: asg.length,
        labels: lab.length,
        itemsWithMinLabels: its.filter((i) => lab.filter((l) => l.item_id === i.item_id).length >= (config.minLabels ?? 1)).length,
        notes: lab.reduce((n, l) => n + Object.keys(obj(l.notes)).length, 0),
      },
      annotators,
      agreement: { krippendorffAlpha: Number.isFinite(alpha) ? alpha : null, lines: lab.reduce((n, l) => n + l.labels.length, 0) },
      honeypotAccuracy: { lines: hpLines, consensus: hpLines ? consensusRight / hpLines : null, majorityVote: hpLines ? majorityRight / hpLines : null },
      consensus: {
        method: con[0]?.method ?? null,
        rule: con[0]?.rule ?? null,
        scored: con.filter((c) => !honeypotById.has(c.item_id) && c.status === 'scored').length,
        unscorable: con.filter((c) => !honeypotById.has(c.item_id) && c.status === 'unscorable').length,
        meanScore: programScores.length ? programScores.reduce((s, x) => s + x, 0) / programScores.length : null,
        histogram,
      },
      rewards: { scored: Number(rw?.scored ?? 0), unscorable: Number(rw?.unscorable ?? 0), meanReward: rw?.mean ?? null, source: rw?.source ?? null },
      policyUpdate: updateJob ? trainingJobAudit(updateJob) : null,
      evaluation,
      history: {
        iteration: { workflowId: row.workflow_id, runId: row.run_id || null },
        evaluation: executionRef(runById.get(crlhfIds.evaluation(campaignId, k)) ?? runById.get(crlhfIds.datasetEvaluation(campaignId, k, evalDatasets[0]!))),
        rollouts: executionRef(runById.get(crlhfIds.rollouts(campaignId, k))),
      },
      recordedCounts: obj(row.counts),
      mismatches: [],
    };
    it.mismatches = countMismatches(it.recordedCounts, [
      ['rollouts', it.rollouts.generated],
      ['items', it.annotation.items],
      ['honeypots', it.annotation.honeypots.mutant + it.annotation.honeypots.gold],
      ['assignments', it.annotation.assignments],
      ['labels', it.annotation.labels],
      ['itemsWithQuorum', it.annotation.itemsWithMinLabels],
      ['rewardsScored', it.rewards.scored],
      ['rewardsUnscorable', it.rewards.unscorable],
      ['policyUpdateRollouts', it.policyUpdate?.examples ?? null],
    ]);
    return it;
  });

  const simulatedJobs = iterations.some((i) => i.policyUpdate?.weights === 'simulated');
  const simulatedParts = [...(config.policy?.simulated ? ['models.policy'] : []), ...(config.simulatedCrowd ? ['crowd'] : []), ...(simulatedJobs ? ['trainer'] : [])];
  const start = evaluationAudit(evalDatasets.map((d) => [d, runById.get(crlhfIds.datasetEvaluation(campaignId, 0, d))]));
  return {
    schemaVersion: AUDIT_SCHEMA_VERSION,
    campaign: campaignHead(campaign, config, simulatedParts),
    iterations,
    start: start ? { evaluation: start, history: executionRef(runById.get(crlhfIds.datasetEvaluation(campaignId, 0, evalDatasets[0]!))) } : null,
  };
}

/** The numbers two runs with identical results must share (no ids, times, hosts or labels). */
export function crlhfAuditNumbers(audit: CrlhfCampaignAudit) {
  return {
    iterations: audit.iterations.map((it) => ({
      iteration: it.iteration,
      rollouts: { ...it.rollouts },
      annotation: { ...it.annotation, honeypots: { ...it.annotation.honeypots } },
      annotators: it.annotators.map((a) => ({ annotator: a.annotator, assigned: a.assigned, answered: a.answered, honeypotLines: a.honeypotLines, honeypotAccuracy: a.honeypotAccuracy, estimated: a.estimated })),
      agreement: { ...it.agreement },
      honeypotAccuracy: { ...it.honeypotAccuracy },
      consensus: { ...it.consensus, histogram: [...it.consensus.histogram] },
      rewards: { scored: it.rewards.scored, unscorable: it.rewards.unscorable, meanReward: it.rewards.meanReward },
      policyUpdate: jobNumbers(it.policyUpdate),
      evaluation: it.evaluation ? { passAtK: { ...it.evaluation.passAtK }, perDataset: it.evaluation.perDataset } : null,
    })),
    ...(audit.start ? { start: { passAtK: { ...audit.start.evaluation.passAtK }, perDataset: audit.start.evaluation.perDataset } } : {}),
  };
}

/** One labelled program, for the report's examples: its lines, each with the labels and the posterior. */
export interface CrowdExample {
  iteration: number;
  itemId: string;
  taskId: string;
  honeypot: boolean;
  status: string | null;
  score: number | null;
  lines: Array<{ text: string; posterior: number | null; known: boolean | null; labels: Record<string, string> }>;
}

export async function listCrowdExamples(pool: Queryable, campaignId: string, opts: { perIteration?: number } = {}): Promise<CrowdExample[]> {
  const found = await rows<{ iteration: number; item_id: string; task_id: string; is_honeypot: boolean; program: string; known_labels: boolean[] | null; status: string | null; score: number | null; line_posteriors: number[] | null }>(
    pool,
    `select * from (
       select i.iteration, i.item_id, i.task_id, i.is_honeypot, i.program, i.known_labels, c.status, c.score, c.line_posteriors,
              row_number() over (partition by i.iteration order by i.is_honeypot desc, i.item_id) as nth
       from crowd_items i left join crowd_consensus c using (campaign_id, iteration, item_id) where i.campaign_id = $1
     ) x where nth <= $2 order by iteration, nth`,
    [campaignId, opts.perIteration ?? 4],
  );
  const labelRows = await rows<{ iteration: number; item_id: string; annotator: string; labels: string[] }>(
    pool,
    'select iteration, item_id, annotator, labels from crowd_labels where campaign_id = $1 and item_id = any($2)',
    [campaignId, found.map((f) => f.item_id)],
  );
  return found.map((r) => ({
    iteration: r.iteration,
    itemId: r.item_id,
    taskId: r.task_id,
    honeypot: r.is_honeypot,
    status: r.status,
    score: r.score,
    lines: r.program.split('\n').map((text, i) => ({
      text,
      posterior: r.line_posteriors?.[i] ?? null,
      known: r.known_labels?.[i] ?? null,
      labels: Object.fromEntries(labelRows.filter((l) => l.iteration === r.iteration && l.item_id === r.item_id).map((l) => [l.annotator, l.labels[i] ?? '?'])),
    })),
  }));
}

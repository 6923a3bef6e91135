import { ApplicationFailure, allHandlersFinished, condition, executeChild, setHandler } from '@temporalio/workflow';
import type { createCrowdActivities } from './activities/crowd-activities';
import { datasetSelection } from '../../common/dataset-file';
import type { createSimulatedCrowdActivities } from './activities/simulated-crowd';
import { durationMs } from '../../common/duration';
import { capability } from '../../workflows/activities';
import { campaignChildOptions, runCampaign, type CampaignInput, type CampaignLoop } from '../../workflows/campaign';
import { evaluationWorkflow } from '../../workflows/evaluation';
import { IterationSkeleton } from '../../workflows/iteration';
import { updateAndEvaluate } from '../../workflows/update-and-evaluate';
import { sampleAndTest } from '../../workflows/sample-and-test';
import type { CodeDatasetName } from '../../common/datasets';
import type { TaskQueues } from '../../common/task-queues';
import {
  annotationProgressQuery,
  closeAnnotationUpdate,
  extendAnnotationDeadlineUpdate,
  LINE_LABELS,
  MAX_NOTE_CHARS,
  submitLineLabelsUpdate,
  type AnnotationProgress,
  type LineLabelSubmission,
} from './annotation-protocol';
import type { CrlhfCampaignConfig } from './config';
import {
  crlhfEvalDatasets,
  crlhfIds,
  type AnnotationItemRef,
  type CrlhfCarry,
  type CrlhfEvaluationInput,
  type CrlhfEvaluationSummary,
  type CrlhfIterationCounts,
  type CrlhfIterationInput,
  type CrlhfIterationResult,
  type CrlhfPhase,
} from './types';

/**
 * cRLHF (Wong & Tan 2025) on the loop kernel. One iteration, as its own workflow:
 *   generate -> test (evidence, not reward) -> annotate (programs + honeypots, k annotators each,
 *   a durable wait with deadline and quorum; submissions are updates this workflow validates)
 *   -> consensus (reliability from honeypots and agreement, line posteriors, one reward per
 *   program; too few labels: unscorable) -> the shared policy update -> evaluate (pass@k on
 *   HumanEval and MBPP).
 */
function crlhfActivities(config: CrlhfCampaignConfig) {
  const q = config.taskQueues;
  return {
    crowd: capability<typeof createCrowdActivities>('longCpu', q.cpu, config.timeouts),
    crowdStore: capability<typeof createCrowdActivities>('store', q.cpu, config.timeouts),
    simulatedCrowd: capability<typeof createSimulatedCrowdActivities>('longCpu', q.cpu, config.timeouts),
  };
}

const sandboxLimits = (config: CrlhfCampaignConfig) => ({ cpuMs: config.sandbox.cpuMs, wallMs: config.sandbox.wallMs, memoryMb: config.sandbox.memoryMb });

/** Evaluates a policy on the test tasks of HumanEval and MBPP, one kernel evaluation child each. */
export async function crlhfEvaluationWorkflow(input: CrlhfEvaluationInput): Promise<CrlhfEvaluationSummary> {
  const summaries = await Promise.all(
    input.perDataset.map((e) =>
      executeChild(evaluationWorkflow, {
        ...campaignChildOptions({ campaignId: input.campaignId, algorithm: input.algorithm, iteration: input.iteration, workflowId: e.evalRunId }),
        args: [e],
      }),
    ),
  );
  const passAtK: Record<string, number> = {};
  const perDataset: CrlhfEvaluationSummary['perDataset'] = {};
  summaries.forEach((s, i) => {
    const dataset = input.perDataset[i]!.dataset;
    perDataset[dataset] = s;
    for (const [k, v] of Object.entries(s.passAtK)) passAtK[`${dataset}/pass@${k}`] = v;
  });
  for (const k of Object.keys(summaries[0]?.passAtK ?? {})) {
    passAtK[`pass@${k}`] = summaries.reduce((sum, s) => sum + (s.passAtK[k] ?? 0), 0) / summaries.length;
  }
  return { passAtK, perDataset };
}

function crlhfEvaluationInput(campaignId: string, config: CrlhfCampaignConfig, policy: CrlhfCarry['policy'], k: number, taskQueues: TaskQueues): CrlhfEvaluationInput {
  const { eval: e } = config.sampling;
  return {
    campaignId,
    iteration: k,
    algorithm: 'crlhf',
    perDataset: crlhfEvalDatasets(config.dataset.eval).map((dataset) => ({
      dataset: dataset as CodeDatasetName,
      split: 'test',
      maxTasks: config.dataset.eval[dataset as CodeDatasetName]?.maxTasks,
      policy,
      samplesPerTask: e.n,
      ks: e.ks,
      sampling: { temperature: e.temperature, topP: e.topP, maxTokens: e.maxTokens, seed: config.seed * 1000 + 500 + k },
      limits: sandboxLimits(config),
      batchSize: config.sandbox.batchSize,
      evalRunId: crlhfIds.datasetEvaluation(campaignId, k, dataset),
      taskQueues,
      timeouts: config.timeouts,
    })),
  };
}

export async function crlhfIterationWorkflow(input: CrlhfIterationInput): Promise<CrlhfIterationResult> {
  const { campaignId: c, iteration: k, config } = input;
  const crowd = crlhfActivities(config);
  const it = new IterationSkeleton<CrlhfPhase, CrlhfIterationCounts>({
    campaignId: c,
    iteration: k,
    algorithm: 'crlhf',
    firstPhase: 'generate',
    policy: input.policy,
    config,
    recordsStop: () => true,
  });
  const { acts, counts } = it;
  let policy = input.policy;
  let policyCheckpoint = input.policyCheckpoint;
  const stopped = () => it.stopped({ nextPolicy: policy, policyCheckpoint });

  // The annotation state: items and who is assigned (registered once they are stored), answers.
  const items = new Map<string, AnnotationItemRef>();
  const answered = new Map<string, Set<string>>(); // itemId -> annotators who answered
  let registered = false;
  let open = false;
  let closedReason: string | undefined;
  let deadlineMs = 0;
  let deadlineVersion = 0;

  const assignedTo = (annotator: string) => [...items.values()].filter((i) => i.annotators.includes(annotator));
  const remainingFor = (annotator: string) => assignedTo(annotator).filter((i) => !answered.get(i.itemId)?.has(annotator)).length;
  const labelsIn = () => [...answered.values()].reduce((n, s) => n + s.size, 0);
  const assignments = () => [...items.values()].reduce((n, i) => n + i.annotators.length, 0);
  const progress = (): AnnotationProgress => ({
    open,
    deadline: deadlineMs > 0 ? new Date(deadlineMs).toISOString() : '',
    quorum: config.crowd.quorum,
    items: items.size,
    perAnnotator: config.crowd.annotators.map((annotator) => {
      const mine = assignedTo(annotator);
      return { annotator, assigned: mine.length, answered: mine.filter((i) => answered.get(i.itemId)?.has(annotator)).length };
    }),
  });

  /** Why a submission cannot be accepted, or undefined when it can. */
  const submissionProblem = (s: LineLabelSubmission): string | undefined => {
    if (!open) return closedReason ? `annotation of ${c} iteration ${k} is closed (${closedReason})` : `annotation of ${c} iteration ${k} is not open`;
    if (typeof s?.annotator !== 'string' || typeof s.itemId !== 'string') return 'a submission names its annotator and itemId';
    const item = items.get(s.itemId);
    if (!item) return `unknown item ${s.itemId}`;
    if (!item.annotators.includes(s.annotator)) return `item ${s.itemId} is not assigned to ${s.annotator}`;
    if (answered.get(s.itemId)?.has(s.annotator)) return `item ${s.itemId} was already answered by ${s.annotator}`;
    if (!Array.isArray(s.labels) || s.labels.length !== item.lineCount) {
      return `item ${s.itemId} has ${item.lineCount} line(s): labels must list one per line, got ${Array.isArray(s.labels) ? s.labels.length : 'none'}`;
    }
    const bad = s.labels.findIndex((l) => !(LINE_LABELS as readonly unknown[]).includes(l));
    if (bad >= 0) return `label of line ${bad + 1} must be "correct" or "wrong", got ${JSON.stringify(s.labels[bad] ?? null)}`;
    if (s.notes !== undefined) {
      if (s.notes === null || typeof s.notes !== 'object' || Array.isArray(s.notes)) return 'notes must map line numbers to text';
      for (const [line, note] of Object.entries(s.notes)) {
        const n = Number(line);
        if (!/^\d+$/.test(line) || n < 1 || n > item.lineCount) return `note on line ${line}: item ${s.itemId} has lines 1..${item.lineCount}`;
        if (typeof note !== 'string') return `note on line ${line} must be text`;
        if (note.length > MAX_NOTE_CHARS) return `note on line ${line} is ${note.length} characters, at most ${MAX_NOTE_CHARS}`;
      }
    }
    return undefined;
  };

  setHandler(
    submitLineLabelsUpdate,
    async (s) => {
      await condition(() => registered);
      // Checked again here: two submissions of one answer can both pass their validators.
      const problem = submissionProblem(s);
      if (problem) throw ApplicationFailure.nonRetryable(problem, 'LabelsRejected');
      const set = answered.get(s.itemId) ?? new Set<string>();
      answered.set(s.itemId, set);
      set.add(s.annotator);
      await crowd.crowdStore.recordLineLabels({ campaignId: c, iteration: k, itemId: s.itemId, annotator: s.annotator, labels: s.labels, notes: s.notes ?? {} });
      return { itemId: s.itemId, accepted: true as const, remaining: remainingFor(s.annotator) };
    },
    {
      // A rejected submission never enters the history: the reason goes back to the sender.
      validator: (s) => {
        const problem = registered || closedReason ? submissionProblem(s) : undefined;
        if (problem) throw new Error(problem);
      },
    },
  );
  setHandler(
    extendAnnotationDeadlineUpdate,
    (e) => {
      deadlineMs = Date.parse(e.deadline);
      deadlineVersion++;
      return progress();
    },
    {
      validator: (e) => {
        if (!open) throw new Error(closedReason ? `annotation of ${c} iteration ${k} is closed (${closedReason})` : `annotation of ${c} iteration ${k} is not open`);
        if (typeof e?.reason !== 'string' || e.reason.trim() === '') throw new Error('say why the deadline moves (reason)');
        const t = typeof e.deadline === 'string' && /^\d{4}-\d\d-\d\dT/.test(e.deadline) ? Date.parse(e.deadline) : NaN;
        if (!Number.isFinite(t)) throw new Error(`deadline must be an ISO time like 2026-12-04T10:00:00Z, got ${JSON.stringify(e.deadline ?? null)}`);
        if (t <= deadlineMs) throw new Error(`deadline ${e.deadline} is not later than the current one, ${new Date(deadlineMs).toISOString()}`);
      },
    },
  );
  setHandler(
    closeAnnotationUpdate,
    (r) => {
      open = false;
      closedReason = r.reason.trim();
      return progress();
    },
    {
      validator: (r) => {
        if (!open) throw new Error(closedReason ? `annotation of ${c} iteration ${k} is already closed (${closedReason})` : `annotation of ${c} iteration ${k} is not open`);
        if (typeof r?.reason !== 'string' || r.reason.trim() === '') throw new Error('say why annotation closes early (reason)');
      },
    },
  );
  setHandler(annotationProgressQuery, progress);

  await it.start();

  // 1-2. Programs for the training tasks, tested in the sandbox (evidence for annotators and the audit).
  const rollouts = crlhfIds.rollouts(c, k);
  const { rollout } = config.sampling;
  const { generated } = await sampleAndTest(
    acts,
    {
      runId: rollouts,
      // a dataset file's split of the train.split's name, or the built-in dataset
      ...datasetSelection(config.dataset.file, config.dataset.train.dataset),
      split: config.dataset.train.split,
      maxTasks: config.dataset.train.maxTasks,
      policy,
      samplesPerTask: rollout.n,
      ks: [1],
      sampling: { temperature: rollout.temperature, topP: rollout.topP, maxTokens: rollout.maxTokens, seed: config.seed * 1000 + k },
      limits: sandboxLimits(config),
      batchSize: config.sandbox.batchSize,
    },
    (p) => it.enter(p),
  );
  if (it.stopRequested) return stopped();

  // 3. Annotation: the programs and honeypots (confirmed in the sandbox: still the test step)
  //    become items, each assigned to k annotators; the phase is `annotate` once they can answer.
  const built = await crowd.crowd.buildAnnotationItems({
    campaignId: c,
    iteration: k,
    evalRunId: rollouts,
    annotators: config.crowd.annotators,
    k: config.crowd.k,
    honeypots: config.honeypots,
    showTestOutput: config.crowd.showTestOutput,
    limits: sandboxLimits(config),
    seed: config.seed,
  });
  for (const item of built.items) items.set(item.itemId, item);
  counts.items = built.items.length;
  counts.honeypots = built.honeypots;
  counts.assignments = assignments();
  deadlineMs = Date.now() + durationMs(config.crowd.deadline);
  open = true;
  registered = true;
  await it.enter('annotate', { rollouts: generated.samples });
  it.waitingFor = () => (open ? `crowd labels: ${labelsIn()} of ${assignments()} answered, deadline ${new Date(deadlineMs).toISOString()}` : undefined);

  // A SIMULATED crowd answers through the same update path people use.
  // true once a simulated crowd has sent all it will send (people never are)
  let simulatorDone = false;
  const simulator = config.crowd.simulated
    ? crowd.simulatedCrowd.runSimulatedCrowd({ campaignId: c, iteration: k, annotators: config.crowd.simulated.annotators, seed: config.seed }).finally(() => void (simulatorDone = true))
    : undefined;
  const allAnswered = () => labelsIn() === assignments();
  // A stop request ends the wait too: annotation can take days, and stop means "after this step".
  while (open && !allAnswered() && !simulatorDone && !it.stopRequested) {
    const left = deadlineMs - Date.now();
    if (left <= 0) break;
    const version = deadlineVersion;
    await condition(() => !open || allAnswered() || simulatorDone || it.stopRequested || deadlineVersion !== version, left);
  }
  if (open) closedReason = allAnswered() ? 'every assignment answered' : simulatorDone ? 'the simulated crowd finished' : it.stopRequested ? 'the campaign was stopped' : 'deadline passed';
  open = false;
  // a simulated crowd still sending is told "closed" and ends; accepted submissions finish recording
  await simulator;
  await condition(allHandlersFinished);
  counts.labels = labelsIn();
  counts.itemsWithQuorum = [...items.keys()].filter((id) => (answered.get(id)?.size ?? 0) >= config.consensus.minLabels).length;
  const share = items.size === 0 ? 1 : counts.itemsWithQuorum / items.size;
  if (it.stopRequested) return stopped();
  if (share < config.crowd.quorum && config.crowd.onDeadline === 'fail') {
    await acts.campaignStore.finishIteration({ campaignId: c, iteration: k, status: 'failed' });
    throw ApplicationFailure.nonRetryable(
      `annotation closed (${closedReason}) with ${counts.itemsWithQuorum}/${items.size} items labelled by ${config.consensus.minLabels}+ annotators, below the quorum of ${config.crowd.quorum}`,
      'AnnotationQuorumNotMet',
    );
  }

  // 4. Reliability and consensus: one reward per program, unscorable when too few labels.
  await it.enter('consensus', { items: counts.items, honeypots: counts.honeypots, assignments: counts.assignments, labels: counts.labels, itemsWithQuorum: counts.itemsWithQuorum });
  const scored = await crowd.crowd.scoreCrowdLabels({ campaignId: c, iteration: k, consensus: config.consensus, simulated: config.crowd.simulated?.annotators });
  if (it.stopRequested) return stopped();

  // 5. The shared policy update on the programs with a consensus reward, then
  // 6. pass@k on HumanEval and MBPP test tasks.
  const { update, evaluation } = await updateAndEvaluate(it, {
    campaignId: c,
    iteration: k,
    algorithm: 'crlhf',
    config,
    policy,
    policyCheckpoint,
    rewards: scored,
    evaluation: { workflow: crlhfEvaluationWorkflow, workflowId: crlhfIds.evaluation(c, k), input: (updated, queues) => crlhfEvaluationInput(c, config, updated, k, queues) },
  });
  policy = update.nextPolicy;
  policyCheckpoint = update.policyCheckpoint;
  if (!evaluation) return stopped();
  await it.completed(evaluation.passAtK, policy);
  return { iteration: k, completed: true, lastPhase: 'evaluate', counts, passAtK: evaluation.passAtK, nextPolicy: policy, policyCheckpoint };
}

const crlhfCampaign: CampaignLoop<CrlhfCampaignConfig, CrlhfCarry, CrlhfIterationResult, typeof crlhfIterationWorkflow> = {
  algorithm: 'crlhf',
  metricName: 'pass@1',
  iterationWorkflow: crlhfIterationWorkflow,
  initialCarry: (config) => ({ policy: config.models.policy }),
  legacyCarry: (s) => ({ policy: s.policy as CrlhfCarry['policy'], policyCheckpoint: s.policyCheckpoint as string | undefined }),
  iterationArgs: ({ campaignId, iteration, config, carry }) => [{ campaignId, iteration, config, ...carry }],
  afterIteration: (_carry, result) => ({ policy: result.nextPolicy, policyCheckpoint: result.policyCheckpoint }),
  metric: (result) => result.passAtK?.['pass@1'],
  target: (config) => config.stopping.targetPassAt1,
  startEvaluation: ({ campaignId, config, carry }) => ({
    workflow: crlhfEvaluationWorkflow,
    // iteration 0's child is <campaign>/iteration-0/evaluation; its datasets' runs sit below it
    args: [crlhfEvaluationInput(campaignId, config, carry.policy, 0, config.taskQueues)],
    metric: (summary) => (summary as CrlhfEvaluationSummary).passAtK['pass@1'],
  }),
};

export async function crlhfCampaignWorkflow(input: CampaignInput<CrlhfCampaignConfig, CrlhfCarry>) {
  return runCampaign(crlhfCampaign, input);
}

import { ApplicationFailure, patched, workflowInfo } from '@temporalio/workflow';
import type { createStoredGroundingActivities } from './activities/stored-grounding';
import { datasetSelection, fileDatasetName } from '../../common/dataset-file';
import type { createTrainedDiscriminatorActivities } from './activities/trained-discriminator';
import { DEFAULT_TASK_QUEUES, type TaskQueues } from '../../common/task-queues';
import type { ActivityTimeoutsInput, PolicyBackend } from '../../common/campaign-schema';
import { capability, hostRoute, kernelActivities, modelCapability, type KernelActivities } from '../../workflows/activities';
import { onHostOrFallback } from '../../workflows/host-fallback';
import { runCampaign, type CampaignInput, type CampaignLoop } from '../../workflows/campaign';
import { setPhase } from '../../workflows/evaluation';
import { IterationSkeleton } from '../../workflows/iteration';
import { updateAndEvaluate } from '../../workflows/update-and-evaluate';
import { modelPlacement, onCheckpointHost } from '../../workflows/routing';
import { runBatches, sampleAndTest } from '../../workflows/sample-and-test';
import { runBatchesInChild } from '../../workflows/sandbox-batches';
import type { RlcfCampaignConfig } from './config';
import {
  RLCF_SPLITS,
  rlcfIds,
  type DiscriminatorModelRef,
  type DiscriminatorSpec,
  type JavaRunMetrics,
  type RlcfCarry,
  type RlcfEvaluationInput,
  type RlcfEvaluationSummary,
  type RlcfIterationCounts,
  type RlcfIterationResult,
  type RlcfPhase,
} from './types';

/**
 * RLCF (Jain et al. 2023) on the loop kernel. One iteration, as its own workflow:
 *   generate Java for MBJP training tasks -> compile -> static checks -> tests -> discriminator
 *   (programs that compiled) -> reward -> policy update (PPO-style, KL to the reference)
 *   -> evaluate (MBJP eval tasks, MathQA-Java: compile, static-check pass and execution rates, pass@k).
 * Every stage reads and writes stored rows (loops/rlcf/activities/stored-grounding.ts):
 * the history holds eval-run ids and counts only.
 */
const SANDBOX_BATCH = 50;

/** What one RLCF iteration starts from (its campaign's config and carry). */
export interface RlcfIterationInput {
  campaignId: string;
  iteration: number;
  config: RlcfCampaignConfig;
  policy: PolicyBackend;
  policyCheckpoint?: string;
  discriminator?: DiscriminatorModelRef;
}


/** The trained discriminator's scoring falls back from its host's queue like evaluation generation does. */
export const RLCF_HOST_FALLBACK_PATCH = 'rlcf-host-fallback';

function rlcfActivities(queues: TaskQueues, timeouts: ActivityTimeoutsInput | undefined) {
  return {
    /** compile and static checks: the sandbox's compile server, CPU queue */
    grounding: capability<typeof createStoredGroundingActivities>('sandbox', queues.cpu, timeouts),
    /** the discriminator where its model runs: an LLM by its backend, the trained classifier on GPU workers, the simulated one on CPU workers */
    discriminator: (spec: DiscriminatorSpec) =>
      modelCapability<typeof createStoredGroundingActivities>(
        spec.kind === 'llm' ? modelPlacement(queues, spec.model) : spec.kind === 'trained' ? { taskQueue: queues.gpu, kind: 'gpu' } : { taskQueue: queues.cpu, kind: 'longCpu' },
        timeouts,
      ),
    /** the trained discriminator's reward_model job */
    training: capability<typeof createTrainedDiscriminatorActivities>('training', queues.gpu, timeouts),
    store: capability<typeof createStoredGroundingActivities>('store', queues.cpu, timeouts),
  };
}

/** The discriminator spec the activities take, from the config and (trained) the last export (the model travels, never a key). */
export function discriminatorSpec(config: RlcfCampaignConfig, trained?: DiscriminatorModelRef): DiscriminatorSpec {
  const d = config.grounding.discriminator;
  if (d.kind === 'simulated') return { kind: 'simulated', seed: config.seed, unscorableShare: d.unscorableShare };
  if (d.kind === 'llm' && config.models.discriminator) return { kind: 'llm', model: config.models.discriminator, scoring: d.scoring, topLogprobs: d.topLogprobs, maxTokens: d.maxTokens };
  if (d.kind === 'trained' && trained) return { kind: 'trained', model: trained.backend, jobId: trained.jobId };
  throw ApplicationFailure.nonRetryable(`grounding.discriminator.kind "${d.kind}" has no model to run`, 'InvalidConfig');
}

/** Whether iteration k trains the `trained` discriminator: always the first, then every `retrainEvery`. */
export function trainsDiscriminator(k: number, retrainEvery: number): boolean {
  return k === 1 || (retrainEvery > 0 && (k - 1) % retrainEvery === 0);
}

/** Compiles and statically checks a stored run's programs (grounding stages a and b). */
async function compileAndCheck(rlcf: ReturnType<typeof rlcfActivities>, evalRunId: string, infraRetries: number, signature: boolean) {
  const compiled = await rlcf.grounding.compileRollouts({ evalRunId, infraRetries });
  const checked = await rlcf.store.staticCheckRollouts({ evalRunId, signature });
  return { compiled, checked };
}

/** One dataset of an evaluation: sample, test (kernel), compile and check, summarize. */
async function evaluateDataset(acts: KernelActivities, rlcf: ReturnType<typeof rlcfActivities>, input: RlcfEvaluationInput, dataset: 'mbjp' | 'mathqa-java'): Promise<JavaRunMetrics> {
  // The evaluation's own workflow id is <campaign>/iteration-<k>/evaluation (rlcfIds.evalRun).
  const runId = `${workflowInfo().workflowId}/${dataset}`;
  const selection =
    dataset === 'mbjp'
      ? input.mbjp.dataset
        ? { dataset: input.mbjp.dataset, split: 'test', maxTasks: input.mbjp.maxTasks, requireReference: true }
        : { dataset, split: 'test', taskRange: input.mbjp.taskRange, maxTasks: input.mbjp.maxTasks, requireReference: true }
      : { dataset, split: 'test', maxTasks: input.mathqaTasks };
  const { generated } = await sampleAndTest(acts, { ...selection, runId, policy: input.policy, samplesPerTask: input.samplesPerTask, ks: input.ks, sampling: input.sampling, batchSize: SANDBOX_BATCH }, (p) =>
    setPhase(`${dataset}:${p}`),
  );
  if (generated.samples === 0) throw ApplicationFailure.nonRetryable(`the policy produced no programs for ${dataset}`, 'InvalidConfig');
  setPhase(`${dataset}:compile`);
  await compileAndCheck(rlcf, runId, input.infraRetries, input.signature);
  setPhase(`${dataset}:summarize`);
  return rlcf.store.summarizeJavaRun({ evalRunId: runId, ks: input.ks });
}

/**
 * Evaluates a policy on MBJP's eval tasks and a MathQA-Java subset with the Java metrics. The
 * history holds ids, counts and the metrics only.
 */
export async function rlcfEvaluationWorkflow(input: RlcfEvaluationInput): Promise<RlcfEvaluationSummary> {
  if (!Number.isInteger(input.samplesPerTask) || input.samplesPerTask < 1) throw ApplicationFailure.nonRetryable('samplesPerTask: must be an integer >= 1', 'InvalidConfig');
  const queues = { ...DEFAULT_TASK_QUEUES, ...input.taskQueues };
  const acts = kernelActivities(queues, input.timeouts);
  const rlcf = rlcfActivities(queues, input.timeouts);
  const mbjp = await evaluateDataset(acts, rlcf, input, 'mbjp');
  const mathqa = input.mathqaTasks > 0 ? await evaluateDataset(acts, rlcf, input, 'mathqa-java') : null;
  setPhase('done');
  return { mbjp, mathqa };
}

function rlcfEvaluationInput(config: RlcfCampaignConfig, policy: RlcfCarry['policy'], k: number, taskQueues: TaskQueues): RlcfEvaluationInput {
  const { eval: evalSampling } = config.sampling;
  return {
    policy,
    mbjp: {
      taskRange: [...RLCF_SPLITS[config.dataset.split].eval],
      ...(config.dataset.maxEvalTasks ? { maxTasks: config.dataset.maxEvalTasks } : {}),
      ...(config.dataset.file ? { dataset: fileDatasetName(config.dataset.file) } : {}),
    },
    mathqaTasks: config.dataset.mathqaEvalTasks,
    samplesPerTask: evalSampling.n,
    ks: config.sampling.ks,
    sampling: { temperature: evalSampling.temperature, topP: evalSampling.topP, maxTokens: evalSampling.maxTokens, seed: config.seed * 1000 + 500 + k },
    infraRetries: config.grounding.infraRetries,
    signature: config.grounding.staticChecks.signature,
    taskQueues,
    timeouts: config.timeouts,
  };
}

/** The label rewards are stored with: which discriminator and rubric scored them. */
function scoredBy(spec: DiscriminatorSpec): string {
  if (spec.kind === 'simulated') return 'compiler-feedback+simulated-discriminator (SIMULATED)';
  if (spec.kind === 'trained') return `compiler-feedback+trained-discriminator:${spec.model.modelDir}`;
  const m = spec.model;
  return `compiler-feedback+${m.backend}:${m.backend === 'onnx' ? m.modelDir : m.model} (rlcf-discriminator-v1)`;
}

export async function rlcfIterationWorkflow(input: RlcfIterationInput): Promise<RlcfIterationResult> {
  const { campaignId: c, iteration: k, config } = input;
  const it = new IterationSkeleton<RlcfPhase, RlcfIterationCounts>({ campaignId: c, iteration: k, algorithm: 'rlcf', firstPhase: 'generate', policy: input.policy, config, recordsStop: () => true });
  const { acts, counts } = it;
  const rlcf = rlcfActivities(config.taskQueues, config.timeouts);
  let policy = input.policy;
  let policyCheckpoint = input.policyCheckpoint;
  let discriminator = input.discriminator;
  const stopped = () => it.stopped({ nextPolicy: policy, policyCheckpoint, discriminator });
  const { grounding } = config;

  await it.start();

  // 1. Rollouts: Java programs for MBJP training tasks that have a usable reference.
  await it.enter('generate');
  const rollouts = rlcfIds.rollouts(c, k);
  const { rollout } = config.sampling;
  const selection = datasetSelection(config.dataset.file, 'mbjp', [...RLCF_SPLITS[config.dataset.split].train]);
  await acts.evalStore.createEvalRun({ evalRunId: rollouts, dataset: selection.dataset, split: 'train', policy, samplesPerTask: rollout.n, ks: [] });
  const generated = await acts.generation(policy).generateSamples({
    evalRunId: rollouts,
    ...selection,
    split: 'train',
    requireReference: true,
    ...(config.dataset.rolloutTasks ? { maxTasks: config.dataset.rolloutTasks } : {}),
    policy,
    samplesPerTask: rollout.n,
    sampling: { temperature: rollout.temperature, topP: rollout.topP, maxTokens: rollout.maxTokens, seed: config.seed * 1000 + k },
  });
  if (it.stopRequested) return stopped();

  // 2a. Compiles: javac -Xlint:all in the sandbox.
  await it.enter('compile', { rollouts: generated.samples });
  const compiled = await rlcf.grounding.compileRollouts({ evalRunId: rollouts, infraRetries: grounding.infraRetries });
  if (it.stopRequested) return stopped();

  // 2b. Static checks (rlcf-static-checks-v1) on the programs that compiled.
  await it.enter('static_checks', { compiled: compiled.compiled, compileErrors: compiled.compileErrors });
  const checked = await rlcf.store.staticCheckRollouts({ evalRunId: rollouts, signature: grounding.staticChecks.signature });
  if (it.stopRequested) return stopped();

  // 2c. Runs and passes: the MBJP tests in the sandbox (typed outcomes; infra errors never scored).
  await it.enter('tests', { staticPassed: checked.staticPassed, staticFailed: checked.staticChecked - checked.staticPassed });
  // Histories recorded before the batches ran in a child scheduled each batch here.
  if (patched('rlcf-tests-batches-in-child')) {
    await runBatchesInChild({ kind: 'generations', evalRunId: rollouts, batchSize: SANDBOX_BATCH }, acts.placement);
  } else {
    const batchIds = await acts.evalStore.prepareTestBatches({ evalRunId: rollouts, batchSize: SANDBOX_BATCH });
    await runBatches(acts, batchIds);
  }
  if (it.stopRequested) return stopped();

  // 2d. The discriminator compares each program that compiled with the task's reference.
  await it.enter('discriminator', { tested: generated.samples });
  let judgeQueues: TaskQueues = config.taskQueues;
  const d = grounding.discriminator;
  if (d.kind === 'trained' && (trainsDiscriminator(k, d.retrainEvery) || !discriminator)) {
    // The GAN-like step: the classifier learns references (1) from compiled rollouts so far (0), then scores on the host that trained it.
    const trained = await rlcf.training.trainDiscriminator({ campaignId: c, iteration: k, trainer: config.trainer, discriminator: { baseModel: d.baseModel, hyperparameters: d.hyperparameters, scoring: d.scoring } });
    discriminator = trained.discriminator;
    counts.discriminatorExamples = trained.examples;
    judgeQueues = onCheckpointHost(config.taskQueues, trained.workerTaskQueue);
  }
  const spec = discriminatorSpec(config, discriminator);
  // The classifier on the host that trained it, or after the host schedule-to-start timeout on any
  // GPU host (histories from before replay without); the activity records where it ran and why.
  const onHost = spec.kind === 'trained' && judgeQueues.gpuFallback !== undefined && patched(RLCF_HOST_FALLBACK_PATCH) ? hostRoute<typeof createStoredGroundingActivities>('gpu', judgeQueues, config.timeouts) : undefined;
  const judged = onHost
    ? (await onHostOrFallback(onHost, 'discriminate', (stubs, placement) => stubs.discriminateRollouts({ evalRunId: rollouts, discriminator: spec, placement }))).result
    : await rlcfActivities(judgeQueues, config.timeouts).discriminator(spec).discriminateRollouts({ evalRunId: rollouts, discriminator: spec });
  if (it.stopRequested) return stopped();

  // 2e. The reward (source compiler-feedback); unscorable programs stay out of the update.
  await it.enter('reward', { discriminatorScored: judged.discriminatorScored, discriminatorUnscorable: judged.discriminatorUnscorable });
  const rewards = await rlcf.store.rewardRollouts({ campaignId: c, iteration: k, evalRunId: rollouts, reward: grounding.reward, scoredBy: scoredBy(spec) });
  if (it.stopRequested) return stopped();

  // 3. Policy update (the kernel's shared step) on the rollouts with a scored reward, then
  // 4. evaluate the updated policy, on the host that holds it.
  const { update, evaluation: metrics } = await updateAndEvaluate(it, {
    campaignId: c,
    iteration: k,
    algorithm: 'rlcf',
    config,
    policy,
    policyCheckpoint,
    rewards,
    evaluation: { workflow: rlcfEvaluationWorkflow, workflowId: rlcfIds.evaluation(c, k), input: (updated, queues) => rlcfEvaluationInput(config, updated, k, queues) },
  });
  policy = update.nextPolicy;
  policyCheckpoint = update.policyCheckpoint;
  if (!metrics) return stopped();
  const m = metrics.mbjp;
  await it.completed({ compileRate: m.compileRate, staticCheckPassRate: m.staticCheckPassRate, executionRate: m.executionRate, ...Object.fromEntries(Object.entries(m.passAtK).map(([key, v]) => [`pass@${key}`, v])) }, policy);
  return { iteration: k, completed: true, lastPhase: 'evaluate', counts, metrics, nextPolicy: policy, policyCheckpoint, discriminator };
}

const rlcfCampaign: CampaignLoop<RlcfCampaignConfig, RlcfCarry, RlcfIterationResult, typeof rlcfIterationWorkflow> = {
  algorithm: 'rlcf',
  metricName: 'pass@1',
  iterationWorkflow: rlcfIterationWorkflow,
  initialCarry: (config) => ({ policy: config.models.policy }),
  legacyCarry: (s) => ({ policy: s.policy as RlcfCarry['policy'], policyCheckpoint: s.policyCheckpoint as string | undefined }),
  iterationArgs: ({ campaignId, iteration, config, carry }) => [{ campaignId, iteration, config, ...carry }],
  afterIteration: (_carry, result) => ({ policy: result.nextPolicy, policyCheckpoint: result.policyCheckpoint, discriminator: result.discriminator }),
  metric: (result) => result.metrics?.mbjp.passAtK['1'],
  target: (config) => config.stopping.targetPassAt1,
  startEvaluation: ({ config, carry }) => ({
    workflow: rlcfEvaluationWorkflow,
    args: [rlcfEvaluationInput(config, carry.policy, 0, config.taskQueues)],
    metric: (summary) => (summary as RlcfEvaluationSummary).mbjp.passAtK['1'],
  }),
};

export async function rlcfCampaignWorkflow(input: CampaignInput<RlcfCampaignConfig, RlcfCarry>) {
  return runCampaign(rlcfCampaign, input);
}

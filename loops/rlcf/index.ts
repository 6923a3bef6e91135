import { createStoredGroundingActivities } from './activities/stored-grounding';
import { createTrainedDiscriminatorActivities } from './activities/trained-discriminator';
import type { LoopDefinition } from '../definition';
import { listGroundingExamples, loadRlcfAudit, rlcfAuditNumbers, type GroundingExample, type RlcfCampaignAudit } from './audit';
import { formatRlcfAudit } from './audit-text';
import { rlcfChaos } from './chaos';
import { parseRlcfCampaignConfig, type RlcfCampaignConfig } from './config';
import { renderRlcfReport } from './report';
import { RLCF_PHASES } from './types';
import { rlcfCampaignWorkflow } from './workflow';

/** RLCF (Jain et al. 2023): compiler feedback and a discriminator against the reference, RL on Java. */
export const rlcfLoop: LoopDefinition<RlcfCampaignConfig, RlcfCampaignAudit, GroundingExample> = {
  name: 'rlcf',
  title: 'RLCF: RL from compiler feedback and a discriminator for Java (MBJP, MathQA-Java)',
  phases: RLCF_PHASES,
  parseConfig: parseRlcfCampaignConfig,
  campaignWorkflow: rlcfCampaignWorkflow,
  stoppingMetric: 'pass@1',
  activities: {
    // The grounding stages: compile and tests need the sandbox; a remote discriminator is called from here.
    cpu: (deps) => createStoredGroundingActivities({ pool: deps.pool, runner: deps.runner, models: deps.models, concurrency: deps.sandboxConcurrency }),
    // Local discriminators run on GPU workers, as every local model does: the trained classifier (onnx),
    // its reward_model job, and a simulated-backend LLM.
    gpu: (deps) => ({
      discriminateRollouts: createStoredGroundingActivities({ pool: deps.pool, models: deps.models, concurrency: 4, worker: deps.worker }).discriminateRollouts,
      ...createTrainedDiscriminatorActivities(deps),
    }),
  },
  audit: { load: loadRlcfAudit, numbers: rlcfAuditNumbers, format: formatRlcfAudit },
  report: { examples: listGroundingExamples, render: renderRlcfReport },
  chaos: rlcfChaos,
};

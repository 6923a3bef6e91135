import { createAiFeedbackActivities } from './activities/ai-feedback';
import { createApiBenchMetricsActivities } from './activities/apibench-evaluation';
import { createApiGenerationActivities } from './activities/generate-api-samples';
import { createRolloutScoringActivities } from './activities/score-rollouts';
import { createRlaifTrainingActivities } from './activities/training';
import type { LoopDefinition } from '../definition';
import { listAiFeedbackExamples, loadRlaifAudit, rlaifAuditNumbers, type RlaifCampaignAudit, type AiFeedbackExample } from './audit';
import { formatRlaifAudit } from './audit-text';
import { rlaifChaos } from './chaos';
import { parseRlaifCampaignConfig, type RlaifCampaignConfig } from './config';
import { renderRlaifReport } from './report';
import { RLAIF_PHASES } from './types';
import { rlaifCampaignWorkflow } from './workflow';

/** RLAIF (Dutta et al. 2024): AI feedback on API-calling code, a reward model, RL against it. */
export const rlaifLoop: LoopDefinition<RlaifCampaignConfig, RlaifCampaignAudit, AiFeedbackExample> = {
  name: 'rlaif',
  title: 'RLAIF: AI feedback, a reward model and RL for API-calling code (APIBench)',
  phases: RLAIF_PHASES,
  parseConfig: parseRlaifCampaignConfig,
  campaignWorkflow: rlaifCampaignWorkflow,
  stoppingMetric: 'executability',
  activities: {
    // Answers of a remote policy, AI feedback from a remote judge, the paper's metrics.
    cpu: (deps) => ({ ...createApiGenerationActivities(deps), ...createAiFeedbackActivities(deps), ...createApiBenchMetricsActivities(deps) }),
    // Answers and AI feedback of local models, reward scoring, the reward-model job.
    gpu: (deps) => ({ ...createApiGenerationActivities(deps), ...createAiFeedbackActivities(deps), ...createRolloutScoringActivities(deps), ...createRlaifTrainingActivities(deps) }),
  },
  audit: { load: loadRlaifAudit, numbers: rlaifAuditNumbers, format: formatRlaifAudit },
  report: { examples: listAiFeedbackExamples, render: renderRlaifReport },
  chaos: rlaifChaos,
};

import { createFeedbackActivities } from './activities/feedback-activities';
import { createRefineActivities } from './activities/refine';
import { createIlfFineTuneActivities } from './activities/fine-tune';
import { createIlfRefinerActivities } from './activities/refiner';
import type { LoopDefinition } from '../definition';
import { auditNumbers, listFeedbackExamples, loadCampaignAudit, type CampaignAudit, type FeedbackExample } from './audit';
import { formatAudit } from './audit-text';
import { ilfChaos } from './chaos';
import { parseIlfCampaignConfig, type IlfCampaignConfig } from './config';
import { renderCampaignReport } from './report';
import { ILF_PHASES } from './types';
import { ilfCampaignWorkflow } from './workflow';

/** ILF (Chen, Scheurer et al. 2023): generate, test, language feedback, refine, keep what passes, fine-tune. */
export const ilfLoop: LoopDefinition<IlfCampaignConfig, CampaignAudit, FeedbackExample> = {
  name: 'ilf',
  title: 'ILF: imitation learning from language feedback (MBPP)',
  phases: ILF_PHASES,
  parseConfig: parseIlfCampaignConfig,
  campaignWorkflow: ilfCampaignWorkflow,
  stoppingMetric: 'pass@1',
  activities: {
    // Feedback from the dataset, an LLM or people, and refinement by the dataset or a remote refiner.
    cpu: (deps) => ({ ...createFeedbackActivities(deps), ...createRefineActivities(deps) }),
    // Refinement by a local (onnx) or simulated refiner, fine-tuning and training pi_Refine.
    gpu: (deps) => ({ ...createRefineActivities(deps), ...createIlfFineTuneActivities(deps), ...createIlfRefinerActivities(deps) }),
  },
  audit: { load: loadCampaignAudit, numbers: auditNumbers, format: formatAudit },
  report: { examples: listFeedbackExamples, render: renderCampaignReport },
  chaos: ilfChaos,
};

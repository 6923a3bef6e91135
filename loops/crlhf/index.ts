import { createCrowdActivities } from './activities/crowd-activities';
import { createSimulatedCrowdActivities } from './activities/simulated-crowd';
import type { LoopDefinition } from '../definition';
import { crlhfAuditNumbers, listCrowdExamples, loadCrlhfAudit, type CrlhfCampaignAudit, type CrowdExample } from './audit';
import { formatCrlhfAudit } from './audit-text';
import { crlhfChaos } from './chaos';
import { parseCrlhfCampaignConfig, type CrlhfCampaignConfig } from './config';
import { renderCrlhfReport } from './report';
import { CRLHF_PHASES } from './types';
import { crlhfCampaignWorkflow } from './workflow';

/** cRLHF (Wong & Tan 2025): crowd line labels, annotator reliability, a consensus reward without a reward model. */
export const crlhfLoop: LoopDefinition<CrlhfCampaignConfig, CrlhfCampaignAudit, CrowdExample> = {
  name: 'crlhf',
  title: 'cRLHF: crowd line labels, Bayesian consensus rewards and RL for code (HumanEval, MBPP)',
  phases: CRLHF_PHASES,
  parseConfig: parseCrlhfCampaignConfig,
  campaignWorkflow: crlhfCampaignWorkflow,
  stoppingMetric: 'pass@1',
  activities: {
    // Items and honeypots (sandbox-checked), label records, consensus scoring, the SIMULATED crowd.
    cpu: (deps) => ({ ...createCrowdActivities(deps), ...createSimulatedCrowdActivities(deps) }),
    gpu: () => ({}),
  },
  audit: { load: loadCrlhfAudit, numbers: crlhfAuditNumbers, format: formatCrlhfAudit },
  report: { examples: listCrowdExamples, render: renderCrlhfReport },
  chaos: crlhfChaos,
};

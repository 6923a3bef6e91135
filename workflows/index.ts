// Every workflow feedloop registers: the kernel's evaluation and each loop's (loops/registry.ts
// lists the loops). Workers bundle this file.
import { crlhfCampaignWorkflow } from '../loops/crlhf/workflow';
import { ilfCampaignWorkflow } from '../loops/ilf/workflow';
import { rlaifCampaignWorkflow } from '../loops/rlaif/workflow';
import { rlcfCampaignWorkflow } from '../loops/rlcf/workflow';
import { upgradeAtIterationBoundary } from './versioning';

export { evaluationWorkflow } from './evaluation';
export { sandboxBatchesWorkflow } from './sandbox-batches';
export { ilfCampaignWorkflow, ilfIterationWorkflow } from '../loops/ilf/workflow';
export { apibenchEvaluationWorkflow, rlaifCampaignWorkflow, rlaifIterationWorkflow } from '../loops/rlaif/workflow';
export { rlcfCampaignWorkflow, rlcfEvaluationWorkflow, rlcfIterationWorkflow } from '../loops/rlcf/workflow';
export { crlhfCampaignWorkflow, crlhfEvaluationWorkflow, crlhfIterationWorkflow } from '../loops/crlhf/workflow';

// On versioned workers: campaigns move to the current version between iterations, everything else stays pinned.
upgradeAtIterationBoundary(ilfCampaignWorkflow, rlaifCampaignWorkflow, rlcfCampaignWorkflow, crlhfCampaignWorkflow);

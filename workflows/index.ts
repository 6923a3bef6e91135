// Every workflow feedloop registers: the kernel's evaluation and each loop's (loops/registry.ts
// lists the loops). Workers bundle this file.
export { evaluationWorkflow } from './evaluation';
export { sandboxBatchesWorkflow } from './sandbox-batches';
export { ilfCampaignWorkflow, ilfIterationWorkflow } from '../loops/ilf/workflow';
export { apibenchEvaluationWorkflow, rlaifCampaignWorkflow, rlaifIterationWorkflow } from '../loops/rlaif/workflow';
export { rlcfCampaignWorkflow, rlcfEvaluationWorkflow, rlcfIterationWorkflow } from '../loops/rlcf/workflow';
export { crlhfCampaignWorkflow, crlhfEvaluationWorkflow, crlhfIterationWorkflow } from '../loops/crlhf/workflow';

// Every workflow feedloop registers. Workers bundle this file.
export { evaluationWorkflow } from './evaluation';
export { ilfCampaignWorkflow } from './ilf-campaign';
export { ilfIterationWorkflow } from './ilf-iteration';
export { apibenchEvaluationWorkflow } from './apibench-evaluation';
export { rlaifCampaignWorkflow } from './rlaif-campaign';
export { rlaifIterationWorkflow } from './rlaif-iteration';

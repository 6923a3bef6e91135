// Every workflow feedloop registers. Workers bundle this file.
export { evaluationWorkflow } from './evaluation';
export { ilfCampaignWorkflow } from './ilf-campaign';
export { ilfIterationWorkflow } from './ilf-iteration';

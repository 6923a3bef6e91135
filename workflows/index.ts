// Every workflow feedloop registers. Workers bundle this file.
export { evaluationWorkflow } from './evaluation';

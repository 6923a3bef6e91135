// GPU host entry point: generation, reward scoring and training activities only.
import { runWorkerEntryPoint } from './main';

runWorkerEntryPoint('feedloop-gpu-worker', 'Runs feedloop GPU activities (generation, scoring, training), one slot per GPU.', ['gpu']);

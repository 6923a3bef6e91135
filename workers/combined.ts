// One process for the embedded default: workflows, CPU and GPU activities.
import { runWorkerEntryPoint } from './main';

runWorkerEntryPoint('feedloop-worker', 'Runs every feedloop worker role in one process (embedded default).', ['workflow', 'cpu', 'gpu']);

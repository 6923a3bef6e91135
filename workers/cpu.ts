// CPU host entry point: workflow tasks plus sandbox, store and metrics activities.
import { runWorkerEntryPoint } from './main';

runWorkerEntryPoint('feedloop-cpu-worker', 'Runs feedloop workflows and CPU activities (sandbox, store, metrics).', ['workflow', 'cpu']);

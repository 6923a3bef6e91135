import { proxyActivities } from '@temporalio/workflow';
import type { CommandTrainingJobInput, TrainingJobResult } from '../../activities/training';

/** Test workflow: one training job on a given task queue, with a short heartbeat timeout so a dead worker is noticed fast. */
export async function trainOnce(job: CommandTrainingJobInput, activityTaskQueue: string): Promise<TrainingJobResult> {
  const { runTrainingJob } = proxyActivities<{ runTrainingJob(input: CommandTrainingJobInput): Promise<TrainingJobResult> }>({
    taskQueue: activityTaskQueue,
    startToCloseTimeout: '5m',
    heartbeatTimeout: '2s',
    retry: { initialInterval: '200ms', backoffCoefficient: 1, maximumAttempts: 5 },
  });
  return runTrainingJob(job);
}

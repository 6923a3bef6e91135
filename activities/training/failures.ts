/** Failure types of the training activities; the non-retryable ones are thrown as such. */
export const TRAINING_FAILURE = {
  /** the job input does not validate (non-retryable) */
  invalidJob: 'InvalidTrainingJob',
  /** the trainer command cannot be started, e.g. not found (non-retryable) */
  spawnFailed: 'TrainerSpawnFailed',
  /** a file the job needs is not there: the trainer's script, the dataset, a model in the base model directory (non-retryable) */
  missingFile: 'TrainingFileMissing',
  /** another live copy of the job holds its lock (retryable) */
  locked: 'TrainingJobLocked',
  /** the lock was taken over while this attempt ran (retryable) */
  lockLost: 'TrainingLockLost',
  /** the previous attempt's checkpoint is not on this host's disk (retryable: another host may see it) */
  checkpointMissing: 'CheckpointMissing',
  /** the trainer exited without finishing (retryable, resumes from the last checkpoint) */
  crashed: 'TrainerCrashed',
  /** the trainer printed nothing for stallTimeoutMs and was killed (retryable) */
  stalled: 'TrainerStalled',
  /** the trainer broke the protocol, e.g. exit 0 without "done" (retryable) */
  protocol: 'TrainerProtocolError',
  /** the job names a trainer this worker does not run, or gives a command where the worker runs only registered trainers (non-retryable) */
  unregisteredTrainer: 'UnregisteredTrainer',
  /** the provider's fine-tuning job failed or was cancelled (non-retryable) */
  providerJobFailed: 'FineTuningJobFailed',
} as const;

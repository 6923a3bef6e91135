import { formatDuration } from '../activities/metrics/report/format';
import { isSimulatedName, type TrainingJobAudit } from '../activities/store/audit';

/** One training job, as `feedloop audit` prints it (shared by every loop's audit). */
export function formatTrainingJob(j: TrainingJobAudit | null): string {
  if (!j) return 'no training job recorded';
  const trainer = j.trainer === 'simulated' ? 'simulated (SIMULATED)' : j.trainer;
  const figures = [`${j.examples} examples`, `${j.steps ?? '-'} steps`, `duration ${formatDuration(j.durationMs)}`, `checkpoint ${j.checkpoint ?? 'none'}${isSimulatedName(j.checkpoint) ? ' (SIMULATED)' : ''}`];
  return `${j.id}: trainer ${trainer}, ${j.status}; ${figures.join(', ')}\n${' '.repeat(15)}${j.statement}`;
}

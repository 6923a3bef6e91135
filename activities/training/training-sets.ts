import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

/** How training activities write the sets they hand a protocol trainer, and read what it wrote. */

/** Writes JSON lines atomically: a retried activity never hands a trainer half a set. */
export async function writeJsonl(file: string, rows: readonly object[]): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(`${file}.tmp`, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  await fs.rename(`${file}.tmp`, file);
}

/** Trainer protocol job ids are file-name safe; ours name campaign/iteration. */
export const protocolJobId = (jobId: string) => jobId.replace(/[^A-Za-z0-9._-]/g, '_');

/** The marker trainers/simulated/trainer.mjs leaves in every model it writes. */
const SIMULATED_MARKER = 'feedloop-simulated-model.json';

/** A job's metrics, flagged simulated when the model it wrote came from the simulated trainer. */
export function jobMetrics(metrics: Record<string, number>, modelPath: string): Record<string, number | boolean> {
  return existsSync(path.join(modelPath, SIMULATED_MARKER)) ? { ...metrics, simulated: true } : metrics;
}

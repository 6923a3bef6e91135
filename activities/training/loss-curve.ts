import fs from 'node:fs';
import path from 'node:path';

/**
 * A command trainer's loss curve, from the trainer protocol's `progress` events: the activity
 * appends each (step, loss) to `<outputDir>/loss-curve.jsonl` as it reads it, so the curve of a
 * job that was retried and resumed is whole (a step trained again counts its last attempt's loss).
 */
export const LOSS_CURVE_FILE = 'loss-curve.jsonl';

export type LossPoint = [step: number, loss: number];

export function appendLossPoint(outputDir: string, attempt: number, step: number, loss: number): void {
  fs.appendFileSync(path.join(outputDir, LOSS_CURVE_FILE), `${JSON.stringify({ step, loss, attempt })}\n`);
}

/** The job's curve in step order; empty when the trainer reported no loss. */
export function readLossCurve(outputDir: string): LossPoint[] {
  let text: string;
  try {
    text = fs.readFileSync(path.join(outputDir, LOSS_CURVE_FILE), 'utf8');
  } catch {
    return [];
  }
  const byStep = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const p = JSON.parse(line) as { step: unknown; loss: unknown };
      // a line cut by a crash mid-write is skipped, not fatal
      if (typeof p.step === 'number' && typeof p.loss === 'number' && Number.isFinite(p.loss)) byStep.set(p.step, p.loss);
    } catch {
      continue;
    }
  }
  return [...byStep].sort((a, b) => a[0] - b[0]);
}

import fs from 'node:fs';
import path from 'node:path';

/**
 * Checkpoints count only once complete. A trainer writes `checkpoint-N` under a temporary name,
 * writes the completion marker last, then renames the directory into place; the activity
 * accepts a checkpoint only when the directory exists under its final name and its marker
 * names the same step. A crash mid-save leaves a temp directory that is never resumed from.
 */
export const CHECKPOINT_MARKER = 'feedloop-checkpoint.json';
export const RESULT_FILE = 'feedloop-result.json';
const CHECKPOINT_DIR = /^checkpoint-(\d+)$/;

export interface CheckpointRef {
  path: string;
  step: number;
}

/** Null when complete, else why not. */
export function checkpointProblem(ref: CheckpointRef): string | null {
  const name = path.basename(ref.path);
  const m = CHECKPOINT_DIR.exec(name);
  if (!m) return `${ref.path}: not a checkpoint-N directory`;
  if (Number(m[1]) !== ref.step) return `${ref.path}: directory name says step ${m[1]}, reported step ${ref.step}`;
  let marker: { step?: unknown };
  try {
    marker = JSON.parse(fs.readFileSync(path.join(ref.path, CHECKPOINT_MARKER), 'utf8')) as { step?: unknown };
  } catch (err) {
    return `${ref.path}: no readable ${CHECKPOINT_MARKER} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  if (marker.step !== ref.step) return `${ref.path}: ${CHECKPOINT_MARKER} says step ${String(marker.step)}, expected ${ref.step}`;
  return null;
}

/** Every complete checkpoint in `outputDir`, highest step first. */
export function completeCheckpoints(outputDir: string): CheckpointRef[] {
  let names: string[];
  try {
    names = fs.readdirSync(outputDir);
  } catch {
    return [];
  }
  return names
    .map((name) => ({ name, m: CHECKPOINT_DIR.exec(name) }))
    .filter((x): x is { name: string; m: RegExpExecArray } => x.m !== null)
    .map(({ name, m }) => ({ path: path.join(outputDir, name), step: Number(m[1]) }))
    .filter((ref) => checkpointProblem(ref) === null)
    .sort((a, b) => b.step - a.step);
}

/** Writes JSON atomically: temp file, fsync, rename. */
export function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, `${JSON.stringify(value, null, 2)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

import type { FileDatasetName } from './datasets';

/**
 * A dataset file of the user's own tasks, as a loop's config names it (the one schema piece
 * every loop's `dataset` takes, `datasetFileSchema` in common/campaign-schema.ts):
 *
 *   dataset:
 *     file:
 *       path: tasks.jsonl              # relative to the campaign file
 *       splits: { train: 0.8, test: 0.2 }   # shares by a hash of the id, or id lists
 *
 * When a campaign starts, the CLI validates the file (`feedloop dataset check`'s rules), makes
 * the path absolute and pins the file's SHA-256 (loops/config-file.ts): the campaign's tasks
 * are those bytes, the audit records them, and a worker that finds other bytes fails rather
 * than train on other tasks. Pure (no fs, no zod): workflows use it too.
 */
export interface DatasetFileConfig {
  path: string;
  /** split name -> the ids it holds, or its share of the tasks (by a hash of the id) */
  splits: Record<string, string[] | number>;
  /** set when the campaign starts: the file's SHA-256 */
  sha256?: string;
}

const PREFIX = 'file:' as const;

/** The dataset name a file dataset travels under (eval runs, batches, activities): self-describing. */
export function fileDatasetName(file: DatasetFileConfig): FileDatasetName {
  return `${PREFIX}${JSON.stringify({ path: file.path, splits: file.splits, ...(file.sha256 ? { sha256: file.sha256 } : {}) })}`;
}

export function isFileDatasetName(name: string): boolean {
  return name.startsWith(PREFIX);
}

export function parseFileDatasetName(name: string): DatasetFileConfig {
  const ref = JSON.parse(name.slice(PREFIX.length)) as Partial<DatasetFileConfig>;
  if (typeof ref.path !== 'string' || !ref.splits || typeof ref.splits !== 'object') throw new TypeError(`malformed dataset file name ${name.slice(0, 200)}`);
  return ref as DatasetFileConfig;
}

/** The audit's record of a campaign's dataset file (path and SHA-256), from its stored config. */
export function datasetFileOf(config: unknown): { path: string; sha256: string | null } | null {
  const dataset = config && typeof config === 'object' ? (config as { dataset?: unknown }).dataset : undefined;
  const file = dataset && typeof dataset === 'object' ? (dataset as { file?: unknown }).file : undefined;
  if (!file || typeof file !== 'object' || typeof (file as { path?: unknown }).path !== 'string') return null;
  const sha = (file as { sha256?: unknown }).sha256;
  return { path: (file as { path: string }).path, sha256: typeof sha === 'string' ? sha : null };
}

/**
 * Which dataset a loop's selection reads: the config's dataset file (its split by name, no task
 * range), or the loop's built-in dataset with its range. One call per selection in each loop.
 */
export function datasetSelection<D extends string>(file: DatasetFileConfig | undefined, builtin: D, taskRange?: [number, number]): { dataset: D | FileDatasetName; taskRange?: [number, number] } {
  return file ? { dataset: fileDatasetName(file) } : { dataset: builtin, ...(taskRange ? { taskRange } : {}) };
}

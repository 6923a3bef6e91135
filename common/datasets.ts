/**
 * Names and selections of the datasets feedloop ships (data/), shared by workflows and
 * activities. The loaders live in activities/datasets/registry.ts.
 */
/** Code datasets whose tasks have unit tests: programs are run in the sandbox and pass@k applies. */
/** `synth` / `synth-java`: the synthetic code family (activities/datasets/synthetic), generated, not shipped */
export const CODE_DATASETS = ['mbpp', 'humaneval', 'mbjp', 'mathqa-java', 'synth', 'synth-java'] as const;
export type CodeDatasetName = (typeof CODE_DATASETS)[number];

/** The language of each code dataset's programs: what a loop's config accepts for its policy's language. */
export const CODE_DATASET_LANGUAGES: Record<CodeDatasetName, 'python' | 'java'> = { mbpp: 'python', humaneval: 'python', mbjp: 'java', 'mathqa-java': 'java', synth: 'python', 'synth-java': 'java' };
/** The code datasets of one language, in registry order (a non-empty tuple: zod enums take it as is). */
export function codeDatasetsIn(language: 'python' | 'java'): [CodeDatasetName, ...CodeDatasetName[]] {
  return CODE_DATASETS.filter((d) => CODE_DATASET_LANGUAGES[d] === language) as [CodeDatasetName, ...CodeDatasetName[]];
}
/** A dataset file's name as it travels (common/dataset-file.ts: `file:` and its path, splits and SHA-256). */
export type FileDatasetName = `file:${string}`;

/** Code datasets with a reference solution for every task (or most): `feedloop sandbox check` runs them. */
export const CHECK_DATASETS = ['mbpp', 'humaneval', 'mbjp', 'synth', 'synth-java'] as const;
export type CheckDataset = (typeof CHECK_DATASETS)[number];

/** Gorilla APIBench's hubs (their API databases and eval sets). */
export const API_HUBS = ['huggingface', 'tensorflowhub', 'torchhub'] as const;
export type ApiHub = (typeof API_HUBS)[number];

/**
 * Which tasks of a code dataset: a named split (see each dataset's `splits`), or an inclusive
 * range of task numbers (the number in "MBJP/12", "HumanEval/12", MBPP's 12), cut to the first N.
 */
export interface TaskSelection {
  /** a built-in dataset, or a dataset file of the user's tasks (common/dataset-file.ts) */
  dataset: CodeDatasetName | FileDatasetName;
  split: string;
  /** overrides the split's range, e.g. a campaign's configured splits */
  taskRange?: [number, number];
  maxTasks?: number;
  /** only tasks with a usable reference solution (RLCF's discriminator compares with it) */
  requireReference?: boolean;
}

/**
 * MBPP's splits as the ILF paper uses them (Chen, Scheurer et al. 2023): inclusive task-number
 * ranges. MBJP translates MBPP task by task (same numbers), so they carry over to it.
 */
export const MBPP_SPLITS = {
  prompt: [1, 10],
  test: [11, 110],
  refine: [111, 310],
  train: [311, 974],
  all: [1, 974],
} as const;
export type MbppSplit = keyof typeof MBPP_SPLITS;

export type MbjpSet = 'prompt' | 'train' | 'validation' | 'eval';

/**
 * MBJP's split schemes for RLCF, by MBPP task number (activities/datasets/mbjp-split.ts says
 * which tasks enter): `mbpp`, the split published with MBPP (Austin et al. 2021), and `ilf`, the
 * ILF ranges above. The one table: the RLCF config, its workflow and the MBJP split all read it.
 */
export const MBJP_SPLIT_SCHEMES = {
  mbpp: { prompt: [1, 10], eval: [11, 510], validation: [511, 600], train: [601, 974] },
  ilf: { eval: MBPP_SPLITS.test, train: MBPP_SPLITS.train },
} as const satisfies Record<string, Partial<Record<MbjpSet, readonly [number, number]>>>;
export type MbjpSplitScheme = keyof typeof MBJP_SPLIT_SCHEMES;

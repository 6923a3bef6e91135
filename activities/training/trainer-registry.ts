import fs from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import { parse } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../common/config-error';
import { formatConfigIssues } from '../../common/model-config';
import { TRAINING_FAILURE } from './failures';
import { TRAINING_KINDS, type CommandTrainingJob, type TrainingKind } from './job-spec';

/**
 * The trainers a GPU worker agrees to run, from a file its operator writes (`--trainers` /
 * FEEDLOOP_TRAINERS), e.g.
 *
 *   trainers:
 *     reference:
 *       argv: [python3, trainers/reference/train.py]
 *       env: { HF_HOME: /var/cache/huggingface }
 *       kinds: [sft, policy_update]
 *
 * With a registry, a campaign names a trainer (`trainer: { name: reference }`) and the worker
 * runs that entry's argv and env: what runs on a GPU host is decided by whoever runs the host,
 * not by whoever can start a workflow, and the history carries only the name. A campaign's own
 * `command`, an unknown name, or a job kind the entry does not allow fail non-retryably.
 * Without a registry (one person's machine) a campaign's `command` runs as before.
 */
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');

export const trainerRegistrySchema = z
  .object({
    trainers: z.record(
      z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'trainer names: letters, digits, ".", "_" and "-"'),
      z
        .object({
          argv: z.array(z.string().min(1)).min(1),
          env: z.record(envName, z.string()).default({}),
          cwd: z.string().min(1).optional(),
          /** job kinds this trainer may run (trainer protocol `kind`) */
          kinds: z.array(z.enum(TRAINING_KINDS)).min(1),
        })
        .strict(),
    ),
  })
  .strict();

export type TrainerRegistry = z.output<typeof trainerRegistrySchema> & { file: string };

export function loadTrainerRegistry(file: string): TrainerRegistry {
  let raw: unknown;
  try {
    raw = parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`trainers file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const parsed = trainerRegistrySchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`trainers file ${file}:\n${formatConfigIssues(parsed.error.issues, 'trainers')}`);
  return { ...parsed.data, file };
}

/** A campaign's reference to a trainer: an inline argv (no registry) or a registered name. */
export interface TrainerRef {
  command?: readonly string[];
  name?: string;
}

/** Every trainer a campaign config refers to (any loop: each `trainer` object with a command or a name), with its path. */
export function trainerRefsOf(config: unknown, at = ''): Array<{ path: string; ref: TrainerRef }> {
  if (!config || typeof config !== 'object') return [];
  const found: Array<{ path: string; ref: TrainerRef }> = [];
  for (const [key, value] of Object.entries(config as Record<string, unknown>)) {
    const here = at ? `${at}.${key}` : key;
    if (key === 'trainer' && value && typeof value === 'object' && ('command' in value || 'name' in value)) found.push({ path: here, ref: value as TrainerRef });
    else found.push(...trainerRefsOf(value, here));
  }
  return found;
}

/** The problem with a campaign's trainer reference under this registry, or undefined if it is fine. */
export function trainerRefProblem(ref: TrainerRef, registry: TrainerRegistry, kind?: TrainingKind): string | undefined {
  const known = Object.keys(registry.trainers).sort().join(', ') || '(none)';
  if (ref.name === undefined) {
    return `this deployment runs only registered trainers (${registry.file}): name one of ${known} instead of giving a command`;
  }
  const entry = registry.trainers[ref.name];
  if (!entry) return `unknown trainer ${JSON.stringify(ref.name)}: the trainers registered in ${registry.file} are ${known}`;
  if (kind && !entry.kinds.includes(kind)) return `trainer ${JSON.stringify(ref.name)} may run ${entry.kinds.join(', ')} jobs, not ${kind}`;
  return undefined;
}

/** Checks every trainer a campaign config names against a registry; throws one ConfigError naming the fields. */
export function checkCampaignTrainers(config: unknown, registry: TrainerRegistry): void {
  const problems = trainerRefsOf(config).flatMap(({ path, ref }) => {
    const problem = trainerRefProblem(ref, registry);
    return problem ? [`  ${path}: ${problem}`] : [];
  });
  if (problems.length) throw new ConfigError(`campaign refused:\n${problems.join('\n')}`);
}

/**
 * The job with the argv, env and cwd it will really run: the registry's entry for its trainer's
 * name, or (no registry) its own argv. Every refusal is non-retryable: no other attempt or host
 * of the same deployment would decide differently.
 */
export function resolveJobTrainer(job: CommandTrainingJob, registry: TrainerRegistry | undefined): CommandTrainingJob & { trainer: { argv: string[] } } {
  const refuse = (message: string) => ApplicationFailure.nonRetryable(message, TRAINING_FAILURE.unregisteredTrainer);
  if (!registry) {
    if (job.trainer.name !== undefined) throw refuse(`job ${job.jobId} names trainer ${JSON.stringify(job.trainer.name)}, but this worker has no trainers file (--trainers / FEEDLOOP_TRAINERS)`);
    if (!job.trainer.argv) throw refuse(`job ${job.jobId}: its trainer gives neither argv nor a name`);
    return { ...job, trainer: { ...job.trainer, argv: job.trainer.argv } };
  }
  const problem = trainerRefProblem({ command: job.trainer.argv, name: job.trainer.name }, registry, job.kind);
  if (problem) throw refuse(`job ${job.jobId}: ${problem}`);
  const entry = registry.trainers[job.trainer.name!]!;
  return { ...job, trainer: { ...job.trainer, argv: entry.argv, env: { ...entry.env }, cwd: entry.cwd ?? job.trainer.cwd } };
}

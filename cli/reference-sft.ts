import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { writeJsonl } from '../activities/training/training-sets';
import { ConfigError } from '../common/config-error';
import { PROJECT_ROOT } from '../infra/paths';

/**
 * One `sft` job of the reference trainer (trainers/reference) run outside Temporal, through its
 * protocol (a job spec, JSON events on stdout): for models made here, such as the tiny judge,
 * and for the learning probe. Returns the final model directory (`final/`, with `onnx/` inside).
 */
export interface ReferenceSftJob {
  jobId: string;
  baseModel: string;
  rows: readonly { prompt: string; completion: string }[];
  /** the job's working directory (dataset, spec, output); replaced */
  workDir: string;
  hyperparameters: Record<string, unknown>;
  /** extra environment, e.g. OMP_NUM_THREADS */
  env?: NodeJS.ProcessEnv;
  /** what a failure message calls the job */
  what?: string;
}

export async function runReferenceSft(job: ReferenceSftJob): Promise<string> {
  fs.rmSync(job.workDir, { recursive: true, force: true });
  const datasetPath = path.join(job.workDir, 'sft.jsonl');
  await writeJsonl(datasetPath, job.rows);
  const spec = {
    protocol: 1, jobId: job.jobId, kind: 'sft', baseModel: path.resolve(job.baseModel), datasetPath, evalDatasetPath: null, outputDir: path.join(job.workDir, 'out'),
    resumeFromCheckpoint: null, resumeFromStep: 0, attempt: 1, hyperparameters: job.hyperparameters,
  };
  const specPath = path.join(job.workDir, 'job-spec.json');
  fs.writeFileSync(specPath, JSON.stringify(spec));
  // stdin stays open: the trainer takes its end as its supervisor's death
  const child = spawn('bash', [path.join(PROJECT_ROOT, 'trainers', 'reference', 'run.sh'), specPath], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...job.env } });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const status = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  child.stdin.destroy();
  const events = stdout.split('\n').map((l) => {
    try {
      return JSON.parse(l) as { event?: string; modelPath?: string; message?: string };
    } catch {
      return {};
    }
  });
  const final = events.find((e) => e.event === 'done')?.modelPath;
  if (status !== 0 || !final) {
    throw new ConfigError(`${job.what ?? `sft job ${job.jobId}`} failed (exit ${status}): ${events.find((e) => e.event === 'error')?.message ?? 'see the lines above'}`);
  }
  return final;
}

/**
 * ILF's learning campaign on the synthetic family and its no-feedback control, one seed:
 * makes (or finds cached) the starting policy and the teacher, brings up local servers and
 * workers in-process, runs examples/ilf-learning.yaml through runLearningCampaign (cli/learning.ts)
 * with `{models}` pointing at them, and prints the table and the contract's JSON line.
 *
 *   npx tsx scripts/ilf-learning.ts [--seed 1] [--reduced] [--no-control]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { connectClient } from '../cli/evaluate';
import { formatLearningTable, learningProblems, learningSummaryJson, runLearningCampaign, type LearningCurve, type SeedResult } from '../cli/learning';
import { ensureSynthPolicy } from '../cli/synth-policy';
import { ensureTeacher } from '../cli/teacher';
import { readEnv } from '../infra/env';
import { upLocalServers } from '../infra/local-servers';
import { createLogger } from '../infra/logger';
import { resolveWorkerOptions } from '../workers/options';
import { startWorkers } from '../workers/run-workers';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { seed: { type: 'string', default: '1' }, reduced: { type: 'boolean', default: false }, 'no-control': { type: 'boolean', default: false } } });
  const seed = Number(values.seed);
  const log = (line: string) => console.log(line);
  const policy = ensureSynthPolicy({ seed }, log);
  const teacher = ensureTeacher(log);
  log(`policy ${policy.modelDir}; teacher ${teacher.modelDir}`);
  // `{models}` names a folder holding both under the names the example file uses
  const modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilf-learning-models-'));
  fs.symlinkSync(policy.modelDir, path.join(modelsDir, 'synth-policy'));
  fs.symlinkSync(teacher.modelDir, path.join(modelsDir, 'teacher'));

  const env = readEnv();
  const servers = await upLocalServers(env, (line) => log(`  ${line}`));
  const opts = resolveWorkerOptions({ temporalAddress: servers.temporalAddress, databaseUrl: servers.databaseUrl });
  const workers = await startWorkers(['workflow', 'cpu', 'gpu'], opts, { log: createLogger('feedloop-worker', 'warn') });
  const { client, close } = await connectClient(servers.temporalAddress, env.TEMPORAL_NAMESPACE);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const curves: LearningCurve[] = [];
  try {
    for (const control of values['no-control'] ? [false] : [false, true]) {
      const campaignId = `ilf-learning-s${seed}${control ? '-control' : ''}-${stamp}`;
      log(`\nILF seed ${seed}${control ? ', CONTROL (no feedback)' : ''}: ${campaignId}${values.reduced ? ' (reduced)' : ''}`);
      const curve = await runLearningCampaign(client, 'ilf', campaignId, { seed, control, reduced: values.reduced, modelsDir }, process.stderr);
      log(`  ${curve.status}: held-out pass@1 ${[curve.start, ...curve.iterations].map((p) => (p === null ? '-' : `${(100 * p).toFixed(1)}%`)).join(' -> ')} (${curve.wallSeconds} s)`);
      curves.push(curve);
    }
  } finally {
    workers.shutdown();
    await workers.done;
    await close();
  }
  const [learning, control] = curves;
  const result: SeedResult = {
    seed,
    start: learning!.start,
    iterations: learning!.iterations,
    control: control?.iterations ?? [],
    controlStart: control?.start ?? null,
    wallSeconds: learning!.wallSeconds,
    controlWallSeconds: control?.wallSeconds ?? 0,
    campaignIds: { learning: learning!.campaignId, control: control?.campaignId ?? '' },
  };
  log(`\n${formatLearningTable('ilf', [result])}`);
  const problems = learningProblems('ilf', [result]);
  for (const p of problems) console.error(p);
  console.log(learningSummaryJson({ ilf: [result] }));
  return problems.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`ilf-learning: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);

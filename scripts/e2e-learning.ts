/**
 * `npm run e2e:learning [-- --only LOOP[,LOOP]] [-- --seeds 1,2] [-- --reduced]`: does each loop
 * make a real model better at code? For every loop and seed, on this machine: the learning
 * campaign (examples/<loop>-learning.yaml) on the synthetic family with the starting policy made
 * here, beside the same campaign with its feedback made uninformative (the control). Prints a
 * table per loop (iteration -> held-out pass@1, learning beside control) and the wall times,
 * writes each campaign's audit (JSON) and report (HTML) and one learning report with every curve
 * beside its control under $FEEDLOOP_HOME/e2e-learning/, and ends with one JSON line:
 *   {"crlhf": {"seeds": [{"seed": 1, "start": 0.38, "iterations": [...], "control": [...], "wallSeconds": 412}]}, ...}
 * Exits 1 when a loop misses the bar (+15 points over iteration 0 on every seed, control within ±5).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { connectClient } from '../cli/evaluate';
import { formatLearningTable, LEARNING_LOOPS, learningConfigFile, learningProblems, learningSummaryJson, runLearningCampaign, writeLearningReport, type LearningLoop, type SeedResult } from '../cli/learning';
import { writeCampaignReport } from '../cli/report';
import { ensureSynthPolicy } from '../cli/synth-policy';
import { ensureTeacher, ILF_TEACHER } from '../cli/teacher';
import { withPool } from '../infra/pool';
import { readEnv, statePaths } from '../infra/env';
import { upLocalServers } from '../infra/local-servers';
import { createLogger } from '../infra/logger';
import { loopNamed } from '../loops/registry';
import { resolveWorkerOptions } from '../workers/options';
import { startWorkers } from '../workers/run-workers';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, seeds: { type: 'string', default: '1,2' }, reduced: { type: 'boolean', default: false } } });
  const loops = (values.only ? values.only.split(',') : [...LEARNING_LOOPS]) as LearningLoop[];
  const unknown = loops.filter((l) => !(LEARNING_LOOPS as readonly string[]).includes(l));
  if (unknown.length) throw new Error(`--only: ${unknown.join(', ')} is not a loop (${LEARNING_LOOPS.join(', ')})`);
  const seeds = values.seeds.split(',').map((s) => Number(s.trim()));
  if (seeds.some((s) => !Number.isInteger(s))) throw new Error(`--seeds: whole numbers separated by commas, got ${values.seeds}`);
  const log = (line: string) => console.log(line);
  const env = readEnv();

  // The models first (cached by recipe: minutes the first time, nothing after).
  const policies = new Map(seeds.map((seed) => [seed, ensureSynthPolicy({ seed }, log)]));
  for (const [seed, p] of policies) log(`policy for seed ${seed}: ${p.modelDir} (${p.made ? `made in ${p.seconds.toFixed(0)} s` : 'cached'})`);
  // ILF's feedback model and refiner (one teacher for every seed: the seeds are the policy's and the campaign's)
  const teacher = loops.includes('ilf') ? ensureTeacher(log, ILF_TEACHER) : undefined;
  if (teacher) log(`teacher: ${teacher.modelDir} (${teacher.made ? `made in ${teacher.seconds.toFixed(0)} s` : 'cached'})`);

  const servers = await upLocalServers(env, (line) => log(`  ${line}`));
  const out = path.join(statePaths(env.FEEDLOOP_HOME).home, 'e2e-learning');
  fs.mkdirSync(out, { recursive: true });
  const opts = resolveWorkerOptions({ temporalAddress: servers.temporalAddress, databaseUrl: servers.databaseUrl });
  const workers = await startWorkers(['workflow', 'cpu', 'gpu'], opts, { log: createLogger('feedloop-worker', 'warn') });
  const { client, close } = await connectClient(servers.temporalAddress, env.TEMPORAL_NAMESPACE);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const results: Partial<Record<LearningLoop, SeedResult[]>> = {};
  // a loop without a learning campaign yet (examples/<loop>-learning.yaml) misses the bar, and says so
  const unwired = loops.filter((l) => !fs.existsSync(learningConfigFile(l)));
  try {
    for (const loop of loops.filter((l) => !unwired.includes(l))) {
      const list: SeedResult[] = (results[loop] = []);
      for (const seed of seeds) {
        const models = { policy: policies.get(seed)!.modelDir, ...(teacher ? { teacher: teacher.modelDir } : {}) };
        const runs = [];
        for (const control of [false, true]) {
          const campaignId = `${loop}-learning-s${seed}${control ? '-control' : ''}-${stamp}`;
          log(`\n${loop.toUpperCase()} seed ${seed}${control ? ', CONTROL (no feedback)' : ''}: campaign ${campaignId}${values.reduced ? ' (reduced)' : ''}`);
          const curve = await runLearningCampaign(client, loop, campaignId, { seed, control, reduced: values.reduced, models });
          if (curve.status !== 'completed') throw new Error(`${campaignId} ended ${curve.status}`);
          await withPool(servers.databaseUrl, async (pool) => {
            const l = loopNamed(loop);
            const audit = await l.audit.load(pool, campaignId, {});
            fs.writeFileSync(path.join(out, `${campaignId}.json`), `${JSON.stringify(audit, null, 2)}\n`);
          });
          await writeCampaignReport(servers.databaseUrl, campaignId, { out: path.join(out, `${campaignId}.html`) });
          log(`  held-out pass@1: ${[curve.start, ...curve.iterations].map((p) => (p === null ? '-' : `${(100 * p).toFixed(1)}%`)).join(' -> ')} (${curve.wallSeconds} s)`);
          runs.push(curve);
        }
        const [learning, control] = runs as [(typeof runs)[number], (typeof runs)[number]];
        list.push({
          seed,
          start: learning.start,
          iterations: learning.iterations,
          control: control.iterations,
          controlStart: control.start,
          wallSeconds: learning.wallSeconds,
          controlWallSeconds: control.wallSeconds,
          campaignIds: { learning: learning.campaignId, control: control.campaignId },
        });
      }
      log(`\n${formatLearningTable(loop, list)}`);
    }
  } finally {
    workers.shutdown();
    await workers.done;
    await close();
  }
  const report = writeLearningReport(path.join(out, `learning-${stamp}.html`), results);
  log(`\naudits and reports: ${out}; learning curves beside their controls: ${report}`);
  const problems = [
    ...unwired.map((l) => `${l}: no learning campaign yet (${path.relative(process.cwd(), learningConfigFile(l))} does not exist)`),
    ...Object.entries(results).flatMap(([loop, list]) => learningProblems(loop, list ?? [])),
  ];
  for (const l of unwired) results[l] = [];
  for (const p of problems) console.error(`e2e:learning: ${p}`);
  console.log(learningSummaryJson(results));
  return problems.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`e2e:learning: ${(err as Error).message}`);
    process.exit(1);
  },
);

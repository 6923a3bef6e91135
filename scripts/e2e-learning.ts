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
import { formatLearningTable, LEARNING_LOOPS, learningConfigFile, learningModels, learningProblems, learningSummaryJson, pairModelSlots, runLearningPair, serveLearningJudge, writeLearningReport, type LearningLoop, type SeedResult } from '../cli/learning';
import { readEnv, statePaths } from '../infra/env';
import { upLocalServers } from '../infra/local-servers';
import { createLogger } from '../infra/logger';
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
  const wanted = loops.filter((l) => fs.existsSync(learningConfigFile(l)));
  const made = new Map(seeds.map((seed) => [seed, learningModels(wanted, seed, log)]));
  // RLAIF's judge (one for every seed) over the OpenAI protocol, on a free port
  const judge = await serveLearningJudge(made.get(seeds[0]!)!, log);
  const models = new Map([...made].map(([seed, m]) => [seed, judge.models.judgeUrl ? { ...m, judgeUrl: judge.models.judgeUrl } : m]));

  const servers = await upLocalServers(env, (line) => log(`  ${line}`));
  const out = path.join(statePaths(env.FEEDLOOP_HOME).home, 'e2e-learning');
  fs.mkdirSync(out, { recursive: true });
  const opts = resolveWorkerOptions({ temporalAddress: servers.temporalAddress, databaseUrl: servers.databaseUrl, ...pairModelSlots() });
  const workers = await startWorkers(['workflow', 'cpu', 'gpu'], opts, { log: createLogger('feedloop-worker', 'warn') });
  const { client, close } = await connectClient(servers.temporalAddress, env.TEMPORAL_NAMESPACE);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const results: Partial<Record<LearningLoop, SeedResult[]>> = {};
  // a loop without a learning campaign yet (examples/<loop>-learning.yaml) misses the bar, and says so
  const unwired = loops.filter((l) => !wanted.includes(l));
  try {
    for (const loop of loops.filter((l) => !unwired.includes(l))) {
      const list: SeedResult[] = (results[loop] = []);
      for (const seed of seeds) {
        log('');
        list.push(await runLearningPair(client, servers.databaseUrl, loop, { seed, models: models.get(seed)!, reduced: values.reduced, together: true, outDir: out, stamp, log }));
      }
      log(`\n${formatLearningTable(loop, list)}`);
    }
  } finally {
    workers.shutdown();
    await workers.done;
    await close();
    await judge.close();
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

/**
 * `npm run e2e:tiny-real [-- --reduced] [-- --only ilf|rlaif]`: both tiny-real campaigns end to
 * end on this machine with real weights (cli/tiny-real.ts): brings up the embedded Temporal and
 * PostgreSQL (as `npm run demo` does), runs the workers in this process, makes the tiny model if
 * missing, serves it as RLAIF's judge, runs each campaign, prints its audit and wall time, and
 * writes each audit's JSON and HTML report under $FEEDLOOP_HOME/e2e-tiny-real/.
 * Exits 1 when a campaign did not complete or a training job recorded no learning signal.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { withPool } from '../infra/pool';
import { connectClient } from '../cli/evaluate';
import { writeCampaignReport } from '../cli/report';
import { TINY_REAL_LOOPS, ensureTinyModel, runTinyRealCampaign, type TinyRealLoop, type TinyRealRun } from '../cli/tiny-real';
import { startTinyJudge } from '../cli/tiny-judge';
import { readEnv, statePaths } from '../infra/env';
import { upLocalServers } from '../infra/local-servers';
import { createLogger } from '../infra/logger';
import { resolveWorkerOptions } from '../workers/options';
import { startWorkers } from '../workers/run-workers';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { reduced: { type: 'boolean', default: false }, only: { type: 'string' } } });
  const loops: TinyRealLoop[] = values.only ? [values.only as TinyRealLoop] : [...TINY_REAL_LOOPS];
  if (!loops.every((l) => (TINY_REAL_LOOPS as readonly string[]).includes(l))) throw new Error(`--only: one of ${TINY_REAL_LOOPS.join(', ')}`);
  const log = (line: string) => console.log(line);
  const env = readEnv();
  const modelDir = ensureTinyModel(undefined, log);
  const servers = await upLocalServers(env, (line) => log(`  ${line}`));
  const out = path.join(statePaths(env.FEEDLOOP_HOME).home, 'e2e-tiny-real');
  fs.mkdirSync(out, { recursive: true });
  const opts = resolveWorkerOptions({ temporalAddress: servers.temporalAddress, databaseUrl: servers.databaseUrl });
  const workers = await startWorkers(['workflow', 'cpu', 'gpu'], opts, { log: createLogger('feedloop-worker', 'warn') });
  const { client, close } = await connectClient(servers.temporalAddress, env.TEMPORAL_NAMESPACE);
  const judge = loops.includes('rlaif') ? await startTinyJudge(modelDir, log) : undefined;
  const runs: TinyRealRun[] = [];
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  try {
    await withPool(servers.databaseUrl, async (pool) => {
      for (const loop of loops) {
        const campaignId = `${loop}-tiny-real-${stamp}`;
        log(`\n${loop.toUpperCase()} tiny-real campaign ${campaignId}${values.reduced ? ' (reduced)' : ''}:`);
        const run = await runTinyRealCampaign(client, pool, loop, campaignId, { reduced: values.reduced, modelDir, judgeBaseUrl: judge?.baseUrl });
        runs.push(run);
        log(run.text);
        fs.writeFileSync(path.join(out, `${campaignId}.json`), `${JSON.stringify(run.audit, null, 2)}\n`);
        const report = await writeCampaignReport(servers.databaseUrl, campaignId, { out: path.join(out, `${campaignId}.html`) });
        log(`\n${loop}: ${run.status} in ${(run.wallMs / 1000).toFixed(0)} s wall; audit JSON ${path.join(out, `${campaignId}.json`)}; report ${report}`);
      }
    });
  } finally {
    await judge?.close();
    workers.shutdown();
    await workers.done;
    await close();
  }
  log('\nwall times: ' + runs.map((r) => `${r.loop} ${(r.wallMs / 1000).toFixed(0)} s (${r.status})`).join(', '));
  const problems = runs.flatMap((r) => {
    const its = (r.audit as { iterations: { iteration: number; training?: Job; policyUpdate?: Job }[] }).iterations;
    const missing = its.filter((it) => !(it.training ?? it.policyUpdate)?.learningSignal?.heldOut).map((it) => `${r.loop} iteration ${it.iteration}: no held-out log-likelihood recorded`);
    return [...(r.status === 'completed' ? [] : [`${r.loop}: campaign ${r.status}`]), ...missing];
  });
  for (const p of problems) console.error(`e2e:tiny-real: ${p}`);
  return problems.length ? 1 : 0;
}
type Job = { learningSignal?: { heldOut: unknown } | null };

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`e2e:tiny-real: ${(err as Error).message}`);
    process.exit(1);
  },
);

import path from 'node:path';
import type { Command } from 'commander';
import { readEnv, statePaths } from '../infra/env';
import { createLogger } from '../infra/logger';
import { PROJECT_ROOT } from '../infra/paths';
import { upLocalServers, type LocalServers } from '../infra/local-servers';
import { ensureTrainerPython, TRAINER_VENV } from '../infra/trainer-env';
import { resolveWorkerOptions } from '../workers/options';
import { startWorkers } from '../workers/run-workers';
import { startCampaign } from './campaign';
import { followCampaign } from './campaign-progress';
import { withPool } from '../infra/pool';
import { ilfLoop } from '../loops/ilf/index';
import type { CampaignResult } from '../workflows/campaign';
import type { IlfIterationResult } from '../loops/ilf/types';
import { connectClient } from './evaluate';
import { formatLearningTable, learningConfigFile, learningModels, pairModelSlots, runLearningPair, writeLearningReport, type LearningLoop } from './learning';
import { writeCampaignReport } from './report';

/**
 * `npm run demo`: the shortest real learning campaign. cRLHF on the synthetic code family
 * (examples/crlhf-learning.yaml in CI's reduced form) with a policy made here and trained by the
 * reference trainer, beside the same campaign with its rewards shuffled (the control), run side
 * by side on the embedded servers; it ends with the table of held-out pass@1.
 *
 * `npm run demo -- --ilf-human-data` (or `npm run demo:ilf`): the ILF campaign on data shipped
 * in the project (examples/ilf-demo.yaml): CodeGen-Mono 6.1B's recorded programs, the released
 * human feedback and refinements, filtered by the real sandbox; no weights are trained.
 *
 * The servers keep running afterwards so the histories can be browsed in the Temporal UI.
 */
export const DEMO_CONFIG = path.join(PROJECT_ROOT, 'examples', 'ilf-demo.yaml');
const DEMO_LOOP: LearningLoop = 'crlhf';
const DEMO_SEED = 1;
/** CI's reduced form for one iteration: the first update is where the two campaigns part, and a fresh clone's demo stays within minutes. */
const DEMO_ITERATIONS = 1;

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('the shortest real learning campaign (cRLHF on the synthetic code family, beside its control), on the embedded servers')
    .option('--ilf-human-data', "instead, the ILF campaign on the paper's released human data (examples/ilf-demo.yaml); trains nothing")
    .action(async (o: { ilfHumanData?: boolean }) => (o.ilfHumanData ? ilfHumanDataDemo() : learningDemo()));
}

type Env = ReturnType<typeof readEnv>;

async function withDemoServers(env: Env, step: string, run: (servers: LocalServers, client: Awaited<ReturnType<typeof connectClient>>['client']) => Promise<void>): Promise<LocalServers> {
  console.log(`${step}the local Temporal dev server and PostgreSQL (state in ${env.FEEDLOOP_HOME})`);
  const servers = await upLocalServers(env, (line) => console.log(`  ${line}`));
  console.log(`  Temporal ${servers.temporalAddress}${servers.temporalUiUrl ? `, UI ${servers.temporalUiUrl}` : ''}`);
  const opts = resolveWorkerOptions({ temporalAddress: servers.temporalAddress, databaseUrl: servers.databaseUrl, ...pairModelSlots() });
  const workers = await startWorkers(['workflow', 'cpu', 'gpu'], opts, { log: createLogger('feedloop-worker', 'warn') });
  const { client, close } = await connectClient(servers.temporalAddress, env.TEMPORAL_NAMESPACE);
  try {
    await run(servers, client);
  } finally {
    workers.shutdown();
    await workers.done;
    await close();
  }
  return servers;
}

function uiLink(env: Env, servers: LocalServers, query: string): void {
  if (servers.temporalUiUrl) console.log(`Temporal UI: ${servers.temporalUiUrl}/namespaces/${env.TEMPORAL_NAMESPACE}/workflows?query=${encodeURIComponent(query)}`);
  console.log('The servers keep running; `npm run dev:down` stops them, `npm run demo` runs again.');
}

async function learningDemo(): Promise<void> {
  const env = readEnv();
  const started = Date.now();
  const minutes = () => `${((Date.now() - started) / 60_000).toFixed(1)} min`;
  const config = path.relative(process.cwd(), learningConfigFile(DEMO_LOOP));
  console.log('feedloop demo: does feedback make a model better at code?');
  console.log(`  cRLHF on the synthetic code family (${config}, reduced: 40 training and 40 held-out tasks, ${DEMO_ITERATIONS} iteration):`);
  console.log('  a small policy made here writes programs, a simulated crowd labels their lines, the consensus of the labels is the');
  console.log('  reward, and the reference trainer updates the policy for real. Beside it runs the same campaign with the rewards');
  console.log('  shuffled across programs (the control): if the feedback is what helps, only the first one improves.\n');

  console.log(`[1/4] the reference trainer's Python environment (torch, transformers, onnx: it trains the policy), in ${TRAINER_VENV}`);
  console.log('  installed once (a minute or more, several GB), then reused');
  ensureTrainerPython();
  console.log(`  ready (${minutes()})`);

  console.log(`[2/4] the starting policy: a 0.4M-parameter code model trained from scratch on the family's pretraining tasks,`);
  console.log('  whose corpus carries near-miss bugs on purpose (so it writes correct code sometimes, not mostly); made once, cached by recipe');
  const models = learningModels([DEMO_LOOP], DEMO_SEED, (line) => console.log(`  ${line}`));
  console.log(`  ready (${minutes()})`);

  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const reports = statePaths(env.FEEDLOOP_HOME).reports;
  let table = '';
  let curves = '';
  let ids: string[] = [];
  const servers = await withDemoServers(env, '[3/4] ', async (s, client) => {
    console.log(`[4/4] the learning campaign and its control, side by side (a few minutes; one line per phase)`);
    const result = await runLearningPair(client, s.databaseUrl, DEMO_LOOP, { seed: DEMO_SEED, models, reduced: true, together: true, patch: { iterations: DEMO_ITERATIONS }, outDir: reports, stamp, log: (line) => console.log(`  ${line}`), progress: process.stdout });
    ids = [result.campaignIds.learning, result.campaignIds.control];
    table = formatLearningTable(DEMO_LOOP, [result]);
    curves = writeLearningReport(path.join(reports, `demo-${stamp}.html`), { [DEMO_LOOP]: [result] });
    const pts = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
    const start = result.start ?? 0;
    const after = result.iterations[result.iterations.length - 1] ?? start;
    const last = result.control[result.control.length - 1] ?? start;
    console.log(`\n${table}\n`);
    console.log(`With the crowd's feedback, held-out pass@1 went from ${(100 * start).toFixed(1)}% to ${(100 * after).toFixed(1)}% (${pts(after - start)} points);`);
    console.log(`with the same rewards shuffled, it ended at ${(100 * last).toFixed(1)}% (${pts(last - (result.controlStart ?? start))} points). On 40 held-out tasks x 4 samples, pass@1 has a standard error of about 5 points.`);
  });
  console.log(`\nLearning curves beside the control: ${curves}; each campaign's audit and report: ${reports}`);
  uiLink(env, servers, `FeedloopCampaignId IN (${ids.map((id) => `"${id}"`).join(', ')})`);
  console.log(`Done in ${minutes()}.`);
  console.log('\nNext: `npm run e2e:learning` runs every loop that has a learning campaign, full size, on two seeds;');
  console.log('`npm run demo -- --ilf-human-data` runs ILF on the paper\'s released human data (no training).');
}

async function ilfHumanDataDemo(): Promise<void> {
  const env = readEnv();
  const campaignId = `demo-${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
  let result: CampaignResult<IlfIterationResult> | undefined;
  const servers = await withDemoServers(env, 'feedloop demo (ILF, released human data): starting ', async (_s, client) => {
    console.log(`\nILF campaign ${campaignId} (${path.relative(process.cwd(), DEMO_CONFIG)}):`);
    console.log('  policy: CodeGen-Mono 6.1B programs from the ILF paper (replayed); feedback and refinements: the released human data');
    const handle = await startCampaign(client, campaignId, DEMO_CONFIG);
    result = await followCampaign<CampaignResult<IlfIterationResult>>(client, handle);
  });
  const it = result!.iterations[0]!;
  console.log(`\n${it.counts.samples} recorded programs generated, ${it.counts.failing} failed their tests;`);
  console.log(`${it.counts.feedbackReceived} got human feedback; ${it.counts.refinementsKept} of ${it.counts.refinementsGenerated} human refinements pass the unit tests.`);
  console.log('No trainer is configured in this demo: the fine-tuning set was written, no weights were trained (`npm run demo` trains for real).\n');
  console.log(ilfLoop.audit.format(await withPool(servers.databaseUrl, (pool) => ilfLoop.audit.load(pool, campaignId, {}))));
  const report = await writeCampaignReport(servers.databaseUrl, campaignId, { out: path.join(statePaths(env.FEEDLOOP_HOME).reports, `${campaignId}.html`) });
  console.log(`\nReport: ${report}\n`);
  uiLink(env, servers, `FeedloopCampaignId="${campaignId}"`);
}

import path from 'node:path';
import type { Command } from 'commander';
import { readEnv, statePaths } from '../infra/env';
import { createLogger } from '../infra/logger';
import { PROJECT_ROOT } from '../infra/paths';
import { upLocalServers } from '../infra/local-servers';
import { resolveWorkerOptions } from '../workers/options';
import { startWorkers } from '../workers/run-workers';
import { startCampaign } from './campaign';
import { followCampaign } from './campaign-progress';
import { withPool } from '../infra/pool';
import { ilfLoop } from '../loops/ilf/index';
import type { CampaignResult } from '../workflows/campaign';
import type { IlfIterationResult } from '../loops/ilf/types';
import { connectClient } from './evaluate';
import { writeCampaignReport } from './report';

/**
 * `npm run demo`: brings up the embedded servers (idempotent), runs the workers in this
 * process, and runs the ILF demo campaign (examples/ilf-demo.yaml) on data shipped in the
 * project: CodeGen-Mono 6.1B's recorded programs, the released human feedback and the released
 * human refinements, filtered by the real sandbox. The servers keep running afterwards so the
 * histories can be browsed in the Temporal UI.
 */
export const DEMO_CONFIG = path.join(PROJECT_ROOT, 'examples', 'ilf-demo.yaml');

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the ILF demo campaign on the embedded defaults')
    .action(async () => {
      const env = readEnv();
      console.log('feedloop demo: starting the local Temporal dev server and PostgreSQL (state in %s)', env.FEEDLOOP_HOME);
      const servers = await upLocalServers(env, (line) => console.log(`  ${line}`));
      console.log(`  Temporal ${servers.temporalAddress}${servers.temporalUiUrl ? `, UI ${servers.temporalUiUrl}` : ''}`);

      const opts = resolveWorkerOptions({ temporalAddress: servers.temporalAddress, databaseUrl: servers.databaseUrl });
      const workers = await startWorkers(['workflow', 'cpu', 'gpu'], opts, { log: createLogger('feedloop-worker', 'warn') });
      const { client, close } = await connectClient(servers.temporalAddress, env.TEMPORAL_NAMESPACE);
      const campaignId = `demo-${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
      console.log(`\nILF campaign ${campaignId} (${path.relative(process.cwd(), DEMO_CONFIG)}):`);
      console.log('  policy: CodeGen-Mono 6.1B programs from the ILF paper (replayed); feedback and refinements: the released human data');
      let result;
      try {
        const handle = await startCampaign(client, campaignId, DEMO_CONFIG);
        result = await followCampaign<CampaignResult<IlfIterationResult>>(client, handle);
      } finally {
        workers.shutdown();
        await workers.done;
        await close();
      }
      const it = result.iterations[0]!;
      console.log(`\n${it.counts.samples} recorded programs generated, ${it.counts.failing} failed their tests;`);
      console.log(`${it.counts.feedbackReceived} got human feedback; ${it.counts.refinementsKept} of ${it.counts.refinementsGenerated} human refinements pass the unit tests.`);
      console.log('No trainer is configured in the demo: the fine-tuning set was written, no weights were trained.\n');
      console.log(ilfLoop.audit.format(await withPool(servers.databaseUrl, (pool) => ilfLoop.audit.load(pool, campaignId, {}))));
      const report = await writeCampaignReport(servers.databaseUrl, campaignId, { out: path.join(statePaths(env.FEEDLOOP_HOME).reports, `${campaignId}.html`) });
      console.log(`\nReport: ${report}`);
      if (servers.temporalUiUrl) console.log(`\nTemporal UI: ${servers.temporalUiUrl}/namespaces/${env.TEMPORAL_NAMESPACE}/workflows?query=${encodeURIComponent(`FeedloopCampaignId="${campaignId}"`)}`);
      console.log('The servers keep running; `npm run dev:down` stops them, `npm run demo` runs again.');
      console.log('\nNext: `npm run e2e:tiny-real` trains real weights on this machine: a tiny code model through ILF and RLAIF,');
      console.log('with the trainer, the ONNX export as the next policy, and the loss and held-out perplexity in the audit (a few minutes).');
    });
}

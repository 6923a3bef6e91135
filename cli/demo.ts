import type { Command } from 'commander';
import { readEnv } from '../common/config';
import { createLogger } from '../common/logger';
import { SEARCH_ATTRIBUTES } from '../common/search-attributes';
import { upLocalServers } from '../infra/local-servers';
import { resolveWorkerOptions } from '../workers/options';
import { startWorkers } from '../workers/run-workers';
import { connectClient, formatSummaries, runEvaluation } from './evaluate';
import type { EvaluationInput, EvaluationSummary } from '../common/evaluation';

/**
 * `npm run demo`: brings up the embedded servers (idempotent), runs the workers in this
 * process, and evaluates two replayed policies on MBPP with the real sandbox:
 *  - the CodeGen-Mono 6.1B programs released with the ILF paper (195 tasks), and
 *  - MBPP's gold programs on MBPP_Test (tasks 11-110).
 * The servers keep running afterwards so the histories can be browsed in the Temporal UI.
 */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the demo on the embedded defaults and print a pass@k summary')
    .action(async () => {
      const env = readEnv();
      console.log('feedloop demo: starting the local Temporal dev server and PostgreSQL (state in %s)', env.FEEDLOOP_HOME);
      const servers = await upLocalServers(env, (line) => console.log(`  ${line}`));
      console.log(`  Temporal ${servers.temporalAddress}, UI ${servers.temporalUiUrl}`);

      const opts = resolveWorkerOptions({ temporalAddress: servers.temporalAddress, databaseUrl: servers.databaseUrl });
      const workers = await startWorkers(['workflow', 'cpu', 'gpu'], opts, { log: createLogger('feedloop-worker', 'warn') });
      const { client, close } = await connectClient(servers.temporalAddress, env.TEMPORAL_NAMESPACE);
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
      const runs: Array<{ id: string; title: string; input: EvaluationInput }> = [
        {
          id: `demo-${stamp}-codegen`,
          title: 'CodeGen-Mono 6.1B programs from the ILF data (replayed)',
          input: { dataset: 'mbpp', split: 'all', policy: { backend: 'replay', source: 'ilf-codegen' }, samplesPerTask: 1, ks: [1] },
        },
        {
          id: `demo-${stamp}-gold`,
          title: 'MBPP gold programs on MBPP_Test (tasks 11-110)',
          input: { dataset: 'mbpp', split: 'test', policy: { backend: 'replay', source: 'gold' }, samplesPerTask: 1, ks: [1] },
        },
      ];
      const summaries: EvaluationSummary[] = [];
      try {
        for (const r of runs) {
          console.log(`\n${r.title}\n  workflow ${r.id}`);
          summaries.push(await runEvaluation({ client, databaseUrl: servers.databaseUrl, workflowId: r.id, input: r.input }));
        }
      } finally {
        workers.shutdown();
        await workers.done;
        await close();
      }
      console.log(`\npass@k summary (unbiased estimator; sandbox infra errors are never scored)\n`);
      console.log(formatSummaries(summaries));
      const query = encodeURIComponent(`WorkflowId STARTS_WITH "demo-${stamp}"`);
      console.log(`\nTemporal UI: ${servers.temporalUiUrl}/namespaces/${env.TEMPORAL_NAMESPACE}/workflows?query=${query}`);
      console.log(`  (filter by phase with ${Object.keys(SEARCH_ATTRIBUTES).join(', ')}; histories are kept 30 days)`);
      console.log('The servers keep running; `npm run dev:down` stops them, `npm run demo` runs again.');
    });
}

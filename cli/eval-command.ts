import { Command, Option } from 'commander';
import { randomUUID } from 'node:crypto';
import { readEnv } from '../infra/env';
import { databaseUrlOf } from '../infra/postgres';
import { connectClient, formatSummaries, runEvaluation } from './evaluate';
import type { EvalSplit } from '../common/evaluation';

/** `feedloop eval`: evaluates a policy on an MBPP split through running workers. */
export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .description('evaluate a policy on an MBPP split (needs running workers: `npm run worker`)')
    .addOption(new Option('--split <split>', 'MBPP split (ILF paper)').choices(['prompt', 'test', 'refine', 'train', 'all']).default('test'))
    .addOption(new Option('--policy <source>', 'replayed policy').choices(['gold', 'ilf-codegen']).default('gold'))
    .option('--workflow-id <id>', 'workflow id (default: eval-<uuid>)')
    .option('--json', 'print the summary as JSON')
    .action(async (opts: { split: EvalSplit; policy: 'gold' | 'ilf-codegen'; workflowId?: string; json?: boolean }) => {
      const env = readEnv();
      const { client, close } = await connectClient(env.TEMPORAL_ADDRESS, env.TEMPORAL_NAMESPACE);
      try {
        const summary = await runEvaluation({
          client,
          databaseUrl: databaseUrlOf(env),
          workflowId: opts.workflowId ?? `eval-${randomUUID()}`,
          input: { dataset: 'mbpp', split: opts.split, policy: { backend: 'replay', source: opts.policy }, samplesPerTask: 1, ks: [1] },
          progress: !opts.json,
        });
        console.log(opts.json ? JSON.stringify(summary, null, 2) : formatSummaries([summary]));
      } finally {
        await close();
      }
    });
}

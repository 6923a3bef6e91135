// `npm run chaos:cluster` [-- --seed N --reduced]: the ILF dry run across hosts on the production
// Temporal server (scripts/chaos/cluster-chaos.ts), undisturbed and then under server faults and
// the loss of a GPU host. Its last line says PASS or FAIL; exits 1 on FAIL.
import { Command } from 'commander';
import { ilfChaos } from '../loops/ilf/chaos';
import { runClusterChaos } from './chaos/cluster-chaos';

const opts = new Command('chaos:cluster')
  .option('--seed <n>', 'seed of the campaign and of the fault schedule', (v) => Number.parseInt(v, 10), 42)
  .option('--reduced', 'a smaller campaign (30 train and 10 test tasks, fewer samples)')
  .option('--host-schedule-to-start <duration>', 'how long work waits on a lost host before it falls back', '5s')
  .parse(process.argv)
  .opts<{ seed: number; reduced?: boolean; hostScheduleToStart: string }>();

// Should the event loop drain before a report (a promise nothing will settle), that is a failure.
process.exitCode = 1;
runClusterChaos({ seed: opts.seed, configOverrides: opts.reduced ? ilfChaos.reduced : undefined, hostScheduleToStart: opts.hostScheduleToStart })
  .then((report) => finish(`${report.disturbances.map((d) => `  - ${d}`).join('\n')}\n${report.finalLine}\n`, report.passed ? 0 : 1))
  .catch((err: unknown) => {
    console.error(err);
    finish(`chaos:cluster FAIL: ${(err as Error).message.split('\n')[0]}\n`, 1);
  });

/** Exits once stdout has taken the last line (a pipe is written asynchronously). */
function finish(text: string, code: number): void {
  process.stdout.write(text, () => process.exit(code));
}

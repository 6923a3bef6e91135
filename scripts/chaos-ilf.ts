// `npm run chaos:ilf [-- --seed N --kills N]`: the ILF dry-run campaign under worker kills and
// server restarts, compared with an undisturbed run of the same seed. Exits 1 on any difference.
import { Command } from 'commander';
import { runIlfChaos } from './chaos/ilf-chaos';

const opts = new Command('chaos-ilf')
  .option('--seed <n>', 'seed of the campaign and of the disturbance schedule', (v) => Number.parseInt(v, 10), 42)
  .option('--kills <n>', 'worker SIGKILLs', (v) => Number.parseInt(v, 10), 6)
  .option('--reduced', 'the CI form: a smaller campaign')
  .parse(process.argv)
  .opts<{ seed: number; kills: number; reduced?: boolean }>();

runIlfChaos({
  seed: opts.seed,
  kills: opts.kills,
  restartTemporal: true,
  restartPostgres: true,
  configOverrides: opts.reduced ? { dataset: { maxTrainTasks: 30, maxTestTasks: 10 }, sampling: { train: { n: 1 }, eval: { n: 2, ks: [1, 2] } } } : undefined,
})
  .then((report) => {
    console.log(report.disturbances.map((d) => `  - ${d}`).join('\n'));
    console.log(report.finalLine);
    process.exit(report.problems.length ? 1 : 0);
  })
  .catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });

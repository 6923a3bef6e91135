// `npm run chaos:ilf` / `npm run chaos:rlaif` [-- --seed N --kills N --config FILE]: a dry-run campaign (the ILF one by
// default; `--config examples/rlaif-dry-run.yaml` for RLAIF) under worker kills and server
// restarts, compared with an undisturbed run of the same seed. Exits 1 on any difference.
import path from 'node:path';
import { Command } from 'commander';
import { readCampaignFile } from '../loops/config-file';
import { loopNamed } from '../loops/registry';
import { PROJECT_ROOT } from '../infra/paths';
import { runCampaignChaos } from './chaos/campaign-chaos';

const opts = new Command('chaos')
  .option('--seed <n>', 'seed of the campaign and of the disturbance schedule', (v) => Number.parseInt(v, 10), 42)
  .option('--kills <n>', 'worker SIGKILLs', (v) => Number.parseInt(v, 10), 6)
  .option('--config <file>', 'the campaign file (its algorithm picks the loop)', path.join(PROJECT_ROOT, 'examples', 'ilf-dry-run.yaml'))
  .option('--reduced', 'the CI form: a smaller campaign')
  .parse(process.argv)
  .opts<{ seed: number; kills: number; config: string; reduced?: boolean }>();

const loop = loopNamed((readCampaignFile(opts.config) as { algorithm?: unknown } | null)?.algorithm, opts.config);

runCampaignChaos({
  seed: opts.seed,
  kills: opts.kills,
  restartTemporal: true,
  restartPostgres: true,
  configFile: opts.config,
  configOverrides: opts.reduced ? loop.chaos.reduced : undefined,
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

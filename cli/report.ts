import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { campaignAlgorithm, CampaignNotFoundError } from '../audit/core';
import { loopNamed } from '../loops/registry';
import { databaseUrlOf } from '../infra/postgres';
import { readEnv, statePaths } from '../infra/env';
import { withPool } from '../infra/pool';
import { reconcileIfReachable } from './campaign-end';
import { readRuns, runStoreIdToShow } from '../audit/runs';

/** `feedloop report <campaign> --out report.html`: the campaign as one self-contained HTML file. */

/** `<FEEDLOOP_HOME>/reports/<campaignId>.report.html`: under the state directory, never the working directory (it may be the repository). */
export function defaultReportFile(campaignId: string, home = readEnv().FEEDLOOP_HOME): string {
  return path.join(statePaths(home).reports, `${campaignId.replaceAll('/', '__')}.report.html`);
}

/** Renders the report from the store and writes it atomically; returns the absolute path. */
export async function writeCampaignReport(databaseUrl: string, campaignId: string, opts: { out?: string; examples?: number; now?: Date } = {}): Promise<string> {
  const page = await withPool(databaseUrl, async (pool) => {
    // The latest run of the id (its store key: the id for run 1, `<id>~<n>` after).
    const storeId = await runStoreIdToShow(pool, campaignId);
    const loop = loopNamed(await campaignAlgorithm(pool, storeId));
    await reconcileIfReachable(pool, storeId);
    const audit = await loop.audit.load(pool, storeId, {});
    const examples = await loop.report.examples(pool, storeId, { perIteration: opts.examples ?? 5 });
    // The id's runs travel with the audit: the page says which run it shows.
    return loop.report.render({ ...audit, runs: await readRuns(pool, campaignId) }, examples, { generatedAt: opts.now ?? new Date() });
  });
  const file = path.resolve(opts.out ?? defaultReportFile(campaignId));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.tmp`, page);
  fs.renameSync(`${file}.tmp`, file);
  return file;
}

/** Runs `feedloop report`; returns the exit code (1: unknown campaign). */
export async function runReportCommand(
  campaignId: string,
  opts: { out?: string; examples?: number; databaseUrl?: string },
  io: { out: (text: string) => void; err: (text: string) => void } = { out: (t) => console.log(t), err: (t) => console.error(t) },
): Promise<number> {
  try {
    const file = await writeCampaignReport(opts.databaseUrl ?? databaseUrlOf(readEnv()), campaignId, opts);
    io.out(`wrote ${file}`);
    return 0;
  } catch (err) {
    if (!(err instanceof CampaignNotFoundError)) throw err;
    io.err(`feedloop report: ${err.message}`);
    return 1;
  }
}

function parseCount(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`must be a whole number >= 0, got "${v}"`);
  return n;
}

export function registerReportCommand(program: Command): void {
  program
    .command('report <campaignId>')
    .description('write a self-contained HTML report of a campaign: its loop\'s metrics and plots per iteration, the audit table, the workflow ids')
    .option('--out <file>', 'output file (default: $FEEDLOOP_HOME/reports/<campaignId>.report.html)')
    .option('--examples <n>', 'feedback examples shown per iteration', parseCount, 5)
    .action(async (campaignId: string, opts: { out?: string; examples: number }) => {
      process.exitCode = await runReportCommand(campaignId, opts);
    });
}

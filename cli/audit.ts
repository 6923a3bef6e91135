import { InvalidArgumentError, type Command } from 'commander';
import { readEnv } from '../infra/env';
import { databaseUrlOf } from '../infra/postgres';
import { withPool } from '../infra/pool';
import { campaignAlgorithm, CampaignNotFoundError } from '../audit/core';
import { formatRuns, pickRun, readRuns, runStoreIdToShow } from '../audit/runs';
import { loopNamed } from '../loops/registry';
import { reconcileIfReachable } from './campaign-end';
import { registerHistoryCommands } from './history';
import { registerReportCommand } from './report';

/**
 * `feedloop audit <campaign>`: what each iteration of a campaign did, recounted from the store,
 * with the workflow and run ids whose Temporal histories hold the details.
 */

export function databaseUrlFromEnv(): string {
  return databaseUrlOf(readEnv());
}

/** Where a command writes (the tests capture it). */
export interface CommandIo {
  out: (text: string) => void;
  err: (text: string) => void;
}
export const consoleIo: CommandIo = { out: (t) => console.log(t), err: (t) => console.error(t) };

/** Runs `feedloop audit`; returns the exit code (1: unknown campaign or iteration). */
export async function runAuditCommand(
  campaignId: string,
  opts: { iteration?: number; json?: boolean; numbers?: boolean; run?: number; databaseUrl?: string },
  io: CommandIo = consoleIo,
): Promise<number> {
  try {
    const databaseUrl = opts.databaseUrl ?? databaseUrlFromEnv();
    await withPool(databaseUrl, async (pool) => {
      // The details are one run's (the latest unless --run): each run of an id is stored under its own key.
      const storeId = await runStoreIdToShow(pool, campaignId, opts.run);
      // The stored campaign's algorithm picks the loop whose audit reads and prints it.
      const loop = loopNamed(await campaignAlgorithm(pool, storeId));
      // How its workflows ended, where they could not record it themselves (terminated, cancelled).
      await reconcileIfReachable(pool, storeId);
      const audit = await loop.audit.load(pool, storeId, { iteration: opts.iteration });
      const runs = await readRuns(pool, campaignId);
      if (opts.numbers) io.out(JSON.stringify(loop.audit.numbers(audit), null, 2));
      else if (opts.json) io.out(JSON.stringify({ ...audit, runs }, null, 2));
      else {
        // The runs block goes under the campaign and workflow lines.
        const [campaignLine, workflowLine, ...rest] = loop.audit.format(audit).split('\n');
        io.out([campaignLine, workflowLine, ...formatRuns(campaignId, runs, pickRun(runs, campaignId, opts.run).run), ...rest].join('\n'));
      }
    });
    return 0;
  } catch (err) {
    if (!(err instanceof CampaignNotFoundError)) throw err;
    io.err(`feedloop audit: ${err.message}`);
    return 1;
  }
}

/** A parser of a whole-number option >= 1 (`--iteration`, `--run`). */
const wholeNumberOption = (flag: string) => (v: string): number => {
  const k = Number(v);
  if (!Number.isInteger(k) || k < 1) throw new InvalidArgumentError(`${flag} must be a whole number >= 1, got "${v}"`);
  return k;
};

export const parseIteration = wholeNumberOption('--iteration');
export const parseRun = wholeNumberOption('--run');

/** Registers `audit`, `history export` and `report` on the `feedloop` program. */
export function registerAuditCommands(program: Command): void {
  program
    .command('audit <campaignId>')
    .description('what each iteration of a campaign did, recounted from the store, with the workflow ids of its histories (the loop decides the columns: ILF pass@k, RLAIF executability/CodeBLEU/AST, ...)')
    .option('--iteration <k>', 'only this iteration', parseIteration)
    .option('--json', 'print the audit as JSON (each loop\'s audit type in loops/<loop>/audit.ts)')
    .option('--numbers', 'print only the counts and metrics as JSON (auditNumbers: no ids, times or hosts), to compare two runs')
    .option('--run <n>', 'the details of this run of the campaign id (default: the latest; see the runs line)', parseRun)
    .action(async (campaignId: string, opts: { iteration?: number; json?: boolean; numbers?: boolean; run?: number }) => {
      process.exitCode = await runAuditCommand(campaignId, opts);
    });
  registerHistoryCommands(program);
  registerReportCommand(program);
}

import { InvalidArgumentError, type Command } from 'commander';
import { formatTrainingJob } from './format-training-job';
import { formatRlaifAudit } from './rlaif-audit';
import { formatTable } from './table';
import { readEnv } from '../common/config';
import { databaseUrlOf } from '../infra/postgres';
import { createPool } from '../activities/store/pool';
import {
  auditNumbers,
  CampaignNotFoundError,
  FEEDBACK_SOURCES,
  loadCampaignAudit,
  type CampaignAudit,
  type ExecutionRef,
  type IterationAudit,
} from '../activities/store/audit';
import { formatOutcomes, pct } from '../activities/metrics/report/format';
import { campaignAlgorithm, loadRlaifAudit, rlaifAuditNumbers, type RlaifCampaignAudit } from '../activities/store/rlaif-audit';
import type pg from 'pg';
import { registerHistoryCommands } from './history';
import { registerReportCommand } from './report';

/**
 * `feedloop audit <campaign>`: what each iteration of a campaign did, recounted from the store,
 * with the workflow and run ids whose Temporal histories hold the details.
 */

function formatRef(r: ExecutionRef | null): string {
  return r ? `${r.workflowId} (run ${r.runId ?? 'unknown'})` : '-';
}

export { formatTrainingJob };

export function summaryTable(iterations: readonly IterationAudit[]): string {
  return formatTable(
    ['iteration', 'status', 'samples', 'passed', 'feedback req/recv', 'refinements gen/kept', 'trained', 'pass@1', 'pass@10'],
    iterations.map((it) => [
      String(it.iteration),
      it.status,
      String(it.samples.generated),
      String(it.samples.outcomes.passed),
      `${it.feedback.requested}/${it.feedback.received}`,
      `${it.refinements.generated}/${it.refinements.kept}`,
      it.training ? (it.training.weights === 'simulated' ? 'SIMULATED' : it.training.weights === 'trained' ? 'yes' : it.training.weights === 'none' ? 'no weights' : it.training.weights) : '-',
      pct(it.passAt1),
      pct(it.passAt10),
    ]),
  );
}

function formatIteration(it: IterationAudit): string {
  const row = (label: string, value: string) => `  ${label.padEnd(13)}${value}`;
  const fbSources = FEEDBACK_SOURCES.filter((s) => it.feedback.bySource[s].requested > 0 || it.feedback.bySource[s].received > 0)
    .map((s) => `${s}: ${it.feedback.bySource[s].requested} requested, ${it.feedback.bySource[s].received} received`);
  const fbStatus = Object.entries(it.feedback.byStatus).filter(([, n]) => n > 0).map(([s, n]) => `${s}=${n}`);
  const ev = it.evaluation;
  const lines = [
    `── iteration ${it.iteration}: ${it.status} (phase ${it.phase})`,
    row('policy', it.policy.label),
    row('samples', `${it.samples.generated} generated on MBPP_Train, ${it.samples.tested} tested` + (it.samples.retriedResults ? ` (${it.samples.retriedResults} after a retry)` : '')),
    row('outcomes', formatOutcomes(it.samples.outcomes)),
    row('feedback', `${it.feedback.requested} requested, ${it.feedback.received} received` + (fbSources.length ? ` (${fbSources.join('; ')})` : '') + (fbStatus.length ? `; requests ${fbStatus.join(' ')}` : '')),
    row('refinements', `${it.refinements.generated} generated, ${it.refinements.tested} tested, ${it.refinements.kept} kept` + (it.refinements.refiners.length ? ` (refiner ${it.refinements.refiners.join(', ')})` : '')),
    row('training', formatTrainingJob(it.training)),
    row(
      'evaluation',
      ev
        ? `pass@1 ${pct(it.passAt1)}, pass@10 ${pct(it.passAt10)}` +
            Object.entries(ev.passAtK).filter(([k]) => k !== '1' && k !== '10').map(([k, v]) => `, pass@${k} ${pct(v)}`).join('') +
            ` (${ev.status}; ${ev.tasks ?? '-'} tasks, ${ev.samples ?? '-'} samples, ${ev.scored ?? '-'} scored; policy ${ev.policy.label}); outcomes ${formatOutcomes(ev.outcomes)}`
        : 'not started',
    ),
    row('history', `iteration     ${formatRef(it.history.iteration)}`),
    row('', `evaluation    ${formatRef(it.history.evaluation)}`),
  ];
  // The train samples are usually an eval run of the iteration workflow itself: name it only when not.
  const train = it.history.trainSamples;
  if (train && (train.workflowId !== it.history.iteration.workflowId || train.runId !== it.history.iteration.runId)) lines.push(row('', `train samples ${formatRef(train)}`));
  if (it.sandboxHosts.length) lines.push(row('sandbox on', it.sandboxHosts.map((h) => `${h.hostname}${h.cpu ? ` (${h.cpu})` : ''}`).join(', ')));
  for (const m of it.mismatches) lines.push(row('MISMATCH', m));
  return lines.join('\n');
}

export function formatCampaignHeader(a: CampaignAudit): string[] {
  const c = a.campaign;
  const cfg = c.config;
  const models = (['policy', 'refiner', 'feedback'] as const).filter((r) => cfg.models[r]).map((r) => `${r} ${cfg.models[r]!.label}`);
  const lines = [
    `campaign     ${c.id} (${c.algorithm}), ${c.status}; started ${c.createdAt}${c.finishedAt ? `, finished ${c.finishedAt}` : ''}`,
    `workflow     ${c.workflowId}`,
  ];
  if (cfg.description) lines.push(`description  ${cfg.description}`);
  lines.push(
    `models       ${models.join('; ') || '-'}`,
    `config       ${cfg.iterations ?? '?'} iterations; feedback ${cfg.feedbackSource ?? '-'}; refiner ${cfg.refinerKind ?? '-'}${cfg.refinerTrained ? ' (trained first)' : ''}; ` +
      `trainer ${cfg.trainer ? `${cfg.trainer.kind}${cfg.trainer.simulated ? ' (SIMULATED)' : ''}` : '-'}; ` +
      `samples/task train ${cfg.trainSamplesPerTask ?? '-'}, eval ${cfg.evalSamplesPerTask ?? '-'}; pass@${cfg.ks.join(',') || '-'}`,
  );
  if (c.simulated) lines.push(`SIMULATED    simulated models (${c.simulatedParts.join(', ')}): these numbers do not come from real LLMs`);
  if (a.refinerTraining) lines.push(`refiner job  ${formatTrainingJob(a.refinerTraining)}`);
  return lines;
}

/** The human form of `feedloop audit`. */
export function formatAudit(a: CampaignAudit): string {
  const parts = [formatCampaignHeader(a).join('\n'), ''];
  if (a.iterations.length === 0) parts.push('no iterations recorded yet');
  else parts.push(summaryTable(a.iterations), '', ...a.iterations.map((it) => `${formatIteration(it)}\n`));
  parts.push('export a history: npx feedloop history export <workflowId> --run-id <runId>');
  return parts.join('\n');
}

export function databaseUrlFromEnv(): string {
  return databaseUrlOf(readEnv());
}

export async function readCampaignAudit(databaseUrl: string, campaignId: string, opts: { iteration?: number } = {}): Promise<CampaignAudit> {
  const pool = createPool(databaseUrl, 4);
  try {
    return await loadCampaignAudit(pool, campaignId, opts);
  } finally {
    await pool.end();
  }
}

async function withPool<T>(databaseUrl: string, fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = createPool(databaseUrl, 4);
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

export function readCampaignAlgorithm(databaseUrl: string, campaignId: string): Promise<string> {
  return withPool(databaseUrl, (pool) => campaignAlgorithm(pool, campaignId));
}

export function readRlaifAudit(databaseUrl: string, campaignId: string, opts: { iteration?: number } = {}): Promise<RlaifCampaignAudit> {
  return withPool(databaseUrl, (pool) => loadRlaifAudit(pool, campaignId, opts));
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
  opts: { iteration?: number; json?: boolean; numbers?: boolean; databaseUrl?: string },
  io: CommandIo = consoleIo,
): Promise<number> {
  try {
    const databaseUrl = opts.databaseUrl ?? databaseUrlFromEnv();
    if ((await readCampaignAlgorithm(databaseUrl, campaignId)) === 'rlaif') {
      const audit = await readRlaifAudit(databaseUrl, campaignId, { iteration: opts.iteration });
      if (opts.numbers) io.out(JSON.stringify(rlaifAuditNumbers(audit), null, 2));
      else io.out(opts.json ? JSON.stringify(audit, null, 2) : formatRlaifAudit(audit));
      return 0;
    }
    const audit = await readCampaignAudit(databaseUrl, campaignId, { iteration: opts.iteration });
    if (opts.numbers) io.out(JSON.stringify(auditNumbers(audit), null, 2));
    else io.out(opts.json ? JSON.stringify(audit, null, 2) : formatAudit(audit));
    return 0;
  } catch (err) {
    if (!(err instanceof CampaignNotFoundError)) throw err;
    io.err(`feedloop audit: ${err.message}`);
    return 1;
  }
}

export function parseIteration(v: string): number {
  const k = Number(v);
  if (!Number.isInteger(k) || k < 1) throw new InvalidArgumentError(`--iteration must be a whole number >= 1, got "${v}"`);
  return k;
}

/** Registers `audit`, `history export` and `report` on the `feedloop` program. */
export function registerAuditCommands(program: Command): void {
  program
    .command('audit <campaignId>')
    .description('what each iteration of a campaign did (ILF: samples, outcomes, feedback, refinements, training, pass@k; RLAIF: rollouts, AI feedback, reward model, rewards, policy update, executability/CodeBLEU/AST), with workflow ids')
    .option('--iteration <k>', 'only this iteration', parseIteration)
    .option('--json', 'print the audit as JSON (CampaignAudit in activities/store/audit.ts; RlaifCampaignAudit in activities/store/rlaif-audit.ts)')
    .option('--numbers', 'print only the counts and metrics as JSON (auditNumbers: no ids, times or hosts), to compare two runs')
    .action(async (campaignId: string, opts: { iteration?: number; json?: boolean; numbers?: boolean }) => {
      process.exitCode = await runAuditCommand(campaignId, opts);
    });
  registerHistoryCommands(program);
  registerReportCommand(program);
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import pg from 'pg';
import { readCampaignFile } from '../../loops/config-file';
import type { ChaosLoop, WorkerKill } from '../../loops/chaos';
import { ilfChaos } from '../../loops/ilf/chaos';
import { loopNamed } from '../../loops/registry';
import { statePaths } from '../../infra/env';
import { PROJECT_ROOT } from '../../infra/paths';
import { downLocalServers, isolatedEnv, upLocalServers } from '../../infra/local-servers';
import { stopEmbeddedPostgres } from '../../infra/postgres';
import { stopTemporalServer, TOOLS_DIR } from '../../infra/temporal';
import { WorkerProcess } from './worker-process';
import { SeededRandom } from '../../activities/simulation/seeded-random';

/**
 * Chaos for a campaign config (any loop: ILF, RLAIF): the campaign runs twice with the same
 * seed, once undisturbed and once while workers are SIGKILLed in different phases and restarted,
 * the Temporal dev server is restarted and PostgreSQL is restarted. Every disturbance is chosen
 * by a seeded generator and triggered by the phase the campaign has reached, so a failing run
 * repeats. What differs per loop (phases, config, audit numbers, integrity checks) is the loop's
 * chaos descriptor (loops/<loop>/chaos.ts).
 */
export interface ChaosOptions {
  seed: number;
  /** SIGKILLs of a worker (alternating CPU and GPU workers, in different phases) */
  kills: number;
  restartTemporal: boolean;
  restartPostgres: boolean;
  /** the campaign file; its `algorithm` picks the loop (default examples/ilf-dry-run.yaml) */
  configFile?: string;
  /** top-level fields replacing the file's (e.g. fewer tasks for CI) */
  configOverrides?: Record<string, unknown>;
  log?: (line: string) => void;
}

export interface ChaosReport {
  algorithm: string;
  identical: boolean;
  /** the loop's audit numbers (every loop's have one entry per iteration) */
  baseline: { iterations: unknown[] };
  disturbed: { iterations: unknown[] };
  /** the paths of the numbers that differ, e.g. iterations.0.evaluation.passAtK.1: 0.4575 vs 0.4575000000000002 */
  differences: string[];
  disturbances: string[];
  /** training jobs that a new trainer process resumed after a kill */
  resumedTrainingJobs: number;
  problems: string[];
  finalLine: string;
}

type Action = { kind: WorkerKill | 'restart-temporal' | 'restart-postgres'; iteration: number; phase: string; delayMs: number };

/** The plan for a loop's phases (ILF's by default); which worker to kill follows the phase. */
export function planDisturbances(o: ChaosOptions, iterations: number, loop: Pick<ChaosLoop<{ iterations: number }>, 'phases' | 'workerForPhase'> = ilfChaos): Action[] {
  const rng = new SeededRandom('chaos-plan', o.seed);
  const rand = () => rng.next();
  const slots: Array<{ iteration: number; phase: string }> = [];
  for (let k = 1; k <= iterations; k++) for (const phase of loop.phases) slots.push({ iteration: k, phase });
  // Distinct (iteration, phase) slots, spread over the campaign, in campaign order.
  const wanted = o.kills + (o.restartTemporal ? 1 : 0) + (o.restartPostgres ? 1 : 0);
  const chosen = new Set<number>();
  while (chosen.size < Math.min(wanted, slots.length)) chosen.add(Math.floor(rand() * slots.length));
  const order = [...chosen].sort((a, b) => a - b);
  const kinds: Array<'kill' | 'restart-temporal' | 'restart-postgres'> = [];
  for (let i = 0; i < o.kills; i++) kinds.push('kill');
  if (o.restartTemporal) kinds.push('restart-temporal');
  if (o.restartPostgres) kinds.push('restart-postgres');
  // Shuffle the kinds over the chosen slots.
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  return order.map((slot, i) => {
    const { iteration, phase } = slots[slot]!;
    const kind = kinds[i] === 'kill' ? loop.workerForPhase[phase]! : kinds[i]!;
    return { kind: kind as Action['kind'], iteration, phase, delayMs: Math.floor(rand() * 400) };
  });
}

/** How long a campaign may stand in one phase before the run says so. */
const STALL_REPORT_MS = 90_000;

export async function retry<T>(fn: () => Promise<T>, tries = 120): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof WorkflowFailedError || i >= tries) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** The ILF dry run (examples/ilf-dry-run.yaml) under chaos. */
export function runIlfChaos(o: ChaosOptions): Promise<ChaosReport> {
  return runCampaignChaos({ configFile: path.join(PROJECT_ROOT, 'examples', 'ilf-dry-run.yaml'), ...o });
}

export async function runCampaignChaos(o: ChaosOptions): Promise<ChaosReport> {
  const raw = readCampaignFile(o.configFile ?? path.join(PROJECT_ROOT, 'examples', 'ilf-dry-run.yaml')) as Record<string, unknown>;
  const definition = loopNamed(raw?.algorithm, o.configFile);
  const loop = definition.chaos as ChaosLoop<{ iterations: number }>;
  const queues = { workflow: 'chaos-wf', cpu: 'chaos-cpu', gpu: 'chaos-gpu' };
  // Validated before any server starts: a bad config fails at once, naming the field.
  const config = loop.config(raw, o.seed, o.configOverrides, queues);
  const log = o.log ?? ((line: string) => console.log(line));
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'feedloop-chaos-'));
  const env = await isolatedEnv(home);
  const servers = await upLocalServers(env);
  const workerEnv = { TEMPORAL_ADDRESS: servers.temporalAddress, DATABASE_URL: servers.databaseUrl, FEEDLOOP_HOME: home, FEEDLOOP_TOOLS_DIR: TOOLS_DIR };
  const queueArgs = ['--workflow-queue', queues.workflow, '--cpu-queue', queues.cpu, '--gpu-queue', queues.gpu, '--shutdown-grace-ms', '1000'];
  const cpu = new WorkerProcess('cpu', 'cpu.ts', queueArgs, workerEnv);
  const gpu = new WorkerProcess('gpu', 'gpu.ts', [...queueArgs, '--gpus', '1'], workerEnv);
  const pool = new pg.Pool({ connectionString: servers.databaseUrl, max: 2 });
  pool.on('error', () => undefined);
  const disturbances: string[] = [];
  let connection: Connection | undefined;

  /** The campaign's latest iteration row: undefined before it has one, null while PostgreSQL is restarting. */
  const latestIteration = (campaignId: string) =>
    pool
      .query<{ iteration: number; phase: string; status: string }>('select iteration, phase, status from campaign_iterations where campaign_id = $1 order by iteration desc limit 1', [campaignId])
      .then(({ rows }) => rows[0])
      .catch(() => null);

  const connect = async () => {
    connection = await retry(() => Connection.connect({ address: servers.temporalAddress }));
    return new Client({ connection });
  };
  /** Waits for a campaign's result across Temporal restarts (the long poll breaks; poll again). */
  const awaitResult = async (campaignId: string) => {
    let client = await connect();
    for (;;) {
      try {
        return await client.workflow.getHandle(campaignId).result();
      } catch (err) {
        if (err instanceof WorkflowFailedError) throw err;
        await connection?.close().catch(() => undefined);
        client = await connect();
      }
    }
  };
  const runCampaign = async (campaignId: string, disturb?: () => Promise<void>) => {
    const client = await connect();
    await client.workflow.start(definition.campaignWorkflow, { workflowId: campaignId, taskQueue: queues.workflow, args: [{ campaignId, config }] });
    let finished = false;
    const disturber = (async () => {
      while (!finished && disturb) {
        await disturb();
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    // A disturbance that fails (a server that does not come back) ends the run with its error:
    // waiting on for the campaign would wait for ever.
    const disturbanceFailed = disturber.then(() => new Promise<never>(() => undefined));
    const result = awaitResult(campaignId);
    result.catch(() => undefined); // when a disturbance failed first, its retries end unheard
    const watchdog = setInterval(() => void reportStall(campaignId), 10_000);
    try {
      return await Promise.race([result, disturbanceFailed]);
    } finally {
      finished = true;
      clearInterval(watchdog);
      await disturber.catch(() => undefined);
    }
  };
  // A campaign that stops moving says where it stands and what its workers last printed, so that a
  // run cut off by a time limit (CI's) shows where it hung.
  let lastPosition = '';
  let movedAt = Date.now();
  const reportStall = async (campaignId: string) => {
    const row = await latestIteration(campaignId);
    if (row === null) return; // PostgreSQL is restarting
    const position = row ? `iteration ${row.iteration}, phase ${row.phase} (${row.status})` : 'not started';
    if (position !== lastPosition) [lastPosition, movedAt] = [position, Date.now()];
    else if (Date.now() - movedAt >= STALL_REPORT_MS) {
      movedAt = Date.now();
      log(`chaos: ${campaignId} has not moved for ${STALL_REPORT_MS / 1000} s: ${position}; cpu worker's last output: ${cpu.tail().slice(-600)}; gpu worker's: ${gpu.tail().slice(-600)}`);
    }
  };

  try {
    await Promise.all([cpu.start(), gpu.start()]);
    const baselineId = `chaos-baseline-${o.seed}`;
    log(`chaos: undisturbed run ${baselineId}`);
    await runCampaign(baselineId);

    const plan = planDisturbances(o, config.iterations, loop);
    const disturbedId = `chaos-disturbed-${o.seed}`;
    log(`chaos: disturbed run ${disturbedId}, plan: ${plan.map((a) => `${a.kind}@${a.iteration}/${a.phase}`).join(', ')}`);
    let next = 0;
    const reached = async (a: Action): Promise<boolean> => {
      const row = await latestIteration(disturbedId);
      if (!row) return false;
      if (row.iteration > a.iteration || row.status !== 'running') return row.iteration >= a.iteration;
      return row.iteration === a.iteration && loop.phases.indexOf(row.phase) >= loop.phases.indexOf(a.phase);
    };
    const act = async (a: Action) => {
      await new Promise((r) => setTimeout(r, a.delayMs));
      const at = `iteration ${a.iteration}, phase ${a.phase}`;
      if (a.kind === 'kill-cpu' || a.kind === 'kill-gpu') {
        const w = a.kind === 'kill-cpu' ? cpu : gpu;
        await w.kill();
        disturbances.push(`SIGKILL ${w.name} worker (${at})`);
        await new Promise((r) => setTimeout(r, 300 + a.delayMs));
        await w.start();
      } else if (a.kind === 'restart-temporal') {
        await stopTemporalServer(path.join(statePaths(home).run, 'temporal.pid'));
        disturbances.push(`restart Temporal dev server (${at})`);
        await upLocalServers(env);
      } else {
        await stopEmbeddedPostgres(statePaths(home).postgresData);
        disturbances.push(`restart PostgreSQL (${at})`);
        await upLocalServers(env);
      }
      log(`chaos: ${disturbances.at(-1)}`);
    };
    await runCampaign(disturbedId, async () => {
      const a = plan[next];
      if (!a || !(await reached(a))) return;
      next++;
      await act(a).catch((err: unknown) => {
        throw new Error(`chaos: ${a.kind} (iteration ${a.iteration}, phase ${a.phase}) failed: ${err instanceof Error ? err.message : String(err)}`);
      });
    });

    const baseline = await loop.auditNumbers(pool, baselineId);
    const disturbed = await loop.auditNumbers(pool, disturbedId);
    const problems: string[] = [];
    if (next < plan.length) problems.push(`only ${next} of ${plan.length} planned disturbances happened before the campaign ended`);
    const differences = numberDifferences(baseline, disturbed);
    const identical = differences.length === 0;
    if (!identical) problems.push(`audit numbers differ from the undisturbed run: ${differences.slice(0, 10).join(', ')}${differences.length > 10 ? ` and ${differences.length - 10} more` : ''}`);
    problems.push(...(await loop.integrityProblems(pool, disturbedId, config)));
    const ledgers = trainerLedgers(loop.ledgers(path.join(statePaths(home).blobs, disturbedId), config).map((l) => ({ job: l.job, files: [l.file] })));
    problems.push(...ledgers.problems);
    const kills = disturbances.filter((d) => d.startsWith('SIGKILL')).length;
    const finalLine = problems.length
      ? `chaos FAILED: ${problems.join('; ')}`
      : `chaos OK (${loop.algorithm}): ${kills} worker kills, ${disturbances.length - kills} server restarts, ${ledgers.resumedJobs} training job(s) resumed by a new trainer process; ` +
        'audit numbers identical to the undisturbed run; no training job ran twice at once; no sample counted twice';
    return { algorithm: loop.algorithm, identical, baseline, disturbed, differences, disturbances, resumedTrainingJobs: ledgers.resumedJobs, problems, finalLine };
  } finally {
    await Promise.all([cpu.stop(), gpu.stop()]);
    await pool.end().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await downLocalServers(env);
    fs.rmSync(home, { recursive: true, force: true });
  }
}

/**
 * The protocol trainer appends {pid, step, t} per trained step. Two copies of one job at once
 * would interleave their pids; a resumed job may redo steps after its last checkpoint, but
 * only after the previous process stopped writing. A job's ledger may be in several files (the
 * caches of the hosts it ran on): they are merged in time.
 */
export function trainerLedgers(jobs: ReadonlyArray<{ job: string; files: readonly string[] }>): { problems: string[]; resumedJobs: number } {
  const problems: string[] = [];
  let resumedJobs = 0;
  for (const { job, files } of jobs) {
    const present = files.filter((f) => fs.existsSync(f));
    if (!present.length) {
      problems.push(`${job}: no trainer ledger at ${files.join(' or ')}`);
      continue;
    }
    const entries = present.flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { pid: number; t?: number }));
    if (present.length > 1) entries.sort((a, b) => (a.t ?? 0) - (b.t ?? 0));
    const pids = entries.map((e) => e.pid);
    const seen = new Set<number>();
    for (let i = 0; i < pids.length; i++) {
      if (i > 0 && pids[i] !== pids[i - 1] && seen.has(pids[i]!)) problems.push(`${job}: trainer processes interleaved (two copies of one job ran at once)`);
      seen.add(pids[i]!);
    }
    if (seen.size > 1) resumedJobs++;
  }
  return { problems: [...new Set(problems)], resumedJobs };
}

/** Every leaf that differs between two audits' numbers, as "path: a vs b" (exact comparison). */
export function numberDifferences(a: unknown, b: unknown, at = ''): string[] {
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) => numberDifferences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], at ? `${at}.${k}` : k));
  }
  return Object.is(a, b) ? [] : [`${at || '(root)'}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`];
}

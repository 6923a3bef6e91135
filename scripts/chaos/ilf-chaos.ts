import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import pg from 'pg';
import { parse } from 'yaml';
import { parseIlfCampaignConfig, type IlfCampaignConfig } from '../../common/campaign-config';
import { statePaths } from '../../common/config';
import { ILF_PHASES, type IlfPhase } from '../../common/ilf';
import { PROJECT_ROOT } from '../../common/paths';
import { downLocalServers, isolatedEnv, upLocalServers } from '../../infra/local-servers';
import { stopEmbeddedPostgres } from '../../infra/postgres';
import { stopTemporalServer } from '../../infra/temporal';
import { ilfCampaignWorkflow } from '../../workflows/ilf-campaign';
import { auditNumbers, loadCampaignAudit, type AuditNumbers } from '../../activities/store/audit';
import { WorkerProcess } from './worker-process';
import { SeededRandom } from '../../common/seeded-random';

/**
 * Chaos for the ILF loop: the dry-run campaign runs twice with the same seed, once undisturbed
 * and once while workers are SIGKILLed in different phases and restarted, the Temporal dev
 * server is restarted and PostgreSQL is restarted. Every disturbance is chosen by a seeded
 * generator and triggered by the phase the campaign has reached, so a failing run repeats.
 */
export interface ChaosOptions {
  seed: number;
  /** SIGKILLs of a worker (alternating CPU and GPU workers, in different phases) */
  kills: number;
  restartTemporal: boolean;
  restartPostgres: boolean;
  /** overrides of examples/ilf-dry-run.yaml (e.g. fewer tasks for CI) */
  configOverrides?: Record<string, unknown>;
  log?: (line: string) => void;
}

export interface ChaosReport {
  identical: boolean;
  baseline: AuditNumbers;
  disturbed: AuditNumbers;
  disturbances: string[];
  /** training jobs that a new trainer process resumed after a kill */
  resumedTrainingJobs: number;
  problems: string[];
  finalLine: string;
}

type Action = { kind: 'kill-cpu' | 'kill-gpu' | 'restart-temporal' | 'restart-postgres'; iteration: number; phase: IlfPhase; delayMs: number };

/** Which worker runs each phase's heavy work: a kill there interrupts real activities. */
const WORKER_FOR_PHASE: Record<IlfPhase, 'kill-cpu' | 'kill-gpu'> = {
  generate: 'kill-gpu',
  test: 'kill-cpu',
  feedback: 'kill-cpu',
  refine: 'kill-cpu',
  filter: 'kill-cpu',
  train: 'kill-gpu',
  evaluate: 'kill-gpu',
};

export function planDisturbances(o: ChaosOptions, iterations: number): Action[] {
  const rng = new SeededRandom('chaos-plan', o.seed);
  const rand = () => rng.next();
  const slots: Array<{ iteration: number; phase: IlfPhase }> = [];
  for (let k = 1; k <= iterations; k++) for (const phase of ILF_PHASES) slots.push({ iteration: k, phase });
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
    const kind = kinds[i] === 'kill' ? WORKER_FOR_PHASE[phase] : kinds[i]!;
    return { kind: kind as Action['kind'], iteration, phase, delayMs: Math.floor(rand() * 400) };
  });
}

async function retry<T>(fn: () => Promise<T>, tries = 120): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof WorkflowFailedError || i >= tries) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

export async function runIlfChaos(o: ChaosOptions): Promise<ChaosReport> {
  const log = o.log ?? ((line: string) => console.log(line));
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'feedloop-chaos-'));
  const env = await isolatedEnv(home);
  const servers = await upLocalServers(env);
  const queues = { workflow: 'chaos-wf', cpu: 'chaos-cpu', gpu: 'chaos-gpu' };
  const raw = parse(fs.readFileSync(path.join(PROJECT_ROOT, 'examples', 'ilf-dry-run.yaml'), 'utf8')) as Record<string, unknown>;
  const config: IlfCampaignConfig = parseIlfCampaignConfig({
    ...raw,
    seed: o.seed,
    // A killed worker's activities move elsewhere after these timeouts (trainers heartbeat every 5 s).
    timeouts: { store: '10s', cpuHeartbeat: '5s', gpuHeartbeat: '12s' },
    // A real trainer process that follows the protocol: a kill in the train phase orphans it,
    // and the retry must take over its lock and resume from its last complete checkpoint.
    trainer: {
      kind: 'command',
      command: [process.execPath, path.join(PROJECT_ROOT, 'trainers', 'simulated', 'trainer.mjs')],
      baseModel: 'simulated-base',
      hyperparameters: { totalSteps: 60, checkpointEvery: 10, stepMs: 40 },
    },
    ...o.configOverrides,
    taskQueues: queues,
  });
  const workerEnv = { TEMPORAL_ADDRESS: servers.temporalAddress, DATABASE_URL: servers.databaseUrl, FEEDLOOP_HOME: home };
  const queueArgs = ['--workflow-queue', queues.workflow, '--cpu-queue', queues.cpu, '--gpu-queue', queues.gpu, '--shutdown-grace-ms', '1000'];
  const cpu = new WorkerProcess('cpu', 'cpu.ts', queueArgs, workerEnv);
  const gpu = new WorkerProcess('gpu', 'gpu.ts', [...queueArgs, '--gpus', '1'], workerEnv);
  const pool = new pg.Pool({ connectionString: servers.databaseUrl, max: 2 });
  pool.on('error', () => undefined);
  const disturbances: string[] = [];
  let connection: Connection | undefined;

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
    await client.workflow.start(ilfCampaignWorkflow, { workflowId: campaignId, taskQueue: queues.workflow, args: [{ campaignId, config }] });
    let finished = false;
    const disturber = (async () => {
      while (!finished && disturb) {
        await disturb();
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    try {
      return await awaitResult(campaignId);
    } finally {
      finished = true;
      await disturber;
    }
  };

  try {
    await Promise.all([cpu.start(), gpu.start()]);
    const baselineId = `chaos-baseline-${o.seed}`;
    log(`chaos: undisturbed run ${baselineId}`);
    await runCampaign(baselineId);

    const plan = planDisturbances(o, config.iterations);
    const disturbedId = `chaos-disturbed-${o.seed}`;
    log(`chaos: disturbed run ${disturbedId}, plan: ${plan.map((a) => `${a.kind}@${a.iteration}/${a.phase}`).join(', ')}`);
    let next = 0;
    const reached = async (a: Action): Promise<boolean> => {
      try {
        const { rows } = await pool.query<{ iteration: number; phase: IlfPhase; status: string }>(
          'select iteration, phase, status from campaign_iterations where campaign_id = $1 order by iteration desc limit 1',
          [disturbedId],
        );
        const row = rows[0];
        if (!row) return false;
        if (row.iteration > a.iteration || row.status !== 'running') return row.iteration >= a.iteration;
        return row.iteration === a.iteration && ILF_PHASES.indexOf(row.phase) >= ILF_PHASES.indexOf(a.phase);
      } catch {
        return false; // PostgreSQL is restarting
      }
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
      await act(a);
    });

    const baseline = auditNumbers(await loadCampaignAudit(pool, baselineId));
    const disturbed = auditNumbers(await loadCampaignAudit(pool, disturbedId));
    const problems: string[] = [];
    if (next < plan.length) problems.push(`only ${next} of ${plan.length} planned disturbances happened before the campaign ended`);
    const identical = JSON.stringify(baseline) === JSON.stringify(disturbed);
    if (!identical) problems.push('audit numbers differ from the undisturbed run');
    problems.push(...(await integrityProblems(pool, disturbedId, config)));
    const ledgers = trainerLedgers(path.join(statePaths(home).blobs, disturbedId), config.iterations);
    problems.push(...ledgers.problems);
    const kills = disturbances.filter((d) => d.startsWith('SIGKILL')).length;
    const finalLine = problems.length
      ? `chaos FAILED: ${problems.join('; ')}`
      : `chaos OK: ${kills} worker kills, ${disturbances.length - kills} server restarts, ${ledgers.resumedJobs} training job(s) resumed by a new trainer process; ` +
        'audit numbers identical to the undisturbed run; no training job ran twice at once; no sample counted twice';
    return { identical, baseline, disturbed, disturbances, resumedTrainingJobs: ledgers.resumedJobs, problems, finalLine };
  } finally {
    await Promise.all([cpu.stop(), gpu.stop()]);
    await pool.end().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await downLocalServers(env);
    fs.rmSync(home, { recursive: true, force: true });
  }
}

/**
 * The protocol trainer appends {pid, step} per trained step. Two copies of one job at once
 * would interleave their pids; a resumed job may redo steps after its last checkpoint, but
 * only after the previous process stopped writing.
 */
function trainerLedgers(campaignBlobs: string, iterations: number): { problems: string[]; resumedJobs: number } {
  const problems: string[] = [];
  let resumedJobs = 0;
  for (let k = 1; k <= iterations; k++) {
    const file = path.join(campaignBlobs, `iteration-${k}`, 'sft', 'ledger.jsonl');
    if (!fs.existsSync(file)) {
      problems.push(`iteration ${k}: no trainer ledger at ${file}`);
      continue;
    }
    const pids = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { pid: number }).pid);
    const seen = new Set<number>();
    for (let i = 0; i < pids.length; i++) {
      if (i > 0 && pids[i] !== pids[i - 1] && seen.has(pids[i]!)) problems.push(`iteration ${k}: trainer processes interleaved (two copies of one job ran at once)`);
      seen.add(pids[i]!);
    }
    if (seen.size > 1) resumedJobs++;
  }
  return { problems: [...new Set(problems)], resumedJobs };
}

/** Things a crash could have doubled: samples, results, training jobs. */
async function integrityProblems(pool: pg.Pool, campaignId: string, config: IlfCampaignConfig): Promise<string[]> {
  const problems: string[] = [];
  const { rows: gens } = await pool.query<{ eval_run_id: string; n: string; tasks: string }>(
    `select eval_run_id, count(*) as n, count(distinct task_id) as tasks from generations where eval_run_id like $1 group by eval_run_id`,
    [`${campaignId}/%`],
  );
  for (const g of gens) {
    const perTask = g.eval_run_id.endsWith('/train-samples') ? config.sampling.train.n : config.sampling.eval.n;
    if (Number(g.n) !== Number(g.tasks) * perTask) problems.push(`${g.eval_run_id}: ${g.n} samples for ${g.tasks} tasks x ${perTask}`);
  }
  const { rows: results } = await pool.query<{ items: string; results: string }>(
    `select (select count(*) from sandbox_items i join sandbox_batches b on b.id = i.batch_id where b.owner like $1) as items,
            (select count(*) from sandbox_results r join sandbox_batches b on b.id = r.batch_id where b.owner like $1) as results`,
    [`${campaignId}/%`],
  );
  if (results[0]!.items !== results[0]!.results) problems.push(`${results[0]!.items} programs but ${results[0]!.results} results`);
  const { rows: jobs } = await pool.query<{ iteration: number; status: string; steps: number; examples: number }>(
    'select iteration, status, steps, examples from training_jobs where campaign_id = $1 order by iteration',
    [campaignId],
  );
  if (jobs.length !== config.iterations) problems.push(`${jobs.length} training jobs for ${config.iterations} iterations`);
  const stepsPerExample = config.trainer.kind === 'simulated' ? config.trainer.stepsPerExample : 1;
  for (const j of jobs) {
    if (j.status !== 'completed') problems.push(`training job of iteration ${j.iteration} is ${j.status}`);
    if (config.trainer.kind === 'simulated' && j.steps !== j.examples * stepsPerExample) problems.push(`training job of iteration ${j.iteration} counted ${j.steps} steps for ${j.examples} examples`);
    if (config.trainer.kind === 'command' && j.steps !== config.trainer.hyperparameters.totalSteps) problems.push(`training job of iteration ${j.iteration} reports ${j.steps} steps`);
  }
  return problems;
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import pg from 'pg';
import { CHAOS_TIMEOUTS } from '../../loops/chaos';
import { readCampaignFile } from '../../loops/config-file';
import { ilfChaos } from '../../loops/ilf/chaos';
import { loadCampaignAudit } from '../../loops/ilf/audit';
import { ilfCampaignWorkflow } from '../../loops/ilf/workflow';
import type { IlfCampaignConfig } from '../../loops/ilf/config';
import { formatPlacement } from '../../audit/core';
import { statePaths } from '../../infra/env';
import { PROJECT_ROOT } from '../../infra/paths';
import { downLocalServers, isolatedEnv, upLocalServers } from '../../infra/local-servers';
import { stopEmbeddedPostgres } from '../../infra/postgres';
import { stopClusterService, type ClusterService } from '../../infra/temporal-cluster';
import { TOOLS_DIR } from '../../infra/temporal';
import { CheckpointStore, publishedProblem } from '../../activities/training/checkpoint-store';
import { SeededRandom } from '../../activities/simulation/seeded-random';
import type { StepPlacement } from '../../common/task-queues';
import { numberDifferences, retry, trainerLedgers } from './campaign-chaos';
import { WorkerProcess } from './worker-process';

/**
 * The ILF dry-run campaign across hosts, on the production Temporal server (frontend, history,
 * matching and worker as separate processes on PostgreSQL: `dev up --cluster`), with two CPU
 * worker processes and two GPU "hosts" (worker processes with their own host ids and local
 * checkpoint caches, one shared store). It runs undisturbed once, then again while a seeded
 * schedule SIGKILLs the history service and restarts it, restarts matching and the frontend,
 * restarts PostgreSQL, SIGKILLs a CPU worker (restarted) and kills the GPU host that trained one
 * iteration for good, right after it trained. The evaluation of that checkpoint must fall back to
 * the other host (which pulls it from the shared store), and the audit numbers must equal the
 * undisturbed run's.
 */
export interface ClusterChaosOptions {
  seed: number;
  /** top-level config fields replacing the dry run's (e.g. fewer tasks) */
  configOverrides?: Record<string, unknown>;
  /** the host schedule-to-start timeout the fallback waits (default 5s) */
  hostScheduleToStart?: string;
  log?: (line: string) => void;
}

export interface ClusterChaosReport {
  passed: boolean;
  problems: string[];
  disturbances: string[];
  /** the placement line of the evaluation that fell back */
  fallback: string | undefined;
  wallSeconds: number;
  compared: string;
  finalLine: string;
}

type ServerFault = 'kill-history' | 'restart-matching' | 'restart-frontend' | 'restart-postgres' | 'kill-cpu';
interface Fault {
  kind: ServerFault;
  iteration: number;
  phase: string;
}

const SERVER_FAULTS: readonly ServerFault[] = ['kill-history', 'restart-matching', 'restart-frontend', 'restart-postgres', 'kill-cpu'];

/** Seeded: each server fault at a distinct (iteration, phase), and the iteration after whose training a GPU host is lost. */
export function planClusterFaults(seed: number, iterations: number, phases: readonly string[]): { faults: Fault[]; loseHostAfter: number } {
  const rng = new SeededRandom('chaos-cluster-plan', seed);
  const slots: Array<{ iteration: number; phase: string }> = [];
  for (let k = 1; k <= iterations; k++) for (const phase of phases) slots.push({ iteration: k, phase });
  const chosen = new Set<number>();
  while (chosen.size < Math.min(SERVER_FAULTS.length, slots.length)) chosen.add(Math.floor(rng.next() * slots.length));
  const kinds = [...SERVER_FAULTS];
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  const faults = [...chosen].sort((a, b) => a - b).map((slot, i) => ({ kind: kinds[i]!, ...slots[slot]! }));
  // Not the last iteration when there are several: the campaign then trains again on what is left.
  const loseHostAfter = 1 + Math.floor(rng.next() * Math.max(1, iterations - 1));
  return { faults, loseHostAfter };
}

const GPU_HOSTS = ['gpu-a', 'gpu-b'] as const;

export async function runClusterChaos(o: ClusterChaosOptions): Promise<ClusterChaosReport> {
  const started = Date.now();
  const log = o.log ?? ((line: string) => console.log(line));
  const raw = readCampaignFile(path.join(PROJECT_ROOT, 'examples', 'ilf-dry-run.yaml')) as Record<string, unknown>;
  const queues = { workflow: 'chaos-wf', cpu: 'chaos-cpu', gpu: 'chaos-gpu' };
  const after = o.hostScheduleToStart ?? '5s';
  const config: IlfCampaignConfig = ilfChaos.config(raw, o.seed, { timeouts: { ...CHAOS_TIMEOUTS, hostScheduleToStart: after }, ...o.configOverrides }, queues);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'feedloop-chaos-cluster-'));
  const env = await isolatedEnv(home, { FEEDLOOP_TEMPORAL: 'cluster' });
  const paths = statePaths(home);
  const disturbances: string[] = [];
  const note = (what: string) => {
    disturbances.push(what);
    log(`chaos:cluster: ${what}`);
  };
  const problems: string[] = [];
  let connection: Connection | undefined;
  let pool: pg.Pool | undefined;
  const workers: WorkerProcess[] = [];
  try {
    log(`chaos:cluster: starting the Temporal cluster and PostgreSQL in ${home}`);
    const servers = await upLocalServers(env);
    const workerEnv = { TEMPORAL_ADDRESS: servers.temporalAddress, TEMPORAL_NAMESPACE: env.TEMPORAL_NAMESPACE, DATABASE_URL: servers.databaseUrl, FEEDLOOP_HOME: home, FEEDLOOP_TOOLS_DIR: TOOLS_DIR };
    const queueArgs = ['--workflow-queue', queues.workflow, '--cpu-queue', queues.cpu, '--gpu-queue', queues.gpu, '--shutdown-grace-ms', '1000'];
    const cacheOf = (host: string) => path.join(home, 'host-cache', host);
    const cpus = ['cpu-1', 'cpu-2'].map((name) => new WorkerProcess(name, 'cpu.ts', [...queueArgs, '--host-id', name, '--sandbox-concurrency', '2'], workerEnv));
    const gpus = new Map(GPU_HOSTS.map((host) => [host, new WorkerProcess(host, 'gpu.ts', [...queueArgs, '--gpus', '1', '--host-id', host, '--blob-dir', paths.blobs, '--host-cache', cacheOf(host)], workerEnv)]));
    workers.push(...cpus, ...gpus.values());
    pool = new pg.Pool({ connectionString: servers.databaseUrl, max: 2 });
    pool.on('error', () => undefined);
    const db = pool;
    for (const w of workers) await w.start(); // one at a time: each bundles or loads its code
    log(`chaos:cluster: workers up: ${workers.map((w) => w.name).join(', ')}`);

    const connect = async () => {
      await connection?.close().catch(() => undefined);
      connection = await retry(() => Connection.connect({ address: servers.temporalAddress }));
      return new Client({ connection, namespace: env.TEMPORAL_NAMESPACE });
    };
    const runCampaign = async (campaignId: string, disturb?: () => Promise<void>) => {
      const client = await connect();
      await retry(() => client.workflow.start(ilfCampaignWorkflow, { workflowId: campaignId, taskQueue: queues.workflow, args: [{ campaignId, config }] }));
      let finished = false;
      const disturber = (async () => {
        while (!finished && disturb) {
          try {
            await disturb();
          } catch (err) {
            problems.push(`a disturbance failed: ${(err as Error).message.split('\n')[0]}`);
            finished = true;
          }
          await new Promise((r) => setTimeout(r, 150));
        }
      })();
      try {
        for (let c = client; ; ) {
          try {
            return await c.workflow.getHandle(campaignId).result();
          } catch (err) {
            if (err instanceof WorkflowFailedError) throw err;
            c = await connect(); // the frontend restarted: poll again
          }
        }
      } finally {
        finished = true;
        await disturber;
      }
    };

    const baselineId = `chaos-cluster-baseline-${o.seed}`;
    log(`chaos:cluster: undisturbed run ${baselineId}`);
    await runCampaign(baselineId);
    log(`chaos:cluster: undisturbed run done at ${Math.round((Date.now() - started) / 1000)} s`);

    const plan = planClusterFaults(o.seed, config.iterations, ilfChaos.phases);
    const disturbedId = `chaos-cluster-disturbed-${o.seed}`;
    log(`chaos:cluster: disturbed run ${disturbedId}, plan: ${plan.faults.map((f) => `${f.kind}@${f.iteration}/${f.phase}`).join(', ')}, lose a GPU host after iteration ${plan.loseHostAfter} trains`);
    let next = 0;
    let lostHost: string | undefined;
    const query = async <R extends pg.QueryResultRow>(sql: string, args: unknown[]): Promise<R[]> => {
      try {
        return (await db.query<R>(sql, args)).rows;
      } catch {
        return []; // PostgreSQL is restarting
      }
    };
    const reached = async (f: Fault): Promise<boolean> => {
      const [row] = await query<{ iteration: number; phase: string; status: string }>('select iteration, phase, status from campaign_iterations where campaign_id = $1 order by iteration desc limit 1', [disturbedId]);
      if (!row) return false;
      if (row.iteration > f.iteration || row.status !== 'running') return row.iteration >= f.iteration;
      return row.iteration === f.iteration && ilfChaos.phases.indexOf(row.phase) >= ilfChaos.phases.indexOf(f.phase);
    };
    const up = () => upLocalServers(env);
    const fault = async (f: Fault) => {
      const at = `iteration ${f.iteration}, phase ${f.phase}`;
      const restart = async (service: ClusterService, signal: NodeJS.Signals, what: string) => {
        await stopClusterService(paths.run, service, signal);
        note(`${what} (${at})`);
        await up();
      };
      switch (f.kind) {
        case 'kill-history':
          return restart('history', 'SIGKILL', 'SIGKILL the history service, restart it');
        case 'restart-matching':
          return restart('matching', 'SIGTERM', 'restart the matching service');
        case 'restart-frontend':
          return restart('frontend', 'SIGTERM', 'restart the frontend');
        case 'restart-postgres':
          await stopEmbeddedPostgres(paths.postgresData);
          note(`restart PostgreSQL (${at})`);
          await up();
          return;
        case 'kill-cpu': {
          const w = cpus[Math.floor(new SeededRandom('chaos-cluster-cpu', o.seed).next() * cpus.length)]!;
          await w.kill();
          note(`SIGKILL CPU worker ${w.name}, restart it (${at})`);
          await new Promise((r) => setTimeout(r, 500));
          await w.start();
        }
      }
    };
    /**
     * Kills the host that trained iteration k as soon as the campaign has its result (the
     * iteration entered 'evaluate': the training activity's completion is in the history, so no
     * retry elsewhere will take the job over) and before the host has run the evaluation sent to
     * its queue. Watched on a connection of its own, apart from the server faults (which take
     * seconds), every 20 ms, so the kill never lands in a later step.
     */
    let watching = true;
    const hostLoss = (async () => {
      let watcher: pg.Client | undefined;
      while (watching && lostHost === undefined) {
        try {
          if (!watcher) {
            watcher = new pg.Client({ connectionString: servers.databaseUrl });
            watcher.on('error', () => undefined);
            await watcher.connect();
          }
          const { rows } = await watcher.query<{ status: string; worker_task_queue: string; phase: string }>(
            `select j.status, j.worker_task_queue, i.phase from training_jobs j join campaign_iterations i on i.campaign_id = j.campaign_id and i.iteration = j.iteration where j.id = $1`,
            [`${disturbedId}/iteration-${plan.loseHostAfter}/sft`],
          );
          if (rows[0]?.status === 'completed' && rows[0].phase === 'evaluate') {
            const host = rows[0].worker_task_queue.slice(`${queues.gpu}@`.length);
            await gpus.get(host as (typeof GPU_HOSTS)[number])!.kill();
            lostHost = host;
            note(`SIGKILL GPU host ${host} for good, right after it trained iteration ${plan.loseHostAfter}`);
          }
        } catch {
          // PostgreSQL is restarting: a fresh connection next round
          await watcher?.end().catch(() => undefined);
          watcher = undefined;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      await watcher?.end().catch(() => undefined);
    })();
    try {
      await runCampaign(disturbedId, async () => {
        const f = plan.faults[next];
        if (!f || !(await reached(f))) return;
        next++;
        await fault(f);
      });
    } finally {
      watching = false;
      await hostLoss;
    }
    log(`chaos:cluster: disturbed run done at ${Math.round((Date.now() - started) / 1000)} s`);

    // The checks.
    if (next < plan.faults.length) problems.push(`only ${next} of ${plan.faults.length} planned server faults happened before the campaign ended`);
    if (lostHost === undefined) problems.push(`no GPU host was lost: iteration ${plan.loseHostAfter}'s training never completed`);
    const [baselineAudit, disturbedAudit] = [await loadCampaignAudit(db, baselineId), await loadCampaignAudit(db, disturbedId)];
    const baseline = await ilfChaos.auditNumbers(db, baselineId);
    const disturbed = await ilfChaos.auditNumbers(db, disturbedId);
    const differences = numberDifferences(baseline, disturbed);
    if (differences.length) problems.push(`audit numbers differ from the undisturbed run: ${differences.slice(0, 10).join(', ')}${differences.length > 10 ? ` and ${differences.length - 10} more` : ''}`);
    if (disturbedAudit.campaign.status !== 'completed') problems.push(`the disturbed campaign is ${disturbedAudit.campaign.status}`);
    problems.push(...(await ilfChaos.integrityProblems(db, disturbedId, config)));
    const caches = GPU_HOSTS.map((h) => new CheckpointStore(paths.blobs, cacheOf(h), h));
    const ledgerFiles = ilfChaos.ledgers(path.join(paths.blobs, disturbedId), config).map((l) => ({ job: l.job, files: caches.map((c) => c.localPath(l.file)) }));
    const ledgers = trainerLedgers(ledgerFiles);
    problems.push(...ledgers.problems);

    // The fallback: the lost host's checkpoint was evaluated on the survivor, which pulled it from the shared store.
    let fallback: string | undefined;
    if (lostHost !== undefined) {
      const survivor = GPU_HOSTS.find((h) => h !== lostHost)!;
      const placement = disturbedAudit.iterations.find((it) => it.iteration === plan.loseHostAfter)?.evaluation?.placement as Record<string, StepPlacement> | undefined;
      const gen = placement?.generate;
      fallback = formatPlacement(placement);
      if (!gen) problems.push(`iteration ${plan.loseHostAfter}'s evaluation recorded no placement`);
      else if (gen.reason !== 'fallback' || gen.preferred !== `${queues.gpu}@${lostHost}` || gen.host !== survivor || !gen.worker?.includes(`@${survivor}/`)) {
        problems.push(`iteration ${plan.loseHostAfter}'s evaluation did not fall back to ${survivor}: ${fallback}`);
      }
      const checkpoint = disturbedAudit.iterations.find((it) => it.iteration === plan.loseHostAfter)?.training?.checkpoint;
      const survivorCache = caches.find((c) => c.host === survivor)!;
      if (!checkpoint) problems.push(`iteration ${plan.loseHostAfter}'s training recorded no checkpoint`);
      else if (publishedProblem(checkpoint) !== null) problems.push(`the shared store's copy of ${checkpoint} is not complete: ${publishedProblem(checkpoint)}`);
      else if (publishedProblem(survivorCache.localPath(checkpoint)) !== null) problems.push(`${survivor} did not pull ${checkpoint} into its cache`);
      // every evaluation of the undisturbed run stayed on its checkpoint's host
      for (const it of baselineAudit.iterations) {
        const p = (it.evaluation?.placement as Record<string, StepPlacement> | undefined)?.generate;
        if (p?.reason !== 'preferred-host') problems.push(`the undisturbed run's iteration ${it.iteration} evaluation ran on ${p?.taskQueue ?? 'nothing recorded'} (${p?.reason ?? '-'})`);
      }
    }

    const wallSeconds = Math.round((Date.now() - started) / 1000);
    const compared = baseline.iterations
      .map((it) => {
        const n = it as { iteration: number; samples: { generated: number }; training: { steps: number | null } | null; evaluation: { passAtK: Record<string, number> } | null };
        return `it${n.iteration} samples ${n.samples.generated} steps ${n.training?.steps ?? '-'} ${Object.entries(n.evaluation?.passAtK ?? {}).map(([k, v]) => `pass@${k} ${v.toFixed(4)}`).join(' ')}`;
      })
      .join('; ');
    const faults = disturbances.length;
    const passed = problems.length === 0;
    const finalLine = passed
      ? `chaos:cluster PASS: ${faults} faults injected (${disturbances.map((d) => d.replace(/ \(iteration.*\)$/, '')).join('; ')}); ${fallback}; ` +
        `audit numbers identical to the undisturbed run (${compared}); no training job ran twice at once; no sample counted twice; wall ${wallSeconds} s`
      : `chaos:cluster FAIL after ${wallSeconds} s, ${faults} faults injected: ${problems.join('; ')}`;
    return { passed, problems, disturbances, fallback, wallSeconds, compared, finalLine };
  } catch (err) {
    const tails = workers.map((w) => `--- ${w.name} ---\n${w.tail()}`).join('\n');
    throw new Error(`${(err as Error).message}\n${tails}`);
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await pool?.end().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await downLocalServers(env);
    fs.rmSync(home, { recursive: true, force: true });
  }
}

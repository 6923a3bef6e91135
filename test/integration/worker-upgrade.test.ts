import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { withPool } from '../../infra/pool';
import { deploymentStatus, formatDeploymentStatus, setCurrentVersion } from '../../cli/deploy';
import { ConfigError } from '../../common/config-error';
import { PROJECT_ROOT } from '../../infra/paths';
import { createLogger } from '../../infra/logger';
import { waitFor } from '../../infra/processes';
import { loadCampaignAudit } from '../../loops/ilf/audit';
import { formatAudit } from '../../loops/ilf/audit-text';
import { ilfIds } from '../../loops/ilf/types';
import { ilfCampaignWorkflow } from '../../loops/ilf/workflow';
import { pauseIterationSignal, resumeIterationSignal } from '../../workflows/control';
import { startWorkers, type RunningWorkers } from '../../workers/run-workers';
import { campaignId, exampleConfig, query } from '../ilf/helpers';
import { activityPlacements, type HistoryEvent } from '../helpers/history';
import { tempDir } from '../helpers/temp-dir';
import { testClient, testWorkerOptions, uniqueQueues, workflowBundle } from '../helpers/temporal';

/**
 * A worker upgrade in the middle of a campaign, with Temporal worker versioning: the campaign
 * starts on version A; while iteration 1 runs, workers of version B start (B's ILF iteration
 * issues a different command sequence: test/fixtures/versioning/workflows-b.ts) and B is made
 * current; iteration 1 finishes on A (pinned), A's workers stop once it has drained, and the
 * later iterations run on B (the campaign auto-upgrades between iterations).
 */
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const running: RunningWorkers[] = [];

afterAll(async () => {
  for (const w of running) w.shutdown();
  await Promise.all(running.map((w) => w.done));
});

const eventsOf = async (client: Awaited<ReturnType<typeof testClient>>['client'], workflowId: string): Promise<HistoryEvent[]> =>
  (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];

describe('upgrading workers mid-campaign', () => {
  it('finishes iteration 1 on version A, runs the later ones on B, with no non-determinism error', { timeout: 180_000 }, async () => {
    const queues = uniqueQueues('upgrade');
    const deployment = `upgrade-${queues.workflow.slice(-8)}`;
    const log = createLogger('test', 'warn');
    const { client, close } = await testClient();
    try {
      const [bundleA, bundleB] = await Promise.all([
        workflowBundle(),
        bundleWorkflowCode({ workflowsPath: path.join(PROJECT_ROOT, 'test', 'fixtures', 'versioning', 'workflows-b.ts'), logger: quiet }),
      ]);
      const startVersion = async (host: string, bundle: typeof bundleA) => {
        // No build id given: each takes its bundle's (workers/versioning.ts defaultBuildId).
        const w = await startWorkers(['workflow', 'cpu', 'gpu'], testWorkerOptions(queues, { deploymentName: deployment, hostId: host, blobDir: tempDir(host) }), { workflowBundle: bundle, log });
        running.push(w);
        await waitFor(`version of ${host} registered`, async () => (await deploymentStatus(client, deployment).catch(() => undefined))?.versions.some((v) => v.buildId === w.version!.buildId) ?? false, { timeoutMs: 30_000 });
        return w;
      };

      const a = await startVersion('host-a', bundleA);
      const A = a.version!.buildId;
      expect(A).toMatch(/^\d+\.\d+\.\d+-[0-9a-f]{12}$/);
      await setCurrentVersion(client, deployment, A);

      const id = campaignId('upgrade');
      const config = exampleConfig('ilf-dry-run.yaml', queues, { dataset: { maxTrainTasks: 12, maxTestTasks: 6 }, sampling: { train: { n: 1 }, eval: { n: 2, ks: [1, 2] } } });
      const handle = await client.workflow.start(ilfCampaignWorkflow, { workflowId: id, taskQueue: queues.workflow, args: [{ campaignId: id, config }] });

      // Iteration 1 is running on A: hold it there (paused, by a signal to the iteration alone, so
      // the campaign gets no workflow task) while B arrives.
      await waitFor('iteration 1 started', async () => (await query('select 1 from campaign_iterations where campaign_id = $1 and iteration = 1', [id])).length === 1, { timeoutMs: 60_000 });
      const iteration1 = client.workflow.getHandle(ilfIds.iterationWorkflow(id, 1));
      await iteration1.signal(pauseIterationSignal);

      const b = await startVersion('host-b', bundleB);
      const B = b.version!.buildId;
      expect(B).not.toBe(A);
      await expect(setCurrentVersion(client, deployment, 'no-such-build')).rejects.toThrow(ConfigError);
      await expect(setCurrentVersion(client, deployment, 'no-such-build')).rejects.toThrow(/unknown build id "no-such-build" in worker deployment/);
      // Before the switch: A current, holding the campaign (auto-upgrade) and iteration 1 (pinned); B idle.
      // (Visibility, which the counts come from, may lag a moment behind.)
      const summary = async () => (await deploymentStatus(client, deployment)).versions.map((v) => [v.buildId, v.status, v.openWorkflows, v.openPinned]);
      const expected = [[A, 'current', 2, 1], [B, 'inactive', 0, 0]];
      await waitFor('A holding the campaign and iteration 1', async () => JSON.stringify(await summary()) === JSON.stringify(expected), { timeoutMs: 10_000, intervalMs: 250 }).catch(() => undefined);
      expect(await summary()).toEqual(expected);
      expect((await deploymentStatus(client, deployment)).current).toBe(A);
      await setCurrentVersion(client, deployment, B);
      await iteration1.signal(resumeIterationSignal);

      // A keeps its workers until its pinned iteration has drained; then they stop.
      await waitFor('version A drained', async () => (await deploymentStatus(client, deployment)).versions.find((v) => v.buildId === A)!.safeToStop, { timeoutMs: 90_000, intervalMs: 500 });
      const status = await deploymentStatus(client, deployment);
      expect(status.current).toBe(B);
      expect(status.versions.find((v) => v.buildId === A)).toMatchObject({ openPinned: 0, safeToStop: true });
      expect(status.versions.find((v) => v.buildId === B)).toMatchObject({ status: 'current', safeToStop: false });
      expect(formatDeploymentStatus(status)).toMatch(new RegExp(`current\\s+${deployment}/${B}`));
      a.shutdown();
      await a.done;

      // Bounded: a campaign stuck on a failing workflow task (non-determinism) would wait for ever.
      const result = await Promise.race([handle.result(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('campaign did not finish within 90 s')), 90_000).unref())]);
      expect(result.status).toBe('completed');
      expect(result.iterations.map((r) => r.completed)).toEqual([true, true, true]);

      // No workflow task failed anywhere (a non-determinism error fails one), and the versions differ in kind.
      const ids = [id, ...[1, 2, 3].flatMap((k) => [ilfIds.iterationWorkflow(id, k), ilfIds.evaluation(id, k)])];
      const histories = new Map(await Promise.all(ids.map(async (w) => [w, await eventsOf(client, w)] as const)));
      for (const [w, events] of histories) expect(events.filter((e) => e.workflowTaskFailedEventAttributes).map(() => w)).toEqual([]);
      // Every activity of an iteration (and of its evaluation) ran on its own version's workers.
      const hostsOf = (k: number) => new Set([ilfIds.iterationWorkflow(id, k), ilfIds.evaluation(id, k)].flatMap((w) => activityPlacements(histories.get(w)!).map((p) => p.startedBy.replace(/^\d+@([^/]+)\/.*$/, '$1'))));
      expect([hostsOf(1), hostsOf(2), hostsOf(3)]).toEqual([new Set(['host-a']), new Set(['host-b']), new Set(['host-b'])]);
      const timers = (k: number) => histories.get(ilfIds.iterationWorkflow(id, k))!.filter((e) => e.timerStartedEventAttributes).length;
      expect([timers(1), timers(2), timers(3)]).toEqual([0, 1, 1]);
      // The campaign's workflow tasks ran on A up to iteration 1's end; the one that started
      // iteration 2 (its first under B) ran on B, and so did every later one.
      const campaignEvents = histories.get(id)!;
      const iteration2Started = campaignEvents.findIndex((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId === ilfIds.iterationWorkflow(id, 2));
      const buildOf = (events: HistoryEvent[]) => events.flatMap((e) => e.workflowTaskCompletedEventAttributes?.deploymentVersion?.buildId ?? []);
      const before2 = buildOf(campaignEvents.slice(0, iteration2Started));
      expect(new Set(before2.slice(0, -1))).toEqual(new Set([A]));
      expect(before2.at(-1)).toBe(B);
      expect(new Set(buildOf(campaignEvents.slice(iteration2Started)))).toEqual(new Set([B]));

      // The audit says which iteration ran on which version, and the numbers add up.
      const audit = await withPool(inject('databaseUrl'), (pool) => loadCampaignAudit(pool, id));
      expect(audit.iterations.map((it) => it.workerVersion?.buildId)).toEqual([A, B, B]);
      expect(audit.iterations.map((it) => it.workerVersion?.deploymentName)).toEqual([deployment, deployment, deployment]);
      for (const it of audit.iterations) {
        expect(it.status).toBe('completed');
        expect(it.samples.generated).toBe(12);
        expect(it.passAt1).toBeGreaterThanOrEqual(0);
        expect(it.passAt1).toBeLessThanOrEqual(1);
      }
      const rows = await query<{ policy: { trained?: { examples: number } }; counts: { refinementsKept?: number } }>('select policy, counts from campaign_iterations where campaign_id = $1 order by iteration', [id]);
      // Iteration 2 (on B) trains on from iteration 1's checkpoint (on A): the carry crossed the upgrade.
      expect(rows[1]!.policy.trained?.examples).toBe(rows[0]!.counts.refinementsKept);
      expect(audit.start?.evaluation.status).toBe('completed');
      const text = formatAudit(audit);
      expect(text).toContain(`versions     ${deployment}/${A}: iteration 1; ${deployment}/${B}: iterations 2-3`);
      expect(text).toContain(`worker       ${deployment}/${B} (pinned`);

      // The operator's command: an unknown build id is one line and exit 2.
      const cli = spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli', 'main.ts'), 'deploy', 'set-current', 'no-such-build', '--deployment-name', deployment], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress') },
        encoding: 'utf8',
      });
      expect(cli.status).toBe(2);
      expect(cli.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^feedloop: unknown build id "no-such-build" in worker deployment "upgrade-[^"]+" \(its versions: .+\)/)]);
    } finally {
      await close();
    }
  });
});

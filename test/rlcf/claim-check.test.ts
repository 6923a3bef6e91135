import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadRlcfAudit } from '../../loops/rlcf/audit';
import { rlcfIds } from '../../loops/rlcf/types';
import { rlcfCampaignWorkflow } from '../../loops/rlcf/workflow';
import { withWorkers } from '../helpers/temporal';
import { campaignId } from '../ilf/helpers';
import { FakeOpenAIServer } from '../models/fake-openai-server';
import { rlcfConfig } from './helpers';

/**
 * The RLCF loop with its discriminator served over the OpenAI protocol by a local server (the
 * `llm` kind, as a real campaign runs it), and the claim check: no payload in any history of the
 * campaign carries a program (they are ids and counts), and an iteration's event count does not
 * grow with the number of rollouts.
 */
const ctx = withWorkers('rlcf-claim');
const JUDGE = 'discriminator-large';
let judge: FakeOpenAIServer;
let pool: pg.Pool;

beforeAll(async () => {
  // Yes with P = 0.8 from logprobs; a candidate with an `if (false);` gets a malformed answer.
  judge = await new FakeOpenAIServer({
    models: [JUDGE],
    answer: (prompt) =>
      prompt.slice(prompt.indexOf('Candidate program:')).includes('if (false);')
        ? { text: 'Maybe.', tokens: [{ token: 'Maybe', logprob: -0.1, top: [{ token: 'Maybe', logprob: -0.1 }] }] }
        : { text: 'Yes', tokens: [{ token: 'Yes', logprob: Math.log(0.8), top: [{ token: 'Yes', logprob: Math.log(0.8) }, { token: 'No', logprob: Math.log(0.2) }] }] },
  }).start();
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
});
afterAll(async () => {
  await pool?.end();
  await judge?.stop();
});

describe('RLCF with an OpenAI-protocol discriminator: claim check', () => {
  it('keeps every payload free of programs and an iteration\'s event count independent of the number of rollouts', { timeout: 300_000 }, async () => {
    const events: number[] = [];
    for (const tasks of [3, 12]) {
      const id = campaignId(`rlcf-claim-${tasks}`);
      const config = rlcfConfig(ctx.queues, {
        iterations: 1,
        evaluateStart: false,
        dataset: { rolloutTasks: tasks, maxEvalTasks: 3, mathqaEvalTasks: 2 },
        models: { discriminator: { backend: 'openai', baseUrl: judge.baseURL, model: JUDGE, api: 'chat', timeoutMs: 10_000 } },
        grounding: { discriminator: { kind: 'llm' } },
      });
      const before = judge.count('POST', /chat\/completions/);
      await ctx.client.workflow.execute(rlcfCampaignWorkflow, { workflowId: id, taskQueue: ctx.queues.workflow, args: [{ campaignId: id, config }] });
      const audit = await loadRlcfAudit(pool, id);
      const [it1] = audit.iterations;
      // The discriminator was asked over HTTP about each compiled rollout, and only those.
      expect(it1!.stages.discriminator).toMatchObject({ kind: 'llm', asked: it1!.stages.compiled });
      expect(judge.count('POST', /chat\/completions/) - before).toBe(it1!.stages.compiled);
      expect(it1!.stages.discriminator.byMethod).toEqual({ logprobs: it1!.stages.discriminator.scored });
      expect(it1!.stages.discriminator.unscorable).toBe(it1!.stages.staticFailures['lint:empty'] ?? 0);
      expect(it1!.rewards.unscorable).toBe(it1!.stages.discriminator.unscorable);
      expect(it1!.policyUpdate!.examples).toBe(it1!.rewards.scored);

      const programs = (await pool.query<{ program: string }>('select program from generations where eval_run_id like $1', [`${id}/%`])).rows.map((r) => r.program);
      expect(programs.length).toBeGreaterThan(0);
      let largest = 0;
      for (const wf of [id, rlcfIds.iterationWorkflow(id, 1), rlcfIds.evaluation(id, 1)]) {
        const history = await ctx.client.workflow.getHandle(wf).fetchHistory();
        for (const e of history.events ?? []) {
          for (const a of Object.values(e).filter((v) => v && typeof v === 'object') as Array<Record<string, unknown>>) {
            for (const field of ['input', 'result', 'details']) {
              for (const p of (a[field] as { payloads?: Array<{ data?: Uint8Array }> } | undefined)?.payloads ?? []) {
                const data = Buffer.from(p.data ?? new Uint8Array()).toString('utf8');
                largest = Math.max(largest, data.length);
                // No program (nor a method header of one) travels in a payload.
                expect(data).not.toMatch(/public static \w[\w<>[\], ]* \w+\(/);
                for (const program of programs.slice(0, 10)) expect(data.includes(program.trim().slice(-200))).toBe(false);
              }
            }
          }
        }
        if (wf === rlcfIds.iterationWorkflow(id, 1)) events.push(history.events?.length ?? 0);
      }
      expect(largest).toBeLessThan(16 * 1024);
    }
    expect(events[1]).toBe(events[0]);
  });
});

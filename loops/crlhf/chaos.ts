import path from 'node:path';
import { CHAOS_TIMEOUTS, CHAOS_RL_TRAINER, jobProblems, sampleProblems, type ChaosLoop } from '../chaos';
import { crlhfAuditNumbers, loadCrlhfAudit } from './audit';
import { parseCrlhfCampaignConfig, type CrlhfCampaignConfig } from './config';
import { CRLHF_PHASES } from './types';

/**
 * cRLHF under chaos: which worker a kill in each phase interrupts (annotate: the CPU worker that
 * runs the SIMULATED crowd and records labels, killed while annotations arrive), and what a crash
 * could lose or double: every accepted label is stored once, every answered assignment has one.
 */
export const crlhfChaos: ChaosLoop<CrlhfCampaignConfig> = {
  algorithm: 'crlhf',
  phases: CRLHF_PHASES,
  workerForPhase: { generate: 'kill-gpu', test: 'kill-cpu', annotate: 'kill-cpu', consensus: 'kill-cpu', policy_update: 'kill-gpu', evaluate: 'kill-cpu' },
  config: (raw, seed, overrides, queues) =>
    parseCrlhfCampaignConfig({
      ...raw,
      seed,
      timeouts: CHAOS_TIMEOUTS,
      trainer: CHAOS_RL_TRAINER,
      ...overrides,
      taskQueues: queues,
    }),
  reduced: {
    dataset: { train: { dataset: 'mbpp', split: 'train', maxTasks: 4 }, eval: { humaneval: { maxTasks: 3 }, mbpp: { maxTasks: 3 } } },
    honeypots: { dataset: 'mbpp', split: 'refine', mutants: 3, gold: 1, maxChangedLines: 2 },
    sampling: { rollout: { n: 2 }, eval: { n: 2, ks: [1, 2] } },
  },
  auditNumbers: async (pool, campaignId) => crlhfAuditNumbers(await loadCrlhfAudit(pool, campaignId)),
  async integrityProblems(pool, campaignId, config) {
    const problems = await sampleProblems(pool, campaignId, (id) => (id.endsWith('/rollouts') ? config.sampling.rollout.n : config.sampling.eval.n));
    const { rows } = await pool.query<{ iteration: number; labels: string; accepted: string | null; assigned: string; orphans: string; items: string; consensus: string; rewards: string; programs: string }>(
      `select it.iteration, it.counts->>'labels' as accepted,
              (select count(*) from crowd_labels l where l.campaign_id = $1 and l.iteration = it.iteration) as labels,
              (select count(*) from crowd_assignments a where a.campaign_id = $1 and a.iteration = it.iteration) as assigned,
              (select count(*) from crowd_labels l where l.campaign_id = $1 and l.iteration = it.iteration
                 and not exists (select 1 from crowd_assignments a where a.campaign_id = l.campaign_id and a.iteration = l.iteration and a.item_id = l.item_id and a.annotator = l.annotator)) as orphans,
              (select count(*) from crowd_items i where i.campaign_id = $1 and i.iteration = it.iteration) as items,
              (select count(*) from crowd_consensus c where c.campaign_id = $1 and c.iteration = it.iteration) as consensus,
              (select count(*) from rollout_rewards r where r.campaign_id = $1 and r.iteration = it.iteration) as rewards,
              (select count(*) from crowd_items i where i.campaign_id = $1 and i.iteration = it.iteration and not i.is_honeypot) as programs
       from campaign_iterations it where it.campaign_id = $1 order by it.iteration`,
      [campaignId],
    );
    const answering = config.crowd.simulated?.annotators ?? [];
    for (const r of rows) {
      if (Number(r.orphans) > 0) problems.push(`iteration ${r.iteration}: ${r.orphans} label(s) without an assignment`);
      if (Number(r.consensus) !== Number(r.items)) problems.push(`iteration ${r.iteration}: ${r.consensus} consensus rows for ${r.items} items`);
      if (Number(r.rewards) !== Number(r.programs)) problems.push(`iteration ${r.iteration}: ${r.rewards} rewards for ${r.programs} programs`);
      // what the iteration accepted (its updates) against what the store holds: none lost, none twice
      if (r.accepted !== null && Number(r.accepted) !== Number(r.labels)) problems.push(`iteration ${r.iteration}: ${r.accepted} submissions accepted but ${r.labels} labels stored`);
      if (answering.every((a) => a.answerShare === 1) && Number(r.labels) !== Number(r.assigned)) problems.push(`iteration ${r.iteration}: ${r.labels} labels stored for ${r.assigned} assignments (a label lost)`);
    }
    const steps = config.trainer.hyperparameters.totalSteps as number | undefined;
    problems.push(...(await jobProblems(pool, campaignId, Array.from({ length: config.iterations }, (_v, i) => ({ id: `${campaignId}/iteration-${i + 1}/policy-update`, steps })))));
    return problems;
  },
  ledgers: (blobs, config) => Array.from({ length: config.iterations }, (_v, i) => ({ job: `iteration ${i + 1} policy update`, file: path.join(blobs, `iteration-${i + 1}`, 'policy-update', 'ledger.jsonl') })),
};

import { pct } from '../../audit/report/format';
import { endText, formatPlacement } from '../../audit/core';
import { rewardConfigText, rewardModelText, type RlaifCampaignAudit, type RlaifIterationAudit } from './audit';
import { againstStart, auditText, campaignLines, columnTable, formatRef, formatTrainingJob, simulatedLines, workerVersionLines, type Column } from '../../audit/text';

/** The human form of `feedloop audit` for RLAIF campaigns. */
const num3 = (v: number | null) => (v === null ? '-' : v.toFixed(3));

const ITERATION_COLUMNS: readonly Column<RlaifIterationAudit>[] = [
  ['iteration', (it) => String(it.iteration)],
  ['status', (it) => it.status],
  ['rollouts', (it) => String(it.rollouts.generated)],
  ['feedback scored/unscorable', (it) => `${it.feedback.scored}/${it.feedback.unscorable}`],
  ['RM trained', (it) => (it.rewards.source === 'ai-feedback' ? 'none (judge)' : it.rewardModel.trainedThisIteration ? (it.rewardModel.job?.weights === 'simulated' ? 'SIMULATED' : (it.rewardModel.job?.weights ?? '-')) : 'no (reused)')],
  ['rewards scored/unscorable', (it) => `${it.rewards.scored}/${it.rewards.unscorable}`],
  ['update rollouts', (it) => (it.policyUpdate ? String(it.policyUpdate.examples) : '-')],
  ['executability', (it) => pct(it.evaluation?.executabilityRate)],
  ['CodeBLEU', (it) => num3(it.evaluation?.codebleu ?? null)],
  ['AST acc', (it) => pct(it.evaluation?.astAccuracy)],
  ['halluc.', (it) => pct(it.evaluation?.hallucinationRate)],
];

export function rlaifSummaryTable(iterations: readonly RlaifIterationAudit[]): string {
  if (iterations.some((it) => it.evaluation?.passAtK)) return codeSummaryTable(iterations);
  return columnTable(ITERATION_COLUMNS, iterations);
}

/** On a code dataset: the mean AI feedback and held-out pass@k instead of the APIBench metrics. */
function codeSummaryTable(iterations: readonly RlaifIterationAudit[]): string {
  const ks = Object.keys(iterations.find((it) => it.evaluation?.passAtK)?.evaluation?.passAtK ?? { 1: 0 });
  const columns: Column<RlaifIterationAudit>[] = [
    ...ITERATION_COLUMNS.slice(0, 4),
    ['mean feedback', (it) => num3(it.feedback.meanScore)],
    ...ITERATION_COLUMNS.slice(4, 7),
    ...ks.map((k): Column<RlaifIterationAudit> => [`pass@${k}`, (it) => pct(it.evaluation?.passAtK?.[k])]),
  ];
  return columnTable(columns, iterations);
}

const passAtKText = (p: Record<string, number>, start?: Record<string, number> | null) =>
  Object.entries(p)
    .map(([k, v]) => `pass@${k} ${pct(v)}${againstStart(v, start?.[k])}`)
    .join(', ');

function formatIteration(it: RlaifIterationAudit, start: RlaifCampaignAudit['start']): string {
  const row = (label: string, value: string) => `  ${label.padEnd(14)}${value}`;
  const fb = it.feedback;
  const ev = it.evaluation;
  const lines = [
    `── iteration ${it.iteration}: ${endText(it)} (phase ${it.phase})`,
    row('policy', it.policy.label),
    ...workerVersionLines(it, row),
    row('rollouts', `${it.rollouts.generated} answers to ${it.rollouts.questions} training questions`),
    row(
      'AI feedback',
      `${fb.judged} judged by ${fb.judge ?? '-'} (rubric ${fb.rubricVersion ?? '-'}): ${fb.scored} scored (logprobs ${fb.byMethod.logprobs}, parsed ${fb.byMethod.parsed}, mixed ${fb.byMethod.mixed}), ` +
        `${fb.unscorable} UNSCORABLE (kept out of training); mean score ${num3(fb.meanScore)}`,
    ),
    row('reward model', rewardModelText(it, formatTrainingJob)),
    row('rewards', `${it.rewards.scored} scored, ${it.rewards.unscorable} unscorable (kept out of the update); mean reward ${num3(it.rewards.meanReward)}`),
    ...(it.rewards.placement ? [row('scored', formatPlacement(it.rewards.placement)!)] : []),
    row('policy update', formatTrainingJob(it.policyUpdate)),
    row(
      'evaluation',
      ev?.passAtK
        ? `held-out ${passAtKText(ev.passAtK, start?.evaluation.passAtK)} (${ev.status}; ${ev.samples ?? '-'} programs; policy ${ev.policy.label})`
        : ev
        ? `executability ${pct(ev.executabilityRate)}${againstStart(ev.executabilityRate, start?.evaluation.executabilityRate)} (compiles ${pct(ev.compileRate)}; runs: ${ev.runs.note}), CodeBLEU ${num3(ev.codebleu)}, ` +
            `AST accuracy ${pct(ev.astAccuracy)}, hallucination ${pct(ev.hallucinationRate)}, wrong API ${pct(ev.wrongApiRate)} (${ev.status}; ${ev.questions ?? '-'} questions, ${ev.samples ?? '-'} answers; policy ${ev.policy.label})`
        : 'not started',
    ),
    ...(ev?.placement ? [row('ran', formatPlacement(ev.placement)!)] : []),
  ];
  if (ev) {
    for (const [hub, h] of Object.entries(ev.perHub)) {
      lines.push(row('', `${hub}: ${h.samples} answers, executability ${pct(h.executabilityRate)}, CodeBLEU ${num3(h.codebleu)}, AST ${pct(h.astAccuracy)}, hallucination ${pct(h.hallucinationRate)}`));
    }
  }
  lines.push(row('history', `iteration     ${formatRef(it.history.iteration)}`), row('', `evaluation    ${formatRef(it.history.evaluation)}`));
  for (const m of it.mismatches) lines.push(row('MISMATCH', m));
  return lines.join('\n');
}

export function formatRlaifAudit(a: RlaifCampaignAudit): string {
  const c = a.campaign;
  const cfg = c.config;
  const header = [
    ...campaignLines(c),
    `models       policy ${cfg.models.policy?.label ?? '-'}; AI feedback ${cfg.models.feedback?.label ?? '-'}`,
    cfg.dataset !== 'apibench'
      ? `config       ${cfg.iterations ?? '?'} iterations; dataset ${cfg.dataset} (rollouts x ${cfg.rolloutSamplesPerQuestion ?? '-'} per task, held-out pass@k); feedback ${cfg.feedbackQuestions.join('/')} (${cfg.feedbackScoring ?? '-'}); ` +
        `${rewardConfigText(cfg)}; trainer ${cfg.trainerCommand.join(' ') || '-'}`
      : `config       ${cfg.iterations ?? '?'} iterations; APIBench ${cfg.hubs.join(', ')} (held-out training share ${cfg.heldOutFraction ?? '-'}); ` +
      `${cfg.rolloutQuestions ?? '-'} rollout questions x ${cfg.rolloutSamplesPerQuestion ?? '-'}; feedback ${cfg.feedbackQuestions.join('/')} (${cfg.feedbackScoring ?? '-'}); ` +
      `${rewardConfigText(cfg)}; trainer ${cfg.trainerCommand.join(' ') || '-'}`,
  ];
  header.push(...simulatedLines(c, 'parts', 'real LLMs or real training'));
  const s = a.start?.evaluation;
  header.push(
    s?.passAtK
      ? `start        iteration 0, the starting policy ${s.policy.label}: held-out ${passAtKText(s.passAtK)} (${formatRef(a.start!.history)})`
      : s
      ? `start        iteration 0, the starting policy ${s.policy.label}: executability ${pct(s.executabilityRate)}, CodeBLEU ${s.codebleu === null ? '-' : s.codebleu.toFixed(3)}, ` +
          `AST ${pct(s.astAccuracy)}, hallucination ${pct(s.hallucinationRate)} (${formatRef(a.start!.history)})`
      : 'start        the starting policy was not evaluated (evaluateStart: false, or a campaign from before iteration 0)',
  );
  return auditText(header, a.iterations, (its) => [rlaifSummaryTable(its)], (it) => formatIteration(it, a.start), [
    ...(cfg.dataset === 'apibench' ? ['executability = compiles and resolves against the API database; "runs" is not measured (see the note)'] : []),
  ]);
}

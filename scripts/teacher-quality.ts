/**
 * The teacher's judge and discriminator measured the way the loops ask them: served over the
 * OpenAI protocol (startTeacher), each held-out program (the family's `test` split, rendered
 * with bugs at another corpus seed than the teacher's) sent as RLAIF's code rubric or RLCF's
 * discriminator prompt, P(Yes) read from the first answer token's logprobs (readAnswer), and
 * compared with the truth (whether the program passes its tests). Per role: agreement at
 * P(Yes) > 0.5 beside the always-No baseline's (most held-out programs carry a bug), and the
 * AUC of P(Yes) (the chance that a passing program gets a higher P(Yes) than a failing one: 0.5
 * is a judge that cannot tell them apart; RLAIF's reward is P(Yes), so this is what it needs).
 *
 *   npx tsx scripts/teacher-quality.ts [--recipe four|rlaif] [--per 60] [--repeats 2] [--split test] [--steps N]
 *
 * (--repeats: renderings of each held-out task, a third of them asked, at most --per per language;
 * --steps: the recipe with another number of training steps, made if missing;
 * --split train: the tasks it was trained on, at another corpus seed, to tell memorizing from judging)
 *
 * `four`: the four-role teacher (judge and discriminator measured); `rlaif`: RLAIF_TEACHER
 * (its Python judge only).
 */
import { parseArgs } from 'node:util';
import { codeJudgeMessages, readAnswer } from '../activities/feedback/ai-feedback-rubric';
import { createModelBackend } from '../activities/models';
import { familyTaskOf, registeredFamily, renderedPrograms, type FamilySplit } from '../activities/datasets/synthetic';
import { discriminatorMessages } from '../loops/rlcf/activities/discriminator-rubric';
import { RLAIF_TEACHER, startTeacher, TEACHER_NAME, type TeacherRecipe } from '../cli/teacher';

const RECIPES: Record<string, Partial<TeacherRecipe>> = { four: {}, rlaif: RLAIF_TEACHER };

/** The AUC of scores against truths (ties count half): Mann-Whitney's U over the pairs. */
export function auc(points: readonly { score: number; truth: boolean }[]): number | null {
  const pos = points.filter((p) => p.truth).map((p) => p.score);
  const neg = points.filter((p) => !p.truth).map((p) => p.score);
  if (!pos.length || !neg.length) return null;
  let u = 0;
  for (const a of pos) for (const b of neg) u += a > b ? 1 : a === b ? 0.5 : 0;
  return u / (pos.length * neg.length);
}

async function main() {
  const { values } = parseArgs({ options: { per: { type: 'string', default: '60' }, recipe: { type: 'string', default: 'four' }, repeats: { type: 'string', default: '2' }, split: { type: 'string', default: 'test' }, steps: { type: 'string' } } });
  const per = Number(values.per);
  const named = RECIPES[values.recipe];
  if (!named) throw new Error(`--recipe: one of ${Object.keys(RECIPES).join(', ')}`);
  const recipe = values.steps ? { ...named, steps: Number(values.steps) } : named;
  const started = Date.now();
  const server = await startTeacher((l) => console.error(l), recipe);
  const backend = createModelBackend({ backend: 'openai', baseUrl: server.baseUrl, model: TEACHER_NAME, api: 'chat' });
  const family = registeredFamily();
  const roles = recipe.roles ?? ['judge', 'discriminator'];
  const points: Record<string, { score: number; truth: boolean }[]> = {};
  const unscorable: Record<string, number> = {};
  try {
    for (const language of recipe.languages ?? (['python', 'java'] as const)) {
      const programs = renderedPrograms({ seed: 101, family, split: values.split as FamilySplit, repeats: Number(values.repeats), languages: [language] }).filter((_, i) => i % 3 === 0).slice(0, per);
      for (const p of programs) {
        const t = familyTaskOf(p.taskId, family)!;
        const asks = roles.includes('judge') ? [{ role: `judge-${language}`, messages: codeJudgeMessages('correct', p.prompt, p.program) }] : [];
        if (language === 'java' && roles.includes('discriminator')) asks.push({ role: 'discriminator-java', messages: discriminatorMessages({ description: t.description, reference: p.fix }, p.program) });
        for (const a of asks) {
          const r = await backend.generate({ messages: a.messages, n: 1, temperature: 0, maxTokens: 2, logprobs: true, topLogprobs: 5, taskId: p.taskId });
          const ans = readAnswer('correct', r.samples[0]!, 'logprobs');
          if (ans.pYes === null) unscorable[a.role] = (unscorable[a.role] ?? 0) + 1;
          else (points[a.role] ??= []).push({ score: ans.pYes, truth: p.passes });
        }
      }
    }
  } finally {
    await backend.close();
    await server.close();
  }
  const round = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 1000);
  const stats = Object.fromEntries(
    Object.entries(points).map(([role, ps]) => {
      const truthYes = ps.filter((p) => p.truth).length;
      const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null);
      return [
        role,
        {
          n: ps.length,
          truthYes,
          saidYes: ps.filter((p) => p.score > 0.5).length,
          agreement: round(ps.filter((p) => p.score > 0.5 === p.truth).length / ps.length),
          alwaysNoAgreement: round(1 - truthYes / ps.length),
          auc: round(auc(ps)),
          meanPYesPassing: round(mean(ps.filter((p) => p.truth).map((p) => p.score))),
          meanPYesFailing: round(mean(ps.filter((p) => !p.truth).map((p) => p.score))),
          unscorable: unscorable[role] ?? 0,
        },
      ];
    }),
  );
  console.log(JSON.stringify({ recipe: values.recipe, teacher: server.teacher.modelDir, seconds: Math.round((Date.now() - started) / 1000), stats }));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

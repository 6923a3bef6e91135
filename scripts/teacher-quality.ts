/**
 * The teacher's judge and discriminator measured the way the loops ask them: served over the
 * OpenAI protocol (startTeacher), each held-out program (the family's `test` split, rendered
 * with bugs at another corpus seed than the teacher's) sent as RLAIF's code rubric or RLCF's
 * discriminator prompt, P(Yes) read from the first answer token's logprobs (readAnswer), and
 * compared with the truth (whether the program passes its tests).
 *
 *   npx tsx scripts/teacher-quality.ts [--per 60]
 */
import { parseArgs } from 'node:util';
import { codeJudgeMessages, readAnswer } from '../activities/feedback/ai-feedback-rubric';
import { createModelBackend } from '../activities/models';
import { familyTaskOf, registeredFamily, renderedPrograms } from '../activities/datasets/synthetic';
import { discriminatorMessages } from '../loops/rlcf/activities/discriminator-rubric';
import { startTeacher, TEACHER_NAME } from '../cli/teacher';

async function main() {
  const { values } = parseArgs({ options: { per: { type: 'string', default: '60' } } });
  const per = Number(values.per);
  const server = await startTeacher((l) => console.error(l));
  const backend = createModelBackend({ backend: 'openai', baseUrl: server.baseUrl, model: TEACHER_NAME, api: 'chat' });
  const family = registeredFamily();
  const stats: Record<string, { n: number; agree: number; truthYes: number; saidYes: number; unscorable: number }> = {};
  try {
    for (const language of ['python', 'java'] as const) {
      const programs = renderedPrograms({ seed: 101, family, split: 'test', repeats: 2, languages: [language] }).filter((_, i) => i % 3 === 0).slice(0, per);
      for (const p of programs) {
        const t = familyTaskOf(p.taskId, family)!;
        const asks = [{ role: `judge-${language}`, messages: codeJudgeMessages('correct', p.prompt, p.program) }];
        if (language === 'java') asks.push({ role: 'discriminator-java', messages: discriminatorMessages({ description: t.description, reference: p.fix }, p.program) });
        for (const a of asks) {
          const r = await backend.generate({ messages: a.messages, n: 1, temperature: 0, maxTokens: 2, logprobs: true, topLogprobs: 5, taskId: p.taskId });
          const ans = readAnswer('correct', r.samples[0]!, 'logprobs');
          const s = (stats[a.role] ??= { n: 0, agree: 0, truthYes: 0, saidYes: 0, unscorable: 0 });
          s.n++;
          if (p.passes) s.truthYes++;
          if (ans.pYes === null) s.unscorable++;
          else {
            if (ans.pYes > 0.5) s.saidYes++;
            if (ans.pYes > 0.5 === p.passes) s.agree++;
          }
        }
      }
    }
  } finally {
    await backend.close();
    await server.close();
  }
  console.log(JSON.stringify(stats));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

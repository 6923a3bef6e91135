import { describe, expect, it } from 'vitest';
import { familySplit, familyTaskOf, feedbackFor, registeredFamily, renderedPrograms } from '../../activities/datasets/synthetic';
import { balanceVerdicts, judgeAnswer, RLAIF_TEACHER, teacherPlan, teacherRows, type TeacherRow } from '../../cli/teacher';

/**
 * RLAIF's judge is trained to give its verdict first (the loop reads P(Yes) from the first answer
 * token) and then to say why: a failing program's answer names its bugs.
 */
const family = registeredFamily();

describe("RLAIF's judge rows", () => {
  it('answer with the bare verdict, or the verdict first and then the bugs the program has', () => {
    const programs = renderedPrograms({ seed: 3, family, split: 'train', repeats: 2, languages: ['python'] });
    const failing = programs.find((p) => !p.passes)!;
    const passing = programs.find((p) => p.passes)!;
    expect(judgeAnswer(failing)).toBe('No');
    expect(judgeAnswer(passing)).toBe('Yes');
    const t = familyTaskOf(failing.taskId, family)!;
    expect(judgeAnswer(failing, true)).toBe(`No. ${feedbackFor(t, failing.bugs)}`);
    expect(judgeAnswer(passing, true)).toMatch(/^Yes\. /);
    const judge = (p: typeof failing) => teacherRows(p, family, { judgeRationale: true }).find((r) => r.role === 'judge')!;
    expect(judge(failing).completion).toBe(judgeAnswer(failing, true));
    expect(judge(passing).completion).toBe(judgeAnswer(passing, true));
  });

  it('keep as many No answers as Yes answers when the answers go on after the verdict', () => {
    const rows: TeacherRow[] = [
      ...Array.from({ length: 3 }, (_, i) => ({ role: 'judge' as const, taskId: `Synth/${i}`, prompt: 'p', completion: 'Yes. It does what the task asks.' })),
      ...Array.from({ length: 9 }, (_, i) => ({ role: 'judge' as const, taskId: `Synth/${i}`, prompt: 'p', completion: 'No. Keep the even numbers, not the odd ones.' })),
    ];
    const kept = balanceVerdicts(rows);
    expect(kept.filter((r) => r.completion.startsWith('Yes')).length).toBe(3);
    expect(kept.filter((r) => r.completion.startsWith('No')).length).toBe(3);
  });

  it("RLAIF_TEACHER's corpus: balanced verdicts with their reasons, never a test task", () => {
    const plan = teacherPlan(RLAIF_TEACHER);
    expect(plan.key).not.toBe(teacherPlan({ ...RLAIF_TEACHER, judgeRationale: false }).key);
    const rows = plan.corpus.split('\n').filter(Boolean).map((l) => JSON.parse(l) as TeacherRow);
    expect(rows.every((r) => r.role === 'judge')).toBe(true);
    const yes = rows.filter((r) => r.completion.startsWith('Yes. '));
    const no = rows.filter((r) => r.completion.startsWith('No. '));
    expect(yes.length + no.length).toBe(rows.length);
    expect(Math.abs(yes.length - no.length)).toBeLessThanOrEqual(1);
    // a No answer names a bug: never the words of a correct program's feedback
    expect(no.some((r) => r.completion.includes('The program is correct.'))).toBe(false);
    const test = new Set(familySplit(family, 'test').map((t) => `Synth/${t.number}`));
    expect(rows.some((r) => test.has(r.taskId))).toBe(false);
  });
});

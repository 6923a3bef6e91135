import { describe, expect, it } from 'vitest';
import { familySplit, feedbackFor, registeredFamily, renderProgram, type FamilyTask } from '../../activities/datasets/synthetic';
import { ILF_TEACHER, programFollowingFeedback, teacherPlan, type TeacherRow } from '../../cli/teacher';
import { programsForFeedback } from '../../loops/ilf/activities/feedback-activities';
import { shuffledFeedback } from '../../loops/ilf/activities/refine';
import { parseIlfCampaignConfig } from '../../loops/ilf/config';

/**
 * ILF's language feedback must matter: the teacher's refiner is trained to fix the bugs its
 * feedback names and nothing else, and the no-feedback control hands each program another task's
 * feedback.
 */
const family = registeredFamily();
const twoBugs = family.tasks.find((t) => t.combination.domain === 'list' && t.bugSlots.length >= 2)!;

describe('ILF: a refiner that follows its feedback', () => {
  it('fixes exactly the bugs the feedback names', () => {
    const [a, b] = twoBugs.bugSlots as [FamilyTask['bugSlots'][number], FamilyTask['bugSlots'][number]];
    const wrong = [a, b];
    expect(programFollowingFeedback(twoBugs, 'python', wrong, feedbackFor(twoBugs, wrong))).toBe(renderProgram(twoBugs, 'python'));
    expect(programFollowingFeedback(twoBugs, 'python', wrong, feedbackFor(twoBugs, [a]))).toBe(renderProgram(twoBugs, 'python', [b]));
    expect(programFollowingFeedback(twoBugs, 'python', wrong, '')).toBe(renderProgram(twoBugs, 'python', wrong));
    // feedback on a bug the program does not have changes nothing
    expect(programFollowingFeedback(twoBugs, 'python', [b], feedbackFor(twoBugs, [a]))).toBe(renderProgram(twoBugs, 'python', [b]));
  });

  it("trains ILF's refiner on the same wrong program with different feedback and different refinements, never on test tasks", () => {
    const plan = teacherPlan(ILF_TEACHER);
    const rows = plan.corpus.split('\n').filter(Boolean).map((l) => JSON.parse(l) as TeacherRow);
    const refiner = rows.filter((r) => r.role === 'refiner');
    const byProgram = new Map<string, Set<string>>();
    for (const r of refiner) {
      const program = r.prompt.slice(0, r.prompt.indexOf('# Feedback on the program:'));
      byProgram.set(program, (byProgram.get(program) ?? new Set()).add(r.completion));
    }
    // most wrong programs are refined two ways: fixed (their own feedback) and left as they were (another task's)
    expect([...byProgram.values()].filter((s) => s.size >= 2).length).toBeGreaterThan(byProgram.size / 2);
    const test = new Set(familySplit(family, 'test').map((t) => `Synth/${t.number}`));
    expect(rows.some((r) => test.has(r.taskId))).toBe(false);
    for (const t of familySplit(family, 'test')) expect(plan.corpus).not.toContain(`def ${t.name}(`);
  });
});

describe('ILF: the shuffled-feedback control', () => {
  const requests = [
    { request_id: 'r1', task_id: 'A', feedback: 'fa1' },
    { request_id: 'r2', task_id: 'A', feedback: 'fa2' },
    { request_id: 'r3', task_id: 'B', feedback: 'fb' },
    { request_id: 'r4', task_id: 'C', feedback: 'fc' },
    { request_id: 'r5', task_id: 'D', feedback: 'fd' },
  ];

  it("gives each request another task's feedback, the same on every retry and in any order", () => {
    const m = shuffledFeedback(requests, 1);
    expect(shuffledFeedback([...requests].reverse(), 1)).toEqual(m);
    const own = new Map(requests.map((r) => [r.feedback, r.task_id]));
    for (const r of requests) {
      const got = m.get(r.request_id)!;
      expect(own.get(got), `${r.request_id} got ${got}`).toBeDefined();
      expect(own.get(got)).not.toBe(r.task_id);
    }
    // another iteration draws another cycle somewhere
    const others = [2, 3, 4, 5].map((k) => shuffledFeedback(requests, k));
    expect(others.some((o) => JSON.stringify([...o]) !== JSON.stringify([...m]))).toBe(true);
  });

  it('gives no feedback when every request is of one task', () => {
    const m = shuffledFeedback(requests.slice(0, 2), 1);
    expect([...m.values()]).toEqual(['', '']);
  });

  it('is a model refiner option: the dataset refinements do not read feedback', () => {
    const base = { algorithm: 'ilf', dataset: { name: 'mbpp' }, models: { policy: { backend: 'simulated' } }, trainer: { kind: 'simulated' }, feedback: { source: 'dataset' }, iterations: 1 };
    expect(() => parseIlfCampaignConfig({ ...base, refiner: { kind: 'dataset', feedback: 'shuffled' } })).toThrow(/refiner\.feedback/);
    expect(parseIlfCampaignConfig({ ...base, refiner: { kind: 'dataset' } }).refiner.feedback).toBe('given');
  });
});

describe('ILF: the shuffled choice of programs that get feedback', () => {
  const judged = Array.from({ length: 40 }, (_, i) => ({ generationId: String(i + 1), taskId: `T${i % 13}`, program: `p${i}`, passed: i % 4 === 0 }));

  it('chooses the failing programs, or as many as failed whichever they are, the same on every retry', () => {
    const failing = programsForFeedback(judged, 1);
    expect(failing.every((g) => !g.passed)).toBe(true);
    expect(failing).toHaveLength(30);
    const draws = [1, 2, 3].map((k) => programsForFeedback(judged, k, 'shuffled'));
    for (const d of draws) expect(d).toHaveLength(30);
    expect(programsForFeedback(judged, 1, 'shuffled')).toEqual(draws[0]);
    // some passing programs are chosen, and the draw differs between iterations
    expect(draws.some((d) => d.some((g) => g.passed))).toBe(true);
    expect(new Set(draws.map((d) => d.map((g) => g.generationId).join())).size).toBeGreaterThan(1);
  });

  it('is a feedback option with ILF as its default', () => {
    const base = { algorithm: 'ilf', dataset: { name: 'mbpp' }, models: { policy: { backend: 'simulated' } }, trainer: { kind: 'simulated' }, refiner: { kind: 'dataset' }, iterations: 1 };
    expect(parseIlfCampaignConfig({ ...base, feedback: { source: 'dataset' } }).feedback.programs).toBe('failing');
    expect(parseIlfCampaignConfig({ ...base, feedback: { source: 'dataset', programs: 'shuffled' } }).feedback.programs).toBe('shuffled');
    expect(() => parseIlfCampaignConfig({ ...base, feedback: { source: 'dataset', programs: 'passing' } })).toThrow(/feedback\.programs/);
  });
});

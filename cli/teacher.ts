import { createHash } from 'node:crypto';
import path from 'node:path';
import { codeJudgeMessages } from '../activities/feedback/ai-feedback-rubric';
import { chatPrompt, startOnnxOpenAiServer, type OnnxOpenAiServer } from '../activities/models/onnx/openai-server';
import { feedbackPrompt, refinementPrompt, type PromptTask } from '../activities/models/prompts';
import { DOMAIN_SLOTS, evaluate, familySplit, familyTaskOf, feedbackFor, pythonExample, renderedPrograms, REGISTERED_FAMILY_SEED, registeredFamily, renderProgram, sameValue, type Family, type FamilyTask, type ProgramTruth } from '../activities/datasets/synthetic';
import { discriminatorMessages } from '../loops/rlcf/activities/discriminator-rubric';
import { TOOLS_DIR } from '../infra/temporal';
import { ensureCachedModel, type CachedModel } from './cached-model';
import type { Language } from '../activities/sandbox/types';
import type { Slot } from '../activities/datasets/synthetic/primitives';
import type { SynthPolicyRecipe } from './synth-policy';

/**
 * The synthetic family's "teacher": a from-scratch causal LM, larger than the starting policy
 * (3 layers x 192 against 2 x 128) and trained on more of the family (the `pretrain` and `train`
 * splits, never `test`), in Python and Java. One model plays the four roles the papers give a
 * bigger model, each on the exact prompt the loop sends it:
 *  - RLAIF's judge: chatPrompt(codeJudgeMessages('correct', task prompt, program)) -> Yes / No;
 *  - RLCF's `llm` discriminator: chatPrompt(discriminatorMessages(...)) on Java -> Yes / No;
 *  - ILF's feedback model: feedbackPrompt(task, failing program, evidence) -> the family's
 *    templated feedback (feedbackFor), one sentence per bug;
 *  - ILF's refiner: refinementPrompt(task, wrong program, feedback) -> the corrected program,
 *    whole (the onnx refiner's output is the program: programFromOutput with an empty prompt).
 * Its corpus is made from `renderedPrograms` (bugs planted at the corpus's seeded rates), and
 * scripts/init-tiny-model.py trains it with the loss on each row's completion only.
 *
 * Cached by recipe under the tools directory (`<tools>/models/teacher-<key>`), as the policy is.
 */
export const TEACHER_RECIPE = 'feedloop-synth-teacher-v3';

/** The policy's recipe fields (seed: corpus draws and training; repeats: renderings of each pretrain/train task per language), and the sequence length. */
export interface TeacherRecipe extends Omit<SynthPolicyRecipe, 'language' | 'encodeSeparately'> {
  maxLength: number;
  /** weight of each row's prompt tokens in its loss, beside its completion's (init-tiny-model.py --prompt-loss-weight) */
  promptLossWeight: number;
  /** the roles it is trained for (all four when absent) */
  roles?: TeacherRow['role'][];
  /** the languages its corpus renders (Python and Java when absent) */
  languages?: Language[];
  /** the refiner is also trained to fix only the bugs its feedback names (feedbackFollowingRows) */
  refinerFollowsFeedback?: boolean;
  /** the judge's answers go on after the verdict to say why (judgeAnswer) */
  judgeRationale?: boolean;
}

export const TEACHER_DEFAULTS: TeacherRecipe = { seed: 7, repeats: 8, steps: 1200, batchSize: 16, learningRate: 3e-3, layers: 3, hidden: 192, heads: 4, vocab: 1024, maxLength: 640, threads: 1, promptLossWeight: 0.1 };

export type Teacher = CachedModel;

/**
 * ILF's teacher (feedback model and refiner only). Measured on held-out programs: trained on the
 * four roles at once, the refiner wrote memorized programs of other tasks (0.8% pass); on these
 * two roles alone it copies and fixes the program it is given. Trained to fix every bug whatever
 * its feedback (700 steps), it fixed 50 of 60 failing held-out programs with their own feedback,
 * 51 with another program's and 51 with none. With the feedback-following rows (1400 steps):
 * 47 with their own, 29 with another program's (a refiner doing only what that feedback says
 * would fix 3), 22 with none. It still fixes some bugs from the task's text alone.
 */
export const ILF_TEACHER: Partial<TeacherRecipe> = { roles: ['feedback', 'refiner'], steps: 1400, refinerFollowsFeedback: true };

/**
 * RLAIF's teacher: the judge alone, on Python (RLAIF's code datasets are Python), with each
 * pretrain/train task rendered 64 times (12,826 rows, Yes and No balanced), each answer the
 * verdict and then why (judgeAnswer). Measured on 174 held-out programs
 * (scripts/teacher-quality.ts --recipe rlaif --per 200 --repeats 6): AUC 0.98, mean P(Yes) 0.92
 * on passing programs and 0.08 on failing ones; about 16 minutes of training on one shared
 * thread. Answering with the verdict alone, the same rows and steps gave AUC 0.84: that judge
 * missed every bug that is wrong only for its task (README, "RLAIF's judge").
 */
export const RLAIF_TEACHER: Partial<TeacherRecipe> = { roles: ['judge'], languages: ['python'], repeats: 64, steps: 2000, judgeRationale: true };

export interface TeacherRow {
  role: 'judge' | 'discriminator' | 'feedback' | 'refiner';
  taskId: string;
  prompt: string;
  completion: string;
}

/** What the prompts show of a family task (MBPP's text and tests). */
export function familyPromptTask(t: FamilyTask): PromptTask {
  return { text: t.description, testList: t.inputs.map((_, i) => pythonExample(t, i)) };
}

/**
 * The evidence the ILF feedback activity passes with a failing program: the sandbox's outcome
 * and stderr (a Python traceback of the first assert that fails).
 */
export function failureEvidence(t: FamilyTask, bugs: readonly ProgramTruth['bugs'][number][]): string {
  const first = t.inputs.findIndex((x, i) => !sameValue(evaluate(t.combination, x, bugs, 'python-bug'), t.expected[i]!));
  const i = Math.max(0, first);
  const program = renderProgram(t, 'python', bugs);
  const line = program.split('\n').length + i + 1;
  return `failed Traceback (most recent call last):\n  File "/tmp/main.py", line ${line}, in <module>\n    ${pythonExample(t, i)}\nAssertionError\n`;
}

/**
 * The program a refiner that follows its feedback writes: each of the program's bugs that the
 * feedback names (a sentence of feedbackFor) is fixed, and nothing else changes.
 */
export function programFollowingFeedback(t: FamilyTask, language: Language, bugs: readonly Slot[], feedback: string): string {
  const slots = DOMAIN_SLOTS[t.combination.domain];
  const isNamed = (s: Slot) => !!t.combination.parts[slots.indexOf(s)]?.bug && feedback.includes(feedbackFor(t, [s]).slice(0, -1));
  return renderProgram(t, language, bugs.filter((s) => !isNamed(s)));
}

/**
 * Refiner rows beside the full fix that make the refinement depend on the feedback: one bug of
 * several named (only it is fixed), and another task's feedback (only the bugs it happens to name
 * are fixed; most often none, and the program comes back as it was). Without them the refiner
 * learns to fix every bug whatever it is told (measured: 50 of 60 held-out programs passed with
 * their own feedback, 51 with another program's and 51 with none), so ILF's language feedback
 * carried nothing.
 */
function feedbackFollowingRows(p: ProgramTruth, t: FamilyTask, task: PromptTask, family: Family, index: number): TeacherRow[] {
  const lang = p.language;
  const rows: TeacherRow[] = [];
  const named = (feedback: string): TeacherRow => ({ role: 'refiner', taskId: p.taskId, prompt: refinementPrompt(task, p.program, feedback), completion: programFollowingFeedback(t, lang, p.bugs, feedback) });
  if (p.bugs.length > 1) rows.push(named(feedbackFor(t, [p.bugs[index % p.bugs.length]!])));
  // two other tasks the teacher may see (never the test split's), and feedback that finds nothing
  const seen = [...familySplit(family, 'pretrain'), ...familySplit(family, 'train')].filter((x) => x.number !== t.number);
  for (const k of [1, 2]) {
    const other = seen[(index * 7919 * k + k) % seen.length]!;
    rows.push(named(feedbackFor(other, other.bugSlots)));
  }
  rows.push(named(feedbackFor(t, [])));
  return rows;
}

/**
 * The judge's answer: the verdict, then (with a rationale) why: a failing program's bugs, as the
 * feedback names them. The loop reads P(Yes) from the first token alone; the sentence after it
 * is there for training. A one-token verdict teaches a from-scratch judge only which code is
 * always wrong (a skipped first element, true division): it said Yes to 0.69-0.85 of the
 * programs whose bug is wrong only for this task (% 2 == 1 where the task keeps the even
 * numbers). Naming the bug makes it learn where in the program the task and the code disagree.
 */
export function judgeAnswer(p: Pick<ProgramTruth, 'passes' | 'feedback'>, rationale = false): string {
  if (!rationale) return p.passes ? 'Yes' : 'No';
  return p.passes ? 'Yes. It does what the task asks.' : `No. ${p.feedback}`;
}

/** The rows of each role for one rendered program (feedback and refiner rows for failing Python programs only). */
export function teacherRows(p: ProgramTruth, family = registeredFamily(), o: { refinerFollowsFeedback?: boolean; judgeRationale?: boolean; index?: number } = {}): TeacherRow[] {
  const t = familyTaskOf(p.taskId, family)!;
  const verdict = p.passes ? 'Yes' : 'No';
  const rows: TeacherRow[] = [{ role: 'judge', taskId: p.taskId, prompt: chatPrompt(codeJudgeMessages('correct', p.prompt, p.program)), completion: judgeAnswer(p, o.judgeRationale) }];
  if (p.language === 'java') {
    rows.push({ role: 'discriminator', taskId: p.taskId, prompt: chatPrompt(discriminatorMessages({ description: t.description, reference: p.fix }, p.program)), completion: verdict });
  } else if (!p.passes) {
    const task = familyPromptTask(t);
    rows.push({ role: 'feedback', taskId: p.taskId, prompt: feedbackPrompt(task, p.program, failureEvidence(t, p.bugs)), completion: p.feedback });
    rows.push({ role: 'refiner', taskId: p.taskId, prompt: refinementPrompt(task, p.program, p.feedback), completion: p.fix });
    if (o.refinerFollowsFeedback) rows.push(...feedbackFollowingRows(p, t, task, family, o.index ?? 0));
  }
  return rows;
}

/**
 * As many No rows as Yes rows per verdict role (judge, discriminator), spread evenly over the
 * corpus: most rendered programs carry a bug, and a judge trained on the raw mix learns to say No.
 */
export function balanceVerdicts(rows: readonly TeacherRow[]): TeacherRow[] {
  const isYes = (r: TeacherRow) => r.completion.startsWith('Yes');
  const kept: TeacherRow[] = [];
  const counts = new Map<string, { yes: number; no: number; seen: number; kept: number }>();
  for (const r of rows) {
    if (r.role !== 'judge' && r.role !== 'discriminator') continue;
    const c = counts.get(r.role) ?? { yes: 0, no: 0, seen: 0, kept: 0 };
    c[isYes(r) ? 'yes' : 'no'] += 1;
    counts.set(r.role, c);
  }
  for (const r of rows) {
    const c = counts.get(r.role);
    if (!c || isYes(r)) {
      kept.push(r);
      continue;
    }
    // keep the No row when the running share of kept No rows falls behind yes/no
    c.seen += 1;
    if (c.kept < Math.floor((c.seen * c.yes) / Math.max(1, c.no))) {
      c.kept += 1;
      kept.push(r);
    }
  }
  return kept;
}

export function teacherPlan(options: Partial<TeacherRecipe> = {}): { recipe: TeacherRecipe; corpus: string; rows: number; byRole: Record<string, number>; key: string } {
  const recipe = { ...TEACHER_DEFAULTS, ...options };
  const family = registeredFamily();
  const rows: TeacherRow[] = [];
  for (const split of ['pretrain', 'train'] as const) {
    const programs = renderedPrograms({ seed: recipe.seed, family, split, repeats: recipe.repeats, languages: recipe.languages ?? ['python', 'java'] });
    programs.forEach((p, index) => rows.push(...teacherRows(p, family, { refinerFollowsFeedback: recipe.refinerFollowsFeedback, judgeRationale: recipe.judgeRationale, index })));
  }
  const balanced = balanceVerdicts(rows).filter((r) => !recipe.roles || recipe.roles.includes(r.role));
  rows.splice(0, rows.length, ...balanced);
  const byRole: Record<string, number> = {};
  for (const r of rows) byRole[r.role] = (byRole[r.role] ?? 0) + 1;
  const corpus = rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
  const key = createHash('sha256')
    .update(JSON.stringify({ recipe: TEACHER_RECIPE, familySeed: REGISTERED_FAMILY_SEED, corpusSha: createHash('sha256').update(corpus).digest('hex'), ...recipe }))
    .digest('hex')
    .slice(0, 12);
  return { recipe, corpus, rows: rows.length, byRole, key };
}

/** Makes the teacher unless it is cached: minutes (one role) to half an hour (all four) on one shared thread. */
export function ensureTeacher(log: (line: string) => void = () => undefined, options: Partial<TeacherRecipe> = {}, modelsDir = path.join(TOOLS_DIR, 'models')): Teacher {
  const { recipe, corpus, rows, byRole, key } = teacherPlan(options);
  const modelDir = path.join(modelsDir, `teacher-${key}`);
  const args = [
    '--completion-loss', '--prompt-loss-weight', String(recipe.promptLossWeight), '--recipe', `${TEACHER_RECIPE}:${key}`,
    '--arch', 'llama', '--seed', String(recipe.seed), '--steps', String(recipe.steps), '--batch-size', String(recipe.batchSize), '--learning-rate', String(recipe.learningRate),
    '--layers', String(recipe.layers), '--hidden', String(recipe.hidden), '--heads', String(recipe.heads), '--vocab', String(recipe.vocab), '--threads', String(recipe.threads),
    '--max-length', String(recipe.maxLength),
  ];
  return ensureCachedModel({ modelDir, key, corpus, args, what: 'the teacher' }, () =>
    log(
      `making the teacher (${rows} rows: ${Object.entries(byRole).map(([r, n]) => `${n} ${r}`).join(', ')}; ` +
        `${recipe.layers}x${recipe.hidden}, ${recipe.steps} steps on ${recipe.threads} thread(s); minutes to half an hour) in ${modelDir}`,
    ),
  );
}

/** The model name the teacher answers to over the OpenAI protocol (a campaign's `models.feedback.model`). */
export const TEACHER_NAME = 'teacher';

/**
 * Makes the teacher if missing and serves it on a free local port over the OpenAI protocol
 * (chat completions with logprobs: RLAIF's judge and RLCF's discriminator read P(Yes) there).
 */
export async function startTeacher(log: (line: string) => void = () => undefined, options: Partial<TeacherRecipe> = {}): Promise<OnnxOpenAiServer & { teacher: Teacher }> {
  const teacher = ensureTeacher(log, options);
  return Object.assign(await serveTeacher(teacher.onnxDir, log), { teacher });
}

/** Serves a teacher already made (its ONNX export) on a free local port over the OpenAI protocol, as model TEACHER_NAME. */
export async function serveTeacher(onnxDir: string, log: (line: string) => void = () => undefined): Promise<OnnxOpenAiServer> {
  const server = await startOnnxOpenAiServer({ modelDir: onnxDir, name: TEACHER_NAME, intraOpThreads: 1 });
  log(`teacher: ${onnxDir} served over the OpenAI protocol at ${server.baseUrl} (model ${TEACHER_NAME})`);
  return server;
}

import type { Language } from '../../sandbox/types';
import { SeededRandom } from '../../simulation/seeded-random';
import { buildFamily, familySplit, FAMILY_DEFAULTS, type Family, type FamilySplit, type FamilyTask } from './family';
import { DOMAIN_SLOTS, primitiveKey, PRIMITIVES, type Primitive, type Slot } from './primitives';
import { feedbackFor, promptOf, refinementTriple, renderProgram, taskLineTruth, testsOf, type LineTruth, type RefinementTriple } from './render';

/**
 * The synthetic code family as the dataset registry serves it (`synth`: Python, `synth-java`:
 * Java, the same tasks, numbers and splits), and the corpora made from it: the starting
 * policy's pretraining corpus with near-miss bugs, and per-program truth (bugs, failing lines,
 * feedback, fix) for teachers, judges, refiners and simulated annotators.
 */
export * from './family';
export * from './render';
export * from './primitives';

/** The registered family: seed 1, the defaults of FAMILY_DEFAULTS. */
export const REGISTERED_FAMILY_SEED = FAMILY_DEFAULTS.seed;
export const registeredFamily = (): Family => buildFamily({ seed: REGISTERED_FAMILY_SEED });
export const synthTaskId = (language: Language, t: Pick<FamilyTask, 'number'>) => `${language === 'java' ? 'SynthJava' : 'Synth'}/${t.number}`;

/** The family's task behind a registry task id ("Synth/17" or "SynthJava/17"), or undefined. */
export function familyTaskOf(taskId: string, family = registeredFamily()): FamilyTask | undefined {
  const m = /^Synth(?:Java)?\/(\d+)$/.exec(taskId);
  return m ? family.tasks[Number(m[1])] : undefined;
}

/** The registry's view of one task (a CodeTask of activities/datasets/registry.ts). */
export function familyCodeTask(t: FamilyTask, language: Language) {
  const reference = renderProgram(t, language);
  const tests = testsOf(t, language);
  return {
    taskId: synthTaskId(language, t),
    number: t.number,
    prompt: promptOf(t, language),
    tests,
    reference,
    canonical: reference,
    text: t.description,
    ...(language === 'python' ? { testList: tests.split('\n') } : {}),
  };
}

// ---------------------------------------------------------------- near-miss bug rates
export const BUG_RATE_RANGE = [0.2, 0.65] as const;

/** Each primitive's bug rate in the pretraining corpus: seeded, uniform in BUG_RATE_RANGE. */
export function bugRates(seed: number): Map<string, number> {
  const rates = new Map<string, number>();
  for (const slots of Object.values(PRIMITIVES)) {
    for (const ps of Object.values(slots) as Primitive[][]) {
      for (const p of ps) {
        if (!p.bug) continue;
        const r = new SeededRandom('synthetic-bug-rate', seed, primitiveKey(p)).next();
        rates.set(primitiveKey(p), BUG_RATE_RANGE[0] + r * (BUG_RATE_RANGE[1] - BUG_RATE_RANGE[0]));
      }
    }
  }
  return rates;
}

/** The slots to plant bugs in for one rendering: each slot's bug independently, at its primitive's rate. */
export function drawBugs(t: FamilyTask, rates: ReadonlyMap<string, number>, rng: SeededRandom): Slot[] {
  const slots = DOMAIN_SLOTS[t.combination.domain];
  return t.bugSlots.filter((slot) => rng.next() < (rates.get(primitiveKey(t.combination.parts[slots.indexOf(slot)]!)) ?? 0));
}

export interface CorpusOptions {
  /** the corpus seed: bug rates and draws (the family's seed is the family's) */
  seed: number;
  family?: Family;
  split?: FamilySplit;
  /** renderings of each task */
  repeats: number;
  languages?: Language[];
}

export interface CorpusRow {
  taskId: string;
  language: Language;
  prompt: string;
  completion: string;
  bugs: Slot[];
}

/**
 * Programs of a split's tasks, each rendered `repeats` times with each primitive's near-miss bug
 * planted independently at its seeded rate (20-65%), with their truth (verdict, wrong lines,
 * feedback, fix). A teacher's corpus (judge yes/no, feedback, refinements) is made from these,
 * over the splits it may see (never `test`).
 */
export function renderedPrograms(o: CorpusOptions): ProgramTruth[] {
  const family = o.family ?? registeredFamily();
  const rates = bugRates(o.seed);
  const out: ProgramTruth[] = [];
  for (const language of o.languages ?? ['python']) {
    for (const t of familySplit(family, o.split ?? 'pretrain')) {
      const rng = new SeededRandom('synthetic-corpus', o.seed, language, t.number);
      for (let r = 0; r < o.repeats; r++) out.push(programTruth(t, language, drawBugs(t, rates, rng)));
    }
  }
  return out;
}

/**
 * The starting policy's pretraining corpus: `renderedPrograms` of the pretrain split, as
 * prompt + completion rows. The bugs make the model write correct code often, but not mostly,
 * as code LLMs do: pass@k well above pass@1, and feedback has something to fix.
 */
export function pretrainCorpus(o: CorpusOptions): CorpusRow[] {
  return renderedPrograms(o).map((p) => ({ taskId: p.taskId, language: p.language, prompt: p.prompt, completion: p.program.slice(p.prompt.length), bugs: p.bugs }));
}

/** Everything a teacher corpus needs about one program of a task with the given bugs. */
export interface ProgramTruth {
  taskId: string;
  language: Language;
  prompt: string;
  program: string;
  bugs: Slot[];
  /** whether it passes the tests: no bug the tests catch */
  passes: boolean;
  lines: LineTruth[];
  feedback: string;
  /** the correct program */
  fix: string;
}

/** The truth of one rendered program: judge answer (passes), line labels, feedback, fix. */
export function programTruth(t: FamilyTask, language: Language, bugs: readonly Slot[]): ProgramTruth {
  const program = renderProgram(t, language, bugs);
  return {
    taskId: synthTaskId(language, t),
    language,
    prompt: promptOf(t, language),
    program,
    bugs: [...bugs],
    passes: !bugs.some((b) => t.bugSlots.includes(b)),
    lines: taskLineTruth(t, language, program),
    feedback: feedbackFor(t, bugs),
    fix: renderProgram(t, language),
  };
}

/** ILF's refiner triples for a split: each task with each of its bugs alone, and all together. */
export function refinementTriples(split: FamilySplit, language: Language = 'python', family = registeredFamily()): RefinementTriple[] {
  const out: RefinementTriple[] = [];
  for (const t of familySplit(family, split)) {
    const variants: Slot[][] = t.bugSlots.map((s) => [s]);
    if (t.bugSlots.length > 1) variants.push([...t.bugSlots]);
    for (const bugs of variants) out.push(refinementTriple(t, language, bugs, synthTaskId(language, t)));
  }
  return out;
}

import { SeededRandom } from '../../simulation/seeded-random';
import { DOMAIN_SLOTS, PRIMITIVES, primitiveKey, type Domain, type Primitive, type Slot, type Value } from './primitives';

/**
 * The synthetic code-task family: MBPP-style tasks composed from primitives (primitives.ts),
 * generated from a seed, deterministic, split by combination.
 *
 * - lists of integers: aggregate × transform × filter ("the sum of the squares of the even numbers");
 * - strings: the same shape over characters ("the vowels of a string, in upper case, joined");
 * - arithmetic: two steps with constants ("add 3 to a number and then multiply the result by 2").
 *
 * Every task is one combination. Its tests are made by evaluating the combination here on
 * seeded inputs, chosen so that each near-miss bug of its primitives changes at least one
 * expected value, in Python and in Java: a program carrying a bug fails the tests.
 */
export interface Combination {
  domain: Domain;
  /** the primitive of each slot of the domain, in DOMAIN_SLOTS order */
  parts: Primitive[];
}

export interface FamilyTask {
  /** "synth/17": the combination's number in the family's order (splits are ranges of it) */
  number: number;
  combination: Combination;
  /** the Python function name (Java: its camelCase, in a class of its PascalCase) */
  name: string;
  description: string;
  /** the test inputs (each one argument) and the expected results */
  inputs: Value[];
  expected: Value[];
  /** the slots whose bug the tests catch, in both languages (every slot with a bug, in practice) */
  bugSlots: Slot[];
}

export type FamilySplit = 'pretrain' | 'train' | 'test';
export const FAMILY_SPLITS: readonly FamilySplit[] = ['pretrain', 'train', 'test'];

export interface FamilyOptions {
  /** the seed of everything random: the arithmetic combinations drawn, the split, the inputs */
  seed?: number;
  /** shares of each domain's combinations in pretrain and train (the rest is test) */
  pretrainShare?: number;
  trainShare?: number;
  /** how many arithmetic combinations to draw (of the 240 ordered pairs of distinct steps) */
  arithCombinations?: number;
  /** asserts per task */
  tests?: number;
}

export interface Family {
  seed: number;
  tasks: FamilyTask[];
  /** inclusive ranges of task numbers */
  splits: Record<FamilySplit | 'all', readonly [number, number]>;
}

export const FAMILY_DEFAULTS: Required<FamilyOptions> = { seed: 1, pretrainShare: 0.6, trainShare: 0.2, arithCombinations: 120, tests: 5 };

// ---------------------------------------------------------------- evaluation
export type Variant = 'correct' | 'python-bug' | 'java-bug';

function applyPart(p: Primitive, v: Value, variant: Variant, buggy: boolean): Value {
  const f = buggy && p.bug ? (variant === 'java-bug' ? (p.bug.applyJava ?? p.bug.apply) : p.bug.apply) : p.apply;
  return (f as (v: Value) => Value)(v);
}

/** The result of a combination on one input, with the bugs of `bugSlots` planted (Python's or Java's meaning). */
export function evaluate(c: Combination, input: Value, bugSlots: readonly Slot[] = [], variant: Variant = 'correct'): Value {
  const slots = DOMAIN_SLOTS[c.domain];
  const part = (slot: Slot) => c.parts[slots.indexOf(slot)]!;
  const buggy = (slot: Slot) => variant !== 'correct' && bugSlots.includes(slot);
  if (c.domain === 'arith') {
    const a = applyPart(part('first'), input, variant, buggy('first'));
    return applyPart(part('second'), a, variant, buggy('second'));
  }
  const items: Value[] = c.domain === 'string' ? [...(input as string)] : (input as Value[]);
  const kept = items.filter((x) => applyPart(part('filter'), x, variant, buggy('filter')) === true);
  const values = kept.map((x) => applyPart(part('transform'), x, variant, buggy('transform')));
  return applyPart(part('aggregate'), values, variant, buggy('aggregate'));
}

/** Python's == on the values the family produces (2.0 == 2; lists element-wise). */
export function sameValue(a: Value, b: Value): boolean {
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]!));
  return a === b;
}

// ---------------------------------------------------------------- combinations, names, descriptions
function allCombinations(seed: number, arithCount: number): Combination[] {
  const out: Combination[] = [];
  for (const domain of ['list', 'string'] as const) {
    const p = PRIMITIVES[domain];
    for (const aggregate of p.aggregate!) for (const transform of p.transform!) for (const filter of p.filter!) out.push({ domain, parts: [filter, transform, aggregate] });
  }
  const steps = PRIMITIVES.arith;
  const pairs: Combination[] = [];
  for (const first of steps.first!) for (const second of steps.second!) {
    // two steps of the same operation (add 2 then add 3) say little: distinct operations only
    if (first.id.replace(/\d/g, '') !== second.id.replace(/\d/g, '')) pairs.push({ domain: 'arith', parts: [first, second] });
  }
  return out.concat(shuffle(pairs, new SeededRandom('synthetic-family', seed, 'arith')).slice(0, arithCount));
}

function shuffle<T>(items: readonly T[], rng: SeededRandom): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

export function functionName(c: Combination): string {
  if (c.domain === 'arith') return `${c.parts[0]!.name}_then_${c.parts[1]!.name}`;
  const [filter, transform, aggregate] = c.parts;
  return [aggregate!.name, transform!.name, filter!.name].filter(Boolean).join('_');
}

export function describe(c: Combination): string {
  if (c.domain === 'arith') {
    const [first, second] = c.parts;
    return `Write a function to ${first!.phrase.replace('{x}', 'a number')} and then ${second!.phrase.replace('{x}', 'the result')}.`;
  }
  const [filter, transform, aggregate] = c.parts;
  if (c.domain === 'list') return `Write a function to find ${aggregate!.phrase}${transform!.phrase}${filter!.phrase} in a given list.`;
  return `Write a function to ${aggregate!.phrase} ${filter!.phrase} of a given string${transform!.phrase}.`;
}

export const comboKey = (c: Combination) => `${c.domain}:${c.parts.map((p) => p.id).join('+')}`;

// ---------------------------------------------------------------- inputs
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const STRING_ALPHABET = `${LETTERS}${LETTERS}aeiouaeiouuummABCDEMU0123456789  `;

function randomInput(domain: Domain, rng: SeededRandom): Value {
  if (domain === 'arith') return rng.int(61) - 20;
  if (domain === 'list') return Array.from({ length: 3 + rng.int(6) }, () => rng.int(30) - 9);
  return Array.from({ length: 4 + rng.int(7) }, () => STRING_ALPHABET[rng.int(STRING_ALPHABET.length)]!).join('').trim() || 'a';
}

const CANDIDATES = 300;

/** Inputs on which each bug is seen (in both languages), then random ones; every filtered list non-empty. */
function chooseInputs(c: Combination, seed: number, count: number): { inputs: Value[]; bugSlots: Slot[] } {
  const rng = new SeededRandom('synthetic-family', seed, 'inputs', comboKey(c));
  const slots = DOMAIN_SLOTS[c.domain];
  const candidates: Value[] = [];
  for (let i = 0; i < CANDIDATES * 4 && candidates.length < CANDIDATES; i++) {
    const input = randomInput(c.domain, rng);
    if (c.domain !== 'arith' && !nonEmptyKept(c, input)) continue;
    if (!candidates.some((x) => sameValue(x, input))) candidates.push(input);
  }
  const catches = (input: Value, slot: Slot, variant: Variant) => !sameValue(evaluate(c, input), evaluate(c, input, [slot], variant));
  const chosen: Value[] = [];
  const bugSlots: Slot[] = [];
  for (const [i, slot] of slots.entries()) {
    if (!c.parts[i]!.bug) continue;
    const both = candidates.find((x) => catches(x, slot, 'python-bug') && catches(x, slot, 'java-bug'));
    const py = both ?? candidates.find((x) => catches(x, slot, 'python-bug'));
    const java = both ?? candidates.find((x) => catches(x, slot, 'java-bug'));
    if (!py || !java) continue;
    bugSlots.push(slot);
    for (const x of [py, java]) if (!chosen.some((y) => sameValue(x, y))) chosen.push(x);
  }
  for (const x of candidates) {
    if (chosen.length >= count) break;
    if (!chosen.some((y) => sameValue(x, y))) chosen.push(x);
  }
  // the example in the prompt is the first test: a random one, not the bug-revealing one
  const order = shuffle(chosen.slice(0, Math.max(count, chosen.length)), rng);
  return { inputs: order, bugSlots };
}

function nonEmptyKept(c: Combination, input: Value): boolean {
  const items: Value[] = c.domain === 'string' ? [...(input as string)] : (input as Value[]);
  const filter = c.parts[0]!;
  // twice: the aggregate's near-miss (skip the first, drop the last) must still leave a value
  return items.filter((x) => (filter.apply as (v: Value) => Value)(x) === true).length >= 2;
}

// ---------------------------------------------------------------- the family
const families = new Map<string, Family>();

/** The family for a seed (cached): its tasks in number order and its splits. */
export function buildFamily(options: FamilyOptions = {}): Family {
  const o = { ...FAMILY_DEFAULTS, ...options };
  const key = JSON.stringify(o);
  const hit = families.get(key);
  if (hit) return hit;
  const rng = new SeededRandom('synthetic-family', o.seed, 'split');
  const parts: Record<FamilySplit, Combination[]> = { pretrain: [], train: [], test: [] };
  const combos = allCombinations(o.seed, o.arithCombinations);
  for (const domain of ['list', 'string', 'arith'] as const) {
    const mine = shuffle(combos.filter((c) => c.domain === domain), rng);
    const nPre = Math.round(mine.length * o.pretrainShare);
    const nTrain = Math.round(mine.length * o.trainShare);
    parts.pretrain.push(...mine.slice(0, nPre));
    parts.train.push(...mine.slice(nPre, nPre + nTrain));
    parts.test.push(...mine.slice(nPre + nTrain));
  }
  coverPrimitives(parts);
  const tasks: FamilyTask[] = [];
  const splits = {} as Record<FamilySplit | 'all', readonly [number, number]>;
  for (const split of FAMILY_SPLITS) {
    const first = tasks.length;
    for (const c of parts[split]) {
      const { inputs, bugSlots } = chooseInputs(c, o.seed, o.tests);
      tasks.push({ number: tasks.length, combination: c, name: functionName(c), description: describe(c), inputs, expected: inputs.map((x) => evaluate(c, x)), bugSlots });
    }
    splits[split] = [first, tasks.length - 1];
  }
  splits.all = [0, tasks.length - 1];
  const family = { seed: o.seed, tasks, splits };
  families.set(key, family);
  return family;
}

/**
 * Every primitive of a train or test combination must be seen in pretraining: a held-out task
 * is an unseen combination of known parts. A combination whose primitive is missing from
 * pretrain swaps places with a pretrain combination that does not carry a primitive only it has.
 */
function coverPrimitives(parts: Record<FamilySplit, Combination[]>): void {
  const count = () => {
    const seen = new Map<string, number>();
    for (const c of parts.pretrain) for (const p of c.parts) seen.set(primitiveKey(p), (seen.get(primitiveKey(p)) ?? 0) + 1);
    return seen;
  };
  for (const split of ['train', 'test'] as const) {
    for (let i = 0; i < parts[split].length; i++) {
      const seen = count();
      const c = parts[split][i]!;
      if (c.parts.every((p) => seen.has(primitiveKey(p)))) continue;
      const j = parts.pretrain.findIndex((d) => d.domain === c.domain && d.parts.every((p) => seen.get(primitiveKey(p))! > 1));
      if (j < 0) continue;
      [parts[split][i], parts.pretrain[j]] = [parts.pretrain[j]!, c];
    }
  }
}

export function familySplit(family: Family, split: FamilySplit): FamilyTask[] {
  const [lo, hi] = family.splits[split];
  return family.tasks.slice(lo, hi + 1);
}

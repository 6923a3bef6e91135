/**
 * The primitives the synthetic code family composes, each with its code in Python and Java,
 * its meaning (evaluated here, in TypeScript, with Python's semantics: floor division, a
 * non-negative remainder), and one near-miss bug: the wrong code a code LLM plausibly writes,
 * its meaning in each language (Python's `/` gives a float, Java's truncates), and the feedback
 * a reviewer would give on it.
 *
 * Code templates name the value they act on `{v}`: `x` for a list element, `c` for a character
 * (a one-character string in both languages), `n` or `a` for an arithmetic step.
 */

export type Domain = 'list' | 'string' | 'arith';
export type Slot = 'filter' | 'transform' | 'aggregate' | 'first' | 'second';
/** a task's input or result (booleans are only a filter's verdict) */
export type Value = number | string | boolean | Value[];

/** One near-miss bug of a primitive. */
export interface NearMiss {
  python: string;
  java: string;
  /** the bug's meaning in Python and, where it differs, in Java */
  apply: (v: never) => Value;
  applyJava?: (v: never) => Value;
  /** what a reviewer says about it, e.g. "keep the even numbers, not the odd ones" */
  feedback: string;
}

export interface Primitive {
  id: string;
  domain: Domain;
  slot: Slot;
  /** the words the task description uses */
  phrase: string;
  /** the part of the function name */
  name: string;
  /** code, with `{v}` for the value; `null`: the primitive is the identity (no code, no bug) */
  python: string | null;
  java: string | null;
  apply: (v: never) => Value;
  bug?: NearMiss;
}

type Bare = Omit<Primitive, 'domain' | 'slot'>;

const floorDiv = (a: number, b: number) => Math.floor(a / b);
const floorMod = (a: number, b: number) => ((a % b) + b) % b;
/** Java's int division and remainder: truncated */
const truncDiv = (a: number, b: number) => Math.trunc(a / b);

type Num = (x: number) => number | boolean;
type Str = (c: string) => string | boolean;
const num = (f: Num) => f as (v: never) => Value;
const str = (f: Str) => f as (v: never) => Value;
const list = (f: (xs: Value[]) => Value) => f as (v: never) => Value;

// ---------------------------------------------------------------- lists of integers
const LIST_FILTERS: Bare[] = [
  { id: 'all', phrase: 'all the numbers', name: 'all', python: null, java: null, apply: num(() => true) },
  { id: 'even', phrase: 'the even numbers', name: 'evens', python: '{v} % 2 == 0', java: '{v} % 2 == 0', apply: num((x) => floorMod(x, 2) === 0),
    bug: { python: '{v} % 2 == 1', java: '{v} % 2 != 0', apply: num((x) => floorMod(x, 2) === 1), feedback: 'keep the even numbers, not the odd ones' } },
  { id: 'odd', phrase: 'the odd numbers', name: 'odds', python: '{v} % 2 == 1', java: '{v} % 2 != 0', apply: num((x) => floorMod(x, 2) === 1),
    bug: { python: '{v} % 2 == 0', java: '{v} % 2 == 0', apply: num((x) => floorMod(x, 2) === 0), feedback: 'keep the odd numbers, not the even ones' } },
  { id: 'positive', phrase: 'the positive numbers', name: 'positives', python: '{v} > 0', java: '{v} > 0', apply: num((x) => x > 0),
    bug: { python: '{v} >= 0', java: '{v} >= 0', apply: num((x) => x >= 0), feedback: 'zero is not positive: use > 0, not >= 0' } },
  { id: 'negative', phrase: 'the negative numbers', name: 'negatives', python: '{v} < 0', java: '{v} < 0', apply: num((x) => x < 0),
    bug: { python: '{v} <= 0', java: '{v} <= 0', apply: num((x) => x <= 0), feedback: 'zero is not negative: use < 0, not <= 0' } },
  { id: 'mult3', phrase: 'the multiples of 3', name: 'threes', python: '{v} % 3 == 0', java: '{v} % 3 == 0', apply: num((x) => floorMod(x, 3) === 0),
    bug: { python: '{v} % 3 == 1', java: '{v} % 3 == 1', apply: num((x) => floorMod(x, 3) === 1), applyJava: num((x) => x % 3 === 1), feedback: 'a multiple of 3 leaves remainder 0, not 1' } },
  { id: 'gt4', phrase: 'the numbers greater than 4', name: 'above_4', python: '{v} > 4', java: '{v} > 4', apply: num((x) => x > 4),
    bug: { python: '{v} >= 4', java: '{v} >= 4', apply: num((x) => x >= 4), feedback: '4 itself is not greater than 4: use > 4, not >= 4' } },
  { id: 'lt10', phrase: 'the numbers less than 10', name: 'below_10', python: '{v} < 10', java: '{v} < 10', apply: num((x) => x < 10),
    bug: { python: '{v} <= 10', java: '{v} <= 10', apply: num((x) => x <= 10), feedback: '10 itself is not less than 10: use < 10, not <= 10' } },
];

const LIST_TRANSFORMS: Bare[] = [
  { id: 'identity', phrase: '', name: '', python: null, java: null, apply: num((x) => x) },
  { id: 'square', phrase: 'the squares of ', name: 'squares', python: '{v} * {v}', java: '{v} * {v}', apply: num((x) => x * x),
    bug: { python: '{v} * 2', java: '{v} * 2', apply: num((x) => x * 2), feedback: 'square each number (x * x), do not double it' } },
  { id: 'double', phrase: 'the doubles of ', name: 'doubles', python: '2 * {v}', java: '2 * {v}', apply: num((x) => 2 * x),
    bug: { python: '{v} + 2', java: '{v} + 2', apply: num((x) => x + 2), feedback: 'double each number (2 * x), do not add 2' } },
  { id: 'succ', phrase: 'the successors (plus one) of ', name: 'successors', python: '{v} + 1', java: '{v} + 1', apply: num((x) => x + 1),
    bug: { python: '{v} - 1', java: '{v} - 1', apply: num((x) => x - 1), feedback: 'add one to each number, do not subtract it' } },
  { id: 'half', phrase: 'the halves (rounded down) of ', name: 'halves', python: '{v} // 2', java: 'Math.floorDiv({v}, 2)', apply: num((x) => floorDiv(x, 2)),
    bug: { python: '{v} / 2', java: '{v} / 2', apply: num((x) => x / 2), applyJava: num((x) => truncDiv(x, 2)), feedback: 'halve with floor division (// 2, rounding down), not true division' } },
  { id: 'lastdigit', phrase: 'the last digits of ', name: 'last_digits', python: '{v} % 10', java: 'Math.floorMod({v}, 10)', apply: num((x) => floorMod(x, 10)),
    bug: { python: '{v} // 10', java: '{v} / 10', apply: num((x) => floorDiv(x, 10)), applyJava: num((x) => truncDiv(x, 10)), feedback: 'the last digit is the remainder modulo 10, not the quotient' } },
];

const sum = (xs: Value[]) => (xs as number[]).reduce((a, b) => a + b, 0);
const distinct = (xs: Value[]) => new Set(xs.map((x) => JSON.stringify(x))).size;
/** Python's max/min of an empty sequence raises: the tests keep the filtered list non-empty */
const LIST_AGGREGATES: Bare[] = [
  { id: 'sum', phrase: 'the sum of ', name: 'sum', python: 'sum({v})', java: '{v}.stream().mapToInt(Integer::intValue).sum()', apply: list(sum),
    bug: { python: 'sum({v}[1:])', java: '{v}.stream().skip(1).mapToInt(Integer::intValue).sum()', apply: list((xs) => sum(xs.slice(1))), feedback: 'add up every number, including the first one' } },
  { id: 'max', phrase: 'the largest of ', name: 'max', python: 'max({v})', java: 'Collections.max({v})', apply: list((xs) => Math.max(...(xs as number[]))),
    bug: { python: 'max({v}[1:])', java: 'Collections.max({v}.subList(1, {v}.size()))', apply: list((xs) => (xs.length > 1 ? Math.max(...(xs.slice(1) as number[])) : 'error')), feedback: 'take the largest of all the numbers, including the first one' } },
  { id: 'min', phrase: 'the smallest of ', name: 'min', python: 'min({v})', java: 'Collections.min({v})', apply: list((xs) => Math.min(...(xs as number[]))),
    bug: { python: 'min({v}[1:])', java: 'Collections.min({v}.subList(1, {v}.size()))', apply: list((xs) => (xs.length > 1 ? Math.min(...(xs.slice(1) as number[])) : 'error')), feedback: 'take the smallest of all the numbers, including the first one' } },
  { id: 'list', phrase: 'a list of ', name: 'list', python: '{v}', java: '{v}', apply: list((xs) => xs),
    bug: { python: '{v}[:-1]', java: '{v}.subList(0, {v}.size() - 1)', apply: list((xs) => xs.slice(0, -1)), feedback: 'return every number, including the last one' } },
  { id: 'distinct', phrase: 'the number of distinct values among ', name: 'distinct', python: 'len(set({v}))', java: 'new HashSet<>({v}).size()', apply: list(distinct),
    bug: { python: 'len({v})', java: '{v}.size()', apply: list((xs) => xs.length), feedback: 'count each distinct value once: make a set before counting' } },
];

// ---------------------------------------------------------------- strings (characters as one-character strings)
const isAlpha = (c: string) => /^[A-Za-z]$/.test(c);
const STRING_FILTERS: Bare[] = [
  { id: 'all', phrase: 'all the characters', name: 'all', python: null, java: null, apply: str(() => true) },
  { id: 'vowel', phrase: 'the vowels', name: 'vowels', python: "{v} in 'aeiou'", java: '"aeiou".contains({v})', apply: str((c) => 'aeiou'.includes(c)),
    bug: { python: "{v} in 'aeio'", java: '"aeio".contains({v})', apply: str((c) => 'aeio'.includes(c)), feedback: "the vowels are a, e, i, o and u: 'u' is missing" } },
  { id: 'consonant', phrase: 'the consonants', name: 'consonants', python: "{v}.isalpha() and {v} not in 'aeiou'", java: 'Character.isLetter({v}.charAt(0)) && !"aeiou".contains({v})',
    apply: str((c) => isAlpha(c) && !'aeiou'.includes(c)),
    bug: { python: "{v} not in 'aeiou'", java: '!"aeiou".contains({v})', apply: str((c) => !'aeiou'.includes(c)), feedback: 'a consonant is a letter: digits and spaces are not consonants' } },
  { id: 'digit', phrase: 'the digits', name: 'digits', python: '{v}.isdigit()', java: 'Character.isDigit({v}.charAt(0))', apply: str((c) => /^[0-9]$/.test(c)),
    bug: { python: '{v}.isalnum()', java: 'Character.isLetterOrDigit({v}.charAt(0))', apply: str((c) => /^[0-9A-Za-z]$/.test(c)), feedback: 'keep only the digits, not the letters' } },
  { id: 'upper', phrase: 'the upper-case letters', name: 'capitals', python: '{v}.isupper()', java: 'Character.isUpperCase({v}.charAt(0))', apply: str((c) => /^[A-Z]$/.test(c)),
    bug: { python: '{v}.isalpha()', java: 'Character.isLetter({v}.charAt(0))', apply: str(isAlpha), feedback: 'keep only the upper-case letters, not every letter' } },
  { id: 'afterm', phrase: "the characters after 'm'", name: 'after_m', python: "{v} > 'm'", java: '{v}.compareTo("m") > 0', apply: str((c) => c > 'm'),
    bug: { python: "{v} >= 'm'", java: '{v}.compareTo("m") >= 0', apply: str((c) => c >= 'm'), feedback: "'m' itself does not come after 'm': use > 'm', not >= 'm'" } },
];

const STRING_TRANSFORMS: Bare[] = [
  { id: 'identity', phrase: '', name: '', python: null, java: null, apply: str((c) => c) },
  { id: 'upper', phrase: ', in upper case', name: 'upper', python: '{v}.upper()', java: '{v}.toUpperCase()', apply: str((c) => c.toUpperCase()),
    bug: { python: '{v}.lower()', java: '{v}.toLowerCase()', apply: str((c) => c.toLowerCase()), feedback: 'convert to upper case, not to lower case' } },
  { id: 'lower', phrase: ', in lower case', name: 'lower', python: '{v}.lower()', java: '{v}.toLowerCase()', apply: str((c) => c.toLowerCase()),
    bug: { python: '{v}.upper()', java: '{v}.toUpperCase()', apply: str((c) => c.toUpperCase()), feedback: 'convert to lower case, not to upper case' } },
  { id: 'double', phrase: ', each repeated twice', name: 'doubled', python: '{v} * 2', java: '{v}.repeat(2)', apply: str((c) => c.repeat(2)),
    bug: { python: '{v} * 3', java: '{v}.repeat(3)', apply: str((c) => c.repeat(3)), feedback: 'repeat each character twice, not three times' } },
];

const join = (sep: string) => (xs: Value[]) => (xs as string[]).join(sep);
const STRING_AGGREGATES: Bare[] = [
  { id: 'join', phrase: 'join', name: 'join', python: "''.join({v})", java: 'String.join("", {v})', apply: list(join('')),
    bug: { python: "' '.join({v})", java: 'String.join(" ", {v})', apply: list(join(' ')), feedback: 'join the characters with nothing between them, not with spaces' } },
  { id: 'reverse', phrase: 'join in reverse order', name: 'reverse', python: "''.join({v}[::-1])", java: 'new StringBuilder(String.join("", {v})).reverse().toString()',
    apply: list((xs) => (xs as string[]).slice().reverse().join('')),
    bug: { python: "''.join({v})", java: 'String.join("", {v})', apply: list(join('')), feedback: 'join the characters in reverse order: the result is not reversed' } },
  { id: 'dash', phrase: 'join with dashes', name: 'dash', python: "'-'.join({v})", java: 'String.join("-", {v})', apply: list(join('-')),
    bug: { python: "'-'.join({v}) + '-'", java: 'String.join("-", {v}) + "-"', apply: list((xs) => `${join('-')(xs) as string}-`), feedback: 'put dashes only between the characters, not after the last one' } },
];

// ---------------------------------------------------------------- arithmetic steps with constants
function arithSteps(slot: Slot): Primitive[] {
  const steps: Primitive[] = [
    { id: 'square', phrase: 'square {x}', name: 'square', python: '{v} * {v}', java: '{v} * {v}', apply: num((x) => x * x), domain: 'arith', slot,
      bug: { python: '{v} * 2', java: '{v} * 2', apply: num((x) => x * 2), feedback: 'square it (multiply it by itself), do not double it' } },
  ];
  for (const k of [2, 3, 5]) {
    steps.push(
      { id: `add${k}`, phrase: `add ${k} to {x}`, name: `add_${k}`, python: `{v} + ${k}`, java: `{v} + ${k}`, apply: num((x) => x + k), domain: 'arith', slot,
        bug: { python: `{v} - ${k}`, java: `{v} - ${k}`, apply: num((x) => x - k), feedback: `add ${k}, do not subtract it` } },
      { id: `sub${k}`, phrase: `subtract ${k} from {x}`, name: `sub_${k}`, python: `{v} - ${k}`, java: `{v} - ${k}`, apply: num((x) => x - k), domain: 'arith', slot,
        bug: { python: `{v} + ${k}`, java: `{v} + ${k}`, apply: num((x) => x + k), feedback: `subtract ${k}, do not add it` } },
      { id: `mul${k}`, phrase: `multiply {x} by ${k}`, name: `mul_${k}`, python: `{v} * ${k}`, java: `{v} * ${k}`, apply: num((x) => x * k), domain: 'arith', slot,
        bug: { python: `{v} ** ${k}`, java: `(int) Math.pow({v}, ${k})`, apply: num((x) => x ** k), feedback: `multiply by ${k}, do not raise to the power ${k}` } },
      { id: `div${k}`, phrase: `divide {x} by ${k}, rounding down`, name: `div_${k}`, python: `{v} // ${k}`, java: `Math.floorDiv({v}, ${k})`, apply: num((x) => floorDiv(x, k)), domain: 'arith', slot,
        bug: { python: `{v} / ${k}`, java: `{v} / ${k}`, apply: num((x) => x / k), applyJava: num((x) => truncDiv(x, k)), feedback: `divide with floor division (// ${k}, rounding down), not true division` } },
      { id: `mod${k}`, phrase: `take the remainder of {x} divided by ${k}`, name: `mod_${k}`, python: `{v} % ${k}`, java: `Math.floorMod({v}, ${k})`, apply: num((x) => floorMod(x, k)), domain: 'arith', slot,
        bug: { python: `{v} // ${k}`, java: `{v} / ${k}`, apply: num((x) => floorDiv(x, k)), applyJava: num((x) => truncDiv(x, k)), feedback: `take the remainder (% ${k}), not the quotient` } },
    );
  }
  return steps;
}

const tag = (domain: Domain, slot: Slot, ps: Bare[]): Primitive[] => ps.map((p) => ({ ...p, domain, slot }));

/** Every primitive, by domain and slot; a combination takes one per slot of its domain. */
export const PRIMITIVES: Readonly<Record<Domain, Readonly<Partial<Record<Slot, readonly Primitive[]>>>>> = {
  list: { aggregate: tag('list', 'aggregate', LIST_AGGREGATES), transform: tag('list', 'transform', LIST_TRANSFORMS), filter: tag('list', 'filter', LIST_FILTERS) },
  string: { aggregate: tag('string', 'aggregate', STRING_AGGREGATES), transform: tag('string', 'transform', STRING_TRANSFORMS), filter: tag('string', 'filter', STRING_FILTERS) },
  arith: { first: arithSteps('first'), second: arithSteps('second') },
};

export const DOMAIN_SLOTS: Readonly<Record<Domain, readonly Slot[]>> = {
  list: ['filter', 'transform', 'aggregate'],
  string: ['filter', 'transform', 'aggregate'],
  arith: ['first', 'second'],
};

/** A primitive's key across the family: its domain, slot and id ("list.filter.even"). */
export const primitiveKey = (p: Pick<Primitive, 'domain' | 'slot' | 'id'>) => `${p.domain}.${p.slot}.${p.id}`;

import type { Language } from '../../sandbox/types';
import { docstringPrompt } from '../mbpp';
import { DOMAIN_SLOTS, type Primitive, type Slot, type Value } from './primitives';
import type { FamilyTask } from './family';

/**
 * The family's tasks as programs, prompts and tests, in Python (MBPP's layout: a docstring
 * prompt with one example assert, then the program; the tests are asserts) and in Java (MBXP's
 * layout: imports, a class whose Javadoc holds the description and examples, ending with the
 * method's signature; the tests are a `class Main` that throws on a wrong value).
 *
 * A program is the prompt followed by the completion a model writes, as for every dataset (the
 * onnx backend continues the prompt). `renderProgram` can plant the near-miss bug of any slot.
 */

const camel = (snake: string) => snake.replace(/_([a-z0-9])/g, (_, ch: string) => ch.toUpperCase());
const pascal = (snake: string) => camel(snake).replace(/^[a-z]/, (ch) => ch.toUpperCase());
export const javaMethodName = (t: FamilyTask) => camel(t.name);
export const javaClassName = (t: FamilyTask) => pascal(t.name);

function pyLiteral(v: Value): string {
  if (Array.isArray(v)) return `[${v.map(pyLiteral).join(', ')}]`;
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

function javaLiteral(v: Value): string {
  if (Array.isArray(v)) return `Arrays.asList(${v.map(javaLiteral).join(', ')})`;
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

type Types = { param: string; arg: string; result: string };
function javaTypes(t: FamilyTask): Types {
  const d = t.combination.domain;
  if (d === 'arith') return { param: 'n', arg: 'int', result: 'int' };
  if (d === 'string') return { param: 's', arg: 'String', result: 'String' };
  return { param: 'nums', arg: 'List<Integer>', result: t.combination.parts[2]!.id === 'list' ? 'List<Integer>' : 'int' };
}

const pyParam = (t: FamilyTask) => ({ arith: 'n', string: 's', list: 'nums' })[t.combination.domain];

/** The code of a primitive on a value, correct or with its bug. */
function code(p: Primitive, language: Language, v: string, buggy: boolean): string {
  const template = buggy && p.bug ? p.bug[language] : p[language];
  return template!.replaceAll('{v}', v);
}

// ---------------------------------------------------------------- prompts and tests
export function pythonExample(t: FamilyTask, i = 0): string {
  return `assert ${t.name}(${pyLiteral(t.inputs[i]!)}) == ${pyLiteral(t.expected[i]!)}`;
}

/** MBPP's prompt (mbppPrompt in ../mbpp.ts): the description and the first test, as a docstring. */
export function pythonPrompt(t: FamilyTask): string {
  return docstringPrompt(t.description, pythonExample(t));
}

export function pythonTests(t: FamilyTask): string {
  return t.inputs.map((_, i) => pythonExample(t, i)).join('\n');
}

const JAVA_IMPORTS = 'import java.io.*;\nimport java.lang.*;\nimport java.util.*;\nimport java.math.*;\nimport java.util.stream.*;\n\n\n';

/** MBXP's prompt: imports, the class, a Javadoc with the description and three examples, the signature. */
export function javaPrompt(t: FamilyTask): string {
  const ty = javaTypes(t);
  const examples = t.inputs.slice(0, 3).map((x, i) => `     * > ${javaMethodName(t)}(${javaLiteral(x)})\n     * ${pyLiteral(t.expected[i]!)}\n`).join('');
  return (
    `${JAVA_IMPORTS}class ${javaClassName(t)} {\n    /**\n     * * ${t.description}\n     *\n${examples}     */\n` +
    `    public static ${ty.result} ${javaMethodName(t)}(${ty.arg} ${ty.param}) {\n`
  );
}

/** MBXP's test harness: class Main, one compare per test, a plain Exception on a wrong value. */
export function javaTests(t: FamilyTask): string {
  const ty = javaTypes(t);
  const cases = t.inputs
    .map(
      (x, i) =>
        `        ${ty.result} x${i} = ${javaClassName(t)}.${javaMethodName(t)}(${javaLiteral(x)});\n` +
        `        if (!(compare(x${i}, ${javaLiteral(t.expected[i]!)}))) {\n` +
        `            throw new java.lang.Exception("Exception -- test case ${i} did not pass. x${i} = " + x${i});\n        }\n`,
    )
    .join('\n');
  return (
    `\n\nclass Main {\n    public static boolean compare(Object obj1, Object obj2) {\n        if (obj1 == null && obj2 == null){\n            return true;\n` +
    `        } else if (obj1 == null || obj2 == null){\n            return false;\n        } else {\n            return obj1.equals(obj2);\n        }\n    }\n\n` +
    `    public static void main(String[] args) throws Exception {\n${cases}    }\n}\n`
  );
}

export const promptOf = (t: FamilyTask, language: Language) => (language === 'java' ? javaPrompt(t) : pythonPrompt(t));
export const testsOf = (t: FamilyTask, language: Language) => (language === 'java' ? javaTests(t) : pythonTests(t));

// ---------------------------------------------------------------- programs
/** The completion after the prompt: the program's body, with the bugs of `bugs` planted. */
export function renderCompletion(t: FamilyTask, language: Language, bugs: readonly Slot[] = []): string {
  const slots = DOMAIN_SLOTS[t.combination.domain];
  const part = (slot: Slot) => t.combination.parts[slots.indexOf(slot)]!;
  const c = (slot: Slot, v: string) => code(part(slot), language, v, bugs.includes(slot));
  const d = t.combination.domain;
  if (language === 'python') {
    const head = `def ${t.name}(${pyParam(t)}):\n`;
    if (d === 'arith') return `${head}    a = ${c('first', 'n')}\n    return ${c('second', 'a')}\n`;
    const [seq, v] = d === 'list' ? ['nums', 'x'] : ['s', 'c'];
    const filter = part('filter').python === null ? `list(${seq})` : `[${v} for ${v} in ${seq} if ${c('filter', v)}]`;
    const transform = part('transform').python === null ? 'list(kept)' : `[${c('transform', v)} for ${v} in kept]`;
    return `${head}    kept = ${filter}\n    values = ${transform}\n    return ${c('aggregate', 'values')}\n`;
  }
  const end = '    }\n}\n';
  if (d === 'arith') return `        int a = ${c('first', 'n')};\n        return ${c('second', 'a')};\n${end}`;
  const [elem, source] = d === 'list' ? ['Integer', 'nums'] : ['String', 'Arrays.asList(s.split(""))'];
  const v = d === 'list' ? 'x' : 'c';
  const filter = part('filter').java === null ? `new ArrayList<>(${source})` : `${source}.stream().filter(${v} -> ${c('filter', v)}).collect(Collectors.toList())`;
  const transform = part('transform').java === null ? 'new ArrayList<>(kept)' : `kept.stream().map(${v} -> ${c('transform', v)}).collect(Collectors.toList())`;
  return `        List<${elem}> kept = ${filter};\n        List<${elem}> values = ${transform};\n        return ${c('aggregate', 'values')};\n${end}`;
}

/** The whole program (prompt + completion), as the sandbox runs it. */
export function renderProgram(t: FamilyTask, language: Language, bugs: readonly Slot[] = []): string {
  return promptOf(t, language) + renderCompletion(t, language, bugs);
}

// ---------------------------------------------------------------- line-level truth
export interface LineTruth {
  /** 1-based line number in the program */
  line: number;
  text: string;
  /** false when the line is not in the correct program at its place */
  correct: boolean;
}

/**
 * Which lines of `program` are right, against the correct program `reference`: lines of the
 * longest common subsequence of the two (compared without trailing spaces) are correct, the
 * others wrong. For a rendered program with planted bugs these are exactly the bugs' lines.
 */
export function lineTruth(reference: string, program: string): LineTruth[] {
  const a = reference.replace(/\n$/, '').split('\n').map((l) => l.trimEnd());
  const b = program.replace(/\n$/, '').split('\n');
  const bt = b.map((l) => l.trimEnd());
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) lcs[i]![j] = a[i] === bt[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const correct = new Array<boolean>(b.length).fill(false);
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    if (a[i] === bt[j]) {
      correct[j] = true;
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) i++;
    else j++;
  }
  return b.map((text, i) => ({ line: i + 1, text, correct: correct[i]! }));
}

/** Line truth of a task's program (any program: a rendered one or a model's) in a language. */
export function taskLineTruth(t: FamilyTask, language: Language, program: string): LineTruth[] {
  return lineTruth(renderProgram(t, language), program);
}

// ---------------------------------------------------------------- feedback and refinements
/** The templated feedback on a program carrying the bugs of `bugs`: one sentence per bug. */
export function feedbackFor(t: FamilyTask, bugs: readonly Slot[]): string {
  const slots = DOMAIN_SLOTS[t.combination.domain];
  const said = slots.filter((s) => bugs.includes(s)).map((s) => t.combination.parts[slots.indexOf(s)]!.bug?.feedback).filter((f): f is string => !!f);
  if (!said.length) return 'The program is correct.';
  return said.map((f) => `${f.charAt(0).toUpperCase()}${f.slice(1)}.`).join(' ');
}

/** One ILF refiner training triple (task + wrong program + feedback -> refinement), with its truth. */
export interface RefinementTriple {
  taskId: string;
  language: Language;
  prompt: string;
  wrongProgram: string;
  bugs: Slot[];
  feedback: string;
  refinement: string;
  /** lines of the wrong program that differ from the refinement */
  wrongLines: number[];
}

export function refinementTriple(t: FamilyTask, language: Language, bugs: readonly Slot[], taskId: string): RefinementTriple {
  const wrongProgram = renderProgram(t, language, bugs);
  const refinement = renderProgram(t, language);
  return {
    taskId,
    language,
    prompt: promptOf(t, language),
    wrongProgram,
    bugs: [...bugs],
    feedback: feedbackFor(t, bugs),
    refinement,
    wrongLines: lineTruth(refinement, wrongProgram).filter((l) => !l.correct).map((l) => l.line),
  };
}

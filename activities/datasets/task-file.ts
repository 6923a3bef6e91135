import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { encodeStdioTests, type StdioCase, type StdioChecker } from '../../common/stdio-tests';
import type { Language, SandboxLimits } from '../sandbox/types';

/**
 * A dataset of the user's own tasks, from a JSONL file (one task a line) or a JSON file (an
 * array of tasks). Each task: `id`, `prompt`, `language` (`python` | `java`), an optional
 * `reference`, and either assert-style `tests` (a string) with its `entryPoint`, or stdin/stdout
 * `cases` (a list of `{input, output}` strings); optional `checker` (`{floatTolerance}`),
 * `limits` (`cpuMs`, `memoryMb`, `wallMs`) and `tags`. Unknown fields are errors.
 * Validation names every bad row by its line and field; nothing runs until the file is valid.
 */
export interface TaskFileRow {
  id: string;
  prompt: string;
  language: Language;
  reference?: string;
  tests?: string;
  entryPoint?: string;
  cases?: StdioCase[];
  checker?: StdioChecker;
  limits?: Partial<Pick<SandboxLimits, 'cpuMs' | 'memoryMb' | 'wallMs'>>;
  tags?: string[];
}

export interface TaskFileError {
  line: number;
  field: string;
  message: string;
}

export interface FileTask {
  taskId: string;
  /** 1-based position in the file */
  number: number;
  prompt: string;
  language: Language;
  /** assert tests (entry point applied), or encoded stdin/stdout cases (common/stdio-tests.ts) */
  tests: string;
  reference?: string;
  canonical?: string;
  limits?: TaskFileRow['limits'];
  tags?: string[];
}

export interface TaskFile {
  path: string;
  /** SHA-256 of the file's bytes, as the audit records it */
  sha256: string;
  tasks: FileTask[];
}

export class TaskFileInvalid extends Error {
  constructor(
    readonly file: string,
    readonly errors: TaskFileError[],
    readonly tasks: number,
  ) {
    super(`${file}: ${errors.length} error(s): ${errors.slice(0, 5).map((e) => `line ${e.line}: ${e.field}: ${e.message}`).join('; ')}`);
    this.name = 'TaskFileInvalid';
  }
}

const FIELDS = new Set(['id', 'prompt', 'language', 'reference', 'tests', 'entryPoint', 'cases', 'checker', 'limits', 'tags']);
const LIMIT_FIELDS = new Set(['cpuMs', 'memoryMb', 'wallMs']);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The rows of a file with the line each starts on; syntax errors as errors. */
function readRows(text: string, isJsonArray: boolean): { rows: Array<{ line: number; value: unknown }>; errors: TaskFileError[] } {
  const rows: Array<{ line: number; value: unknown }> = [];
  const errors: TaskFileError[] = [];
  if (!isJsonArray) {
    text.split('\n').forEach((raw, i) => {
      if (!raw.trim()) return;
      try {
        rows.push({ line: i + 1, value: JSON.parse(raw) });
      } catch (err) {
        errors.push({ line: i + 1, field: '(json)', message: `not valid JSON: ${(err as Error).message}` });
      }
    });
    return { rows, errors };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    const at = /position (\d+)/.exec((err as Error).message);
    const line = at ? text.slice(0, Number(at[1])).split('\n').length : 1;
    return { rows, errors: [{ line, field: '(json)', message: `not valid JSON: ${(err as Error).message}` }] };
  }
  if (!Array.isArray(parsed)) return { rows, errors: [{ line: 1, field: '(json)', message: 'a JSON dataset file is an array of tasks' }] };
  const starts = elementLines(text);
  parsed.forEach((value, i) => rows.push({ line: starts[i] ?? 1, value }));
  return { rows, errors };
}

/** The line on which each element of a top-level JSON array starts. */
function elementLines(text: string): number[] {
  const lines: number[] = [];
  let depth = 0;
  let line = 1;
  let inString = false;
  let expectElement = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\n') line++;
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (depth === 1 && expectElement && !/\s/.test(ch) && ch !== ']') {
      lines.push(line);
      expectElement = false;
    }
    if (ch === '"') inString = true;
    else if (ch === '[' || ch === '{') {
      depth++;
      if (depth === 1) expectElement = true;
    } else if (ch === ']' || ch === '}') depth--;
    else if (ch === ',' && depth === 1) expectElement = true;
  }
  return lines;
}

function validateRow(value: unknown, line: number, errors: TaskFileError[]): TaskFileRow | undefined {
  const err = (field: string, message: string) => errors.push({ line, field, message });
  const before = errors.length;
  if (!isObject(value)) {
    err('(row)', 'a task is a JSON object');
    return undefined;
  }
  for (const key of Object.keys(value)) if (!FIELDS.has(key)) err(key, 'unknown field');
  const str = (field: string, required: boolean) => {
    const v = value[field];
    if (v === undefined) {
      if (required) err(field, 'is required');
    } else if (typeof v !== 'string' || (field !== 'reference' && !v.trim())) err(field, 'must be a non-empty string');
  };
  str('id', true);
  str('prompt', true);
  str('reference', false);
  if (value.language !== 'python' && value.language !== 'java') err('language', 'must be "python" or "java"');
  const hasTests = value.tests !== undefined;
  const hasCases = value.cases !== undefined;
  if (hasTests === hasCases) err(hasTests ? 'cases' : 'tests', 'give either tests (with entryPoint) or cases, not both nor neither');
  if (hasTests) {
    str('tests', true);
    str('entryPoint', true);
    if (typeof value.entryPoint === 'string' && !/^[A-Za-z_$][\w$]*$/.test(value.entryPoint)) err('entryPoint', 'must be an identifier');
  } else if (value.entryPoint !== undefined) err('entryPoint', 'only with tests');
  if (hasCases) {
    if (!Array.isArray(value.cases) || value.cases.length === 0) err('cases', 'must be a non-empty list of {input, output}');
    else
      value.cases.forEach((c, i) => {
        if (!isObject(c) || typeof c.input !== 'string' || typeof c.output !== 'string') err(`cases[${i}]`, 'must be {input, output} with string values');
        else for (const key of Object.keys(c)) if (key !== 'input' && key !== 'output') err(`cases[${i}].${key}`, 'unknown field');
      });
  }
  if (value.checker !== undefined) {
    if (!isObject(value.checker)) err('checker', 'must be an object {floatTolerance}');
    else {
      for (const key of Object.keys(value.checker)) if (key !== 'floatTolerance') err(`checker.${key}`, 'unknown field');
      const tol = value.checker.floatTolerance;
      if (tol !== undefined && (typeof tol !== 'number' || !Number.isFinite(tol) || tol < 0)) err('checker.floatTolerance', 'must be a number >= 0');
      if (!hasCases) err('checker', 'only with cases');
    }
  }
  if (value.limits !== undefined) {
    if (!isObject(value.limits)) err('limits', 'must be an object {cpuMs, memoryMb, wallMs}');
    else
      for (const [key, v] of Object.entries(value.limits)) {
        if (!LIMIT_FIELDS.has(key)) err(`limits.${key}`, 'unknown field');
        else if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) err(`limits.${key}`, 'must be a positive integer');
      }
  }
  if (value.tags !== undefined && (!Array.isArray(value.tags) || !value.tags.every((t) => typeof t === 'string'))) err('tags', 'must be a list of strings');
  return errors.length === before ? (value as unknown as TaskFileRow) : undefined;
}

/** Assert tests with their entry point: HumanEval-style tests that define `check` get it called. */
function assertTests(row: TaskFileRow): string {
  const tests = row.tests!;
  const entry = row.entryPoint!;
  if (row.language === 'python' && /^def check\(/m.test(tests) && !new RegExp(`^check\\(\\s*${entry}\\s*\\)`, 'm').test(tests)) {
    return `${tests}\n\ncheck(${entry})\n`;
  }
  return tests;
}

/** Validates a dataset file; every error is named by its line and field. */
export function validateTaskFile(file: string): { rows: TaskFileRow[]; errors: TaskFileError[]; tasks: number; sha256: string } {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (err) {
    return { rows: [], errors: [{ line: 0, field: '(file)', message: (err as Error).message }], tasks: 0, sha256: '' };
  }
  const text = raw.toString('utf8');
  const isJsonArray = path.extname(file).toLowerCase() === '.json' || /^\s*\[/.test(text);
  const { rows: parsed, errors } = readRows(text, isJsonArray);
  const rows: TaskFileRow[] = [];
  const seen = new Map<string, number>();
  for (const { line, value } of parsed) {
    const row = validateRow(value, line, errors);
    if (!row) continue;
    const first = seen.get(row.id);
    if (first !== undefined) {
      errors.push({ line, field: 'id', message: `duplicate id ${JSON.stringify(row.id)} (first on line ${first})` });
      continue;
    }
    seen.set(row.id, line);
    rows.push(row);
  }
  if (parsed.length === 0 && errors.length === 0) errors.push({ line: 0, field: '(file)', message: 'the file holds no tasks' });
  errors.sort((a, b) => a.line - b.line);
  return { rows, errors, tasks: parsed.length, sha256: createHash('sha256').update(raw).digest('hex') };
}

/** Loads a valid dataset file; throws TaskFileInvalid (with every error) otherwise. */
export function loadTaskFile(file: string): TaskFile {
  const { rows, errors, tasks, sha256 } = validateTaskFile(file);
  if (errors.length) throw new TaskFileInvalid(file, errors, tasks);
  return {
    path: path.resolve(file),
    sha256,
    tasks: rows.map((row, i) => ({
      taskId: row.id,
      number: i + 1,
      prompt: row.prompt,
      language: row.language,
      tests: row.cases ? encodeStdioTests({ cases: row.cases, ...(row.checker ? { checker: row.checker } : {}) }) : assertTests(row),
      ...(row.reference !== undefined ? { reference: row.reference, canonical: row.reference } : {}),
      ...(row.limits ? { limits: row.limits } : {}),
      ...(row.tags ? { tags: row.tags } : {}),
    })),
  };
}

/** A split: the ids it holds, or its share of the tasks chosen by a hash of the id. */
export type FileSplits = Record<string, string[] | number>;

/** Where a task id falls in [0, 1): the first 52 bits of SHA-256 of the id. */
export function idPosition(id: string): number {
  const hex = createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 13);
  return parseInt(hex, 16) / 2 ** 52;
}

/**
 * Checks splits: id lists name tasks of the file and are disjoint; shares are in (0, 1] and
 * sum to at most 1 (consecutive slices of the hash, in the order given, so disjoint); one kind only.
 */
export function checkSplits(splits: FileSplits, ids: readonly string[]): string[] {
  const problems: string[] = [];
  const values = Object.values(splits);
  if (values.length === 0) problems.push('at least one split is needed');
  const lists = values.filter((v) => Array.isArray(v));
  if (lists.length && lists.length !== values.length) problems.push('give every split as an id list, or every split as a share');
  const known = new Set(ids);
  const owner = new Map<string, string>();
  let shares = 0;
  for (const [name, value] of Object.entries(splits)) {
    if (Array.isArray(value)) {
      for (const id of value) {
        if (!known.has(id)) problems.push(`split ${name}: no task ${JSON.stringify(id)} in the file`);
        const other = owner.get(id);
        if (other !== undefined && other !== name) problems.push(`splits ${other} and ${name} both hold ${JSON.stringify(id)}`);
        owner.set(id, name);
      }
    } else if (typeof value !== 'number' || !(value > 0 && value <= 1)) problems.push(`split ${name}: a share is a number in (0, 1]`);
    else shares += value;
  }
  if (shares > 1 + 1e-9) problems.push(`the shares sum to ${shares}, more than 1`);
  return problems;
}

/** The ids of one split. */
export function splitIds(splits: FileSplits, name: string, ids: readonly string[]): string[] {
  const value = splits[name];
  if (value === undefined) throw new RangeError(`no split ${JSON.stringify(name)}: use one of ${Object.keys(splits).join(', ')}`);
  if (Array.isArray(value)) return [...value];
  let lo = 0;
  for (const [other, share] of Object.entries(splits)) {
    if (other === name) break;
    lo += share as number;
  }
  const hi = lo + value;
  return ids.filter((id) => {
    const p = idPosition(id);
    return p >= lo && p < hi;
  });
}

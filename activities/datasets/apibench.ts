import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DATA_DIR } from '../../infra/paths';
import type { ApiHub } from '../metrics/ast-match/apibench';

/**
 * Gorilla's APIBench (data/apibench/) as RLAIF questions: an instruction, the reference answer
 * in Gorilla's output format, its code and the API it calls.
 *
 * Splits. Evaluation uses the hubs' eval sets; rollouts use training questions. Only the TorchHub
 * training split was published with the data feedloop ships, so the HuggingFace and TensorFlow
 * Hub training questions are a held-out part of their eval sets: a question is held out when a
 * hash of (hub, question id) falls below `heldOutFraction`. The rule is deterministic and the two
 * parts are disjoint: a held-out question is never evaluated. TorchHub keeps its whole eval set
 * for evaluation and trains on its own training split.
 */

export type QuestionSource = 'eval' | 'train';
export type QuestionPart = 'train' | 'eval';

export interface ApiBenchQuestion {
  /** `<hub>/<source file>/<line>`, e.g. `huggingface/eval/17` or `torchhub/train/5`: the task id stored with samples */
  key: string;
  hub: ApiHub;
  /** which file the record comes from */
  source: QuestionSource;
  /** line number in that file, from 1 (for eval records: Gorilla's question_id) */
  line: number;
  instruction: string;
  /** the reference answer as the dataset writes it (Gorilla's output format) */
  referenceOutput: string;
  /** the code part of the reference answer; the record's api_call when it has none */
  referenceCode: string;
  /** the record's ground-truth API call */
  apiCall: string;
  domain: string;
}

const FILES: Record<ApiHub, Record<QuestionSource, string | undefined>> = {
  huggingface: { eval: 'huggingface_eval.json', train: undefined },
  tensorflowhub: { eval: 'tensorflow_eval.json', train: undefined },
  torchhub: { eval: 'torchhub_eval.json', train: 'torchhub_train.json' },
};

interface RawRecord {
  code: string;
  api_call: string;
  api_data?: { domain?: string };
}

/** Instruction and output of a record: `###Instruction: ... ###Output: ...`, or TorchHub train's `{'Instruction': ..., 'Output': ...}`. */
export function splitRecord(text: string): { instruction: string; output: string } {
  const dict = /^\s*\{'Instruction':\s*([\s\S]*?),\s*'(?:Input|Output)':/.exec(text);
  if (dict) {
    const at = text.indexOf("'Output':");
    const output = at < 0 ? '' : text.slice(at + "'Output':".length).trim().replace(/\}\s*$/, '').trim();
    return { instruction: dict[1]!.trim(), output };
  }
  const out = /###\s*Output:/.exec(text);
  const head = out ? text.slice(0, out.index) : text;
  const instruction = head.replace(/^\s*###\s*Instruction:\s*/, '').replace(/###\s*Input:/, 'Input:').trim();
  return { instruction, output: out ? text.slice(out.index + out[0].length).trim() : '' };
}

/**
 * The code of an answer in Gorilla's format: after `<<<code>>>:`, or the `'code':` value of the
 * dict form TorchHub answers use, or a fenced block. Null when the answer has none.
 */
export function codeOfAnswer(answer: string): string | null {
  const marker = answer.indexOf('<<<code>>>');
  if (marker >= 0) return unfence(answer.slice(marker + '<<<code>>>'.length).replace(/^\s*:\s?/, '')).trim() || null;
  const dict = /'code':\s*(['"])([\s\S]*)$/.exec(answer);
  if (dict) {
    // The value runs to the closing quote before the dict's last brace(s).
    const body = dict[2]!.replace(/\s*\}+\s*$/, '');
    return body.endsWith(dict[1]!) ? body.slice(0, -1).trim() || null : body.trim() || null;
  }
  const fenced = /```[ \t]*(?:python|py)?[ \t]*\n([\s\S]*?)```/.exec(answer);
  return fenced ? fenced[1]!.trim() || null : null;
}

function unfence(code: string): string {
  const fenced = /^\s*```[ \t]*(?:python|py)?[ \t]*\n([\s\S]*?)(```|$)/.exec(code);
  return fenced ? fenced[1]! : code;
}

const cache = new Map<string, ApiBenchQuestion[]>();

/** All records of one hub's file, in file order. */
export function loadApiBenchFile(hub: ApiHub, source: QuestionSource, dataDir = DATA_DIR): ApiBenchQuestion[] {
  const file = FILES[hub][source];
  if (!file) return [];
  const cacheKey = `${dataDir}\0${hub}\0${source}`;
  const cached = cache.get(cacheKey);
  if (cached) return cached;
  const lines = fs.readFileSync(path.join(dataDir, 'apibench', file), 'utf8').split('\n');
  const questions: ApiBenchQuestion[] = [];
  lines.forEach((l, i) => {
    if (!l.trim()) return;
    const r = JSON.parse(l) as RawRecord;
    const { instruction, output } = splitRecord(r.code);
    questions.push({
      key: `${hub}/${source}/${i + 1}`,
      hub,
      source,
      line: i + 1,
      instruction,
      referenceOutput: output,
      referenceCode: codeOfAnswer(output) ?? r.api_call,
      apiCall: r.api_call,
      domain: r.api_data?.domain ?? '',
    });
  });
  cache.set(cacheKey, questions);
  return questions;
}

/** The question a task id names, or undefined. */
export function apiBenchQuestion(key: string, dataDir = DATA_DIR): ApiBenchQuestion | undefined {
  const m = /^(huggingface|tensorflowhub|torchhub)\/(eval|train)\/(\d+)$/.exec(key);
  if (!m) return undefined;
  return loadApiBenchFile(m[1] as ApiHub, m[2] as QuestionSource, dataDir).find((q) => q.line === Number(m[3]));
}

/** Uniform in [0, 1) from (hub, line): the held-out draw of an eval question. */
function heldOutDraw(hub: ApiHub, line: number): number {
  return createHash('sha256').update(`apibench-heldout-v1/${hub}/${line}`).digest().readUInt32LE(0) / 2 ** 32;
}

/** Whether an eval-set question of a hub is held out for training (never for TorchHub, which has a training split). */
export function isHeldOut(hub: ApiHub, line: number, heldOutFraction: number): boolean {
  return hub !== 'torchhub' && heldOutDraw(hub, line) < heldOutFraction;
}

export interface QuestionSelection {
  part: QuestionPart;
  hubs: readonly ApiHub[];
  /** share of HuggingFace and TensorFlow Hub eval questions held out as training questions */
  heldOutFraction: number;
  /** eval part: the first N questions of each hub; train part: ignored */
  maxPerHub?: number;
}

/** The questions of a part, hub by hub in file order. */
export function selectQuestions(sel: QuestionSelection, dataDir = DATA_DIR): ApiBenchQuestion[] {
  const out: ApiBenchQuestion[] = [];
  for (const hub of sel.hubs) {
    const held = loadApiBenchFile(hub, 'eval', dataDir).filter((q) => isHeldOut(hub, q.line, sel.heldOutFraction));
    if (sel.part === 'train') {
      out.push(...loadApiBenchFile(hub, 'train', dataDir), ...held);
    } else {
      const evalPart = loadApiBenchFile(hub, 'eval', dataDir).filter((q) => !isHeldOut(hub, q.line, sel.heldOutFraction));
      out.push(...(sel.maxPerHub === undefined ? evalPart : evalPart.slice(0, sel.maxPerHub)));
    }
  }
  return out;
}

/**
 * The rollout batch of an iteration: the training questions in a seeded order, cut into batches
 * of `size` that go round the list, so consecutive iterations see different questions.
 */
export function rolloutBatch(sel: Omit<QuestionSelection, 'part' | 'maxPerHub'>, seed: number, iteration: number, size: number, dataDir = DATA_DIR): ApiBenchQuestion[] {
  const all = selectQuestions({ ...sel, part: 'train' }, dataDir);
  if (all.length === 0) return [];
  const rank = (q: ApiBenchQuestion) => createHash('sha256').update(`apibench-rollouts-v1/${seed}/${q.key}`).digest().readUInt32LE(0);
  const ordered = [...all].sort((a, b) => rank(a) - rank(b) || (a.key < b.key ? -1 : 1));
  const start = ((iteration - 1) * size) % ordered.length;
  return Array.from({ length: Math.min(size, ordered.length) }, (_, i) => ordered[(start + i) % ordered.length]!);
}

/** The policy's prompt: Gorilla's instruction format, which the answer continues. */
export function apiBenchPrompt(q: Pick<ApiBenchQuestion, 'instruction'>): string {
  return `###Instruction: ${q.instruction}\n###Output: `;
}

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { DATA_DIR } from '../../infra/paths';
import { loadMbpp, mbppTests } from '../datasets/mbpp';
import type { ProgramSpec } from './types';
import { CHECK_DATASETS, type CheckDataset } from '../../common/datasets';
import { humanEvalTests } from '../datasets/registry';

/**
 * The reference (gold) solutions of the code datasets, as sandbox programs, joined with their
 * tests the way each benchmark's own harness does:
 *  - MBPP: code, then test_setup_code and the asserts;
 *  - HumanEval: prompt + canonical_solution, then the test's check(entry_point);
 *  - MBJP (MBXP Java): prompt + canonical_solution + test in one Main.java.
 */
export { CHECK_DATASETS, type CheckDataset };

export interface ReferenceProgram {
  taskId: string;
  spec: ProgramSpec;
}

export interface ReferenceSet {
  programs: ReferenceProgram[];
  /** tasks without a reference solution */
  skipped: string[];
}

function readJsonl<T>(file: string): T[] {
  const raw = fs.readFileSync(file);
  const text = file.endsWith('.gz') ? zlib.gunzipSync(raw).toString('utf8') : raw.toString('utf8');
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as T);
}

interface HumanEvalRecord {
  task_id: string;
  prompt: string;
  canonical_solution: string;
  test: string;
  entry_point: string;
}

interface MbxpRecord {
  task_id: string;
  prompt: string;
  canonical_solution?: string | null;
  test: string;
}

export function humanEvalProgram(r: Pick<HumanEvalRecord, 'prompt' | 'test' | 'entry_point'>, completion: string): ProgramSpec {
  return { language: 'python', program: r.prompt + completion, tests: humanEvalTests(r) };
}

export function mbjpProgram(r: Pick<MbxpRecord, 'prompt' | 'test'>, completion: string): ProgramSpec {
  return { language: 'java', program: r.prompt + completion, tests: r.test };
}

export function referencePrograms(dataset: CheckDataset, dataDir = DATA_DIR): ReferenceSet {
  switch (dataset) {
    case 'mbpp':
      return {
        programs: loadMbpp(path.join(dataDir, 'mbpp', 'mbpp.jsonl')).map((t) => ({
          taskId: String(t.taskId),
          spec: { language: 'python', program: t.code, tests: mbppTests(t) },
        })),
        skipped: [],
      };
    case 'humaneval':
      return {
        programs: readJsonl<HumanEvalRecord>(path.join(dataDir, 'humaneval', 'HumanEval.jsonl.gz')).map((r) => ({
          taskId: r.task_id,
          spec: humanEvalProgram(r, r.canonical_solution),
        })),
        skipped: [],
      };
    case 'mbjp': {
      const records = readJsonl<MbxpRecord>(path.join(dataDir, 'mbxp', 'mbjp_release_v1.2.jsonl'));
      return {
        programs: records.filter((r) => r.canonical_solution).map((r) => ({ taskId: r.task_id, spec: mbjpProgram(r, r.canonical_solution!) })),
        skipped: records.filter((r) => !r.canonical_solution).map((r) => r.task_id),
      };
    }
  }
}

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATA_DIR } from '../../infra/paths';
import { loadIlfAnnotations } from '../../activities/datasets/ilf';
import { loadMbpp, mbppSplit, mbppTests } from '../../activities/datasets/mbpp';

describe('shipped datasets', () => {
  const sums = fs
    .readFileSync(path.join(DATA_DIR, 'SHA256SUMS'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const [sum, file] = l.split(/\s+/);
      return { sum: sum!, file: file! };
    });

  it('lists every data file and nothing else', () => {
    const listed = new Set(sums.map((s) => path.normalize(s.file)));
    const shipped = fs
      .readdirSync(DATA_DIR, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile() && !['SHA256SUMS', 'NOTICE'].includes(d.name) && !d.name.startsWith('LICENSE'))
      .map((d) => path.relative(DATA_DIR, path.join(d.parentPath, d.name)));
    expect(shipped.sort()).toEqual([...listed].sort());
  });

  it.each(sums)('$file matches its sha256', ({ sum, file }) => {
    const digest = crypto.createHash('sha256').update(fs.readFileSync(path.join(DATA_DIR, file))).digest('hex');
    expect(digest).toBe(sum);
  });

  it('NOTICE names the source and license of every dataset folder', () => {
    const notice = fs.readFileSync(path.join(DATA_DIR, 'NOTICE'), 'utf8');
    for (const dir of ['mbpp/', 'ilf/', 'humaneval/', 'apibench/', 'mbxp/']) expect(notice).toContain(dir);
    for (const license of ['CC-BY-4.0', 'MIT', 'Apache License 2.0']) expect(notice).toContain(license);
  });
});

describe('MBPP and the ILF splits', () => {
  it('has the paper split sizes', () => {
    expect(loadMbpp()).toHaveLength(974);
    expect(mbppSplit('test')).toHaveLength(100);
    expect(mbppSplit('refine')).toHaveLength(200);
    expect(mbppSplit('train')).toHaveLength(664);
  });

  it('builds the test code from setup code and asserts', () => {
    const task = loadMbpp().find((t) => t.taskId === 11)!;
    const tests = mbppTests(task);
    expect(tests.split('\n').filter((l) => l.startsWith('assert'))).toHaveLength(3);
  });

  it('loads the 195 ILF annotations with their recorded programs', () => {
    const ann = loadIlfAnnotations();
    expect(ann).toHaveLength(195);
    expect(new Set(ann.map((a) => a.taskId)).size).toBe(195);
    expect(ann.every((a) => a.modelProgram.length > 0 && a.feedback.length > 0)).toBe(true);
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureTeacher, ensureTeacherAsync, teacherPlan, type TeacherRecipe } from '../../cli/teacher';
import { ensureTrainerPython } from '../../infra/trainer-env';

/**
 * A model made in the background (ensureTeacherAsync) is the same cached model the blocking path
 * finds; stopped, it leaves nothing behind. A real training run, made tiny.
 */
const TINY: Partial<TeacherRecipe> = { roles: ['judge'], languages: ['python'], repeats: 1, steps: 3, layers: 1, hidden: 32, heads: 2, vocab: 400, maxLength: 320, judgeRationale: true };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'feedloop-cached-model-'));

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('a cached model made in the background', () => {
  it('is made once, complete, and then found by the blocking path', async () => {
    ensureTrainerPython();
    const lines: string[] = [];
    const made = await ensureTeacherAsync((l) => lines.push(l), TINY, undefined, dir);
    const key = teacherPlan(TINY).key;
    expect(made).toMatchObject({ made: true, recipeKey: key, modelDir: path.join(dir, `teacher-${key}`) });
    expect(fs.existsSync(path.join(made.onnxDir, 'model.onnx'))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(made.modelDir, 'feedloop-model.json'), 'utf8'))).toMatchObject({ steps: 3, corpusRows: teacherPlan(TINY).rows });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^making the teacher \(\d+ rows: \d+ judge;/);
    expect(ensureTeacher(() => undefined, TINY, dir)).toMatchObject({ made: false, recipeKey: key });
    expect(await ensureTeacherAsync(() => undefined, TINY, undefined, dir)).toMatchObject({ made: false, recipeKey: key });
  }, 180_000);

  it('stopped, fails and leaves neither a model nor its work directory', async () => {
    const recipe = { ...TINY, steps: 400 };
    const stop = new AbortController();
    const making = ensureTeacherAsync(() => undefined, recipe, stop.signal, dir);
    setTimeout(() => stop.abort(), 1500);
    await expect(making).rejects.toThrow(/making the teacher failed/);
    const key = teacherPlan(recipe).key;
    expect(fs.readdirSync(dir).filter((f) => f.startsWith(`teacher-${key}`))).toEqual([]);
  }, 60_000);
});

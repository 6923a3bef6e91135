import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureTrainerPython } from '../../infra/trainer-env';

/**
 * The committed ONNX fixtures must be exactly what scripts/build-tiny-onnx.py builds, so nobody
 * can hand-edit a model or its expected outputs. The build runs on the reference trainer's venv
 * (installed into the tools directory on first use, as test/models/tiny-model.test.ts does): it
 * holds every package scripts/requirements-fixtures.txt pins, so `npm ci && npm run check` needs
 * no Python packages of the machine's own. Never skipped.
 */
const root = path.join(__dirname, '..', '..');
let python: string;
beforeAll(() => {
  python = ensureTrainerPython();
}, 20 * 60_000);

describe('ONNX test fixtures', () => {
  it('need nothing the trainer venv lacks: every pin of scripts/requirements-fixtures.txt is in trainers/reference/requirements.txt', () => {
    const pins = (file: string) => fs.readFileSync(path.join(root, file), 'utf8').split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
    const trainer = new Set(pins('trainers/reference/requirements.txt'));
    expect(pins('scripts/requirements-fixtures.txt').filter((p) => !trainer.has(p))).toEqual([]);
  });

  it('match what scripts/build-tiny-onnx.py builds', () => {
    const run = spawnSync(python, [path.join(root, 'scripts', 'build-tiny-onnx.py'), '--check'], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('ONNX fixtures match the build script');
  });
});

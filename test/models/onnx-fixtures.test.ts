import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The committed ONNX fixtures must be exactly what scripts/build-tiny-onnx.py builds, so nobody
 * can hand-edit a model or its expected outputs. Needs `python3 -m pip install -r
 * scripts/requirements-fixtures.txt` (CI installs it); never skipped.
 */
describe('ONNX test fixtures', () => {
  it('match what scripts/build-tiny-onnx.py builds', () => {
    const root = path.join(__dirname, '..', '..');
    const run = spawnSync('python3', [path.join(root, 'scripts', 'build-tiny-onnx.py'), '--check'], { encoding: 'utf8', timeout: 60_000 });
    const hint = /No module named/.test(run.stderr) ? '\ninstall the build dependencies: python3 -m pip install -r scripts/requirements-fixtures.txt' : '';
    expect(run.status, `${run.stdout}${run.stderr}${hint}`).toBe(0);
    expect(run.stdout).toContain('ONNX fixtures match the build script');
  });
});

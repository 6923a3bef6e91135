import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/paths';

/**
 * The quick tier (vitest.quick.mts) leaves out files by name: a renamed or deleted slow test
 * would silently drop out of the list and back into the quick tier, so every name must exist.
 */
describe('quick tier', () => {
  const config = fs.readFileSync(path.join(PROJECT_ROOT, 'vitest.quick.mts'), 'utf8');
  const slow = [...config.matchAll(/'(test\/[^']+\.test\.ts)'/g)].map((m) => m[1]!);

  it('leaves out only test files that exist, the slowest among them', () => {
    expect(slow).toEqual(expect.arrayContaining(['test/integration/learning-rlcf-ilf.test.ts', 'test/integration/learning-crlhf-rlaif.test.ts']));
    expect(slow.filter((file) => !fs.existsSync(path.join(PROJECT_ROOT, file)))).toEqual([]);
  });

  it('is the npm script named in the README', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['test:quick']).toBe('vitest run --config vitest.quick.mts');
    expect(fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8')).toContain('npm run test:quick');
  });
});

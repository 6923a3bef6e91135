import { afterAll, beforeAll } from 'vitest';
import { createSandboxRunner, type SandboxPoolRunner } from '../../activities/sandbox/sandbox-runner';

/**
 * A warmed-up sandbox pool for the calling test file: made before its tests, closed after them.
 * Used at a file's top level; the returned runner forwards to the pool once it exists.
 */
export function useSandboxRunner(size = 2): SandboxPoolRunner {
  let runner: SandboxPoolRunner | undefined;
  beforeAll(async () => {
    runner = createSandboxRunner({ size });
    await runner.warmUp();
  });
  afterAll(async () => {
    await runner?.close();
  });
  return new Proxy({} as SandboxPoolRunner, {
    get(_target, key) {
      if (!runner) throw new Error('the sandbox runner exists only inside the tests (beforeAll makes it)');
      const value: unknown = Reflect.get(runner, key);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(runner) : value;
    },
  });
}

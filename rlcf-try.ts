import { createSandboxRunner } from './activities/sandbox/sandbox-runner';
import { DEFAULT_LIMITS } from './activities/sandbox/types';
(async () => {
  const r = createSandboxRunner({ size: 1 });
  const res = await r.compileJava('class A { static int f(int x) { return x; } }', DEFAULT_LIMITS);
  console.log(res.outcome, res.diagnostics.slice(0, 3000));
  await r.close();
})();

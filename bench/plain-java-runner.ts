import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Outcome, ProgramSpec, RunResult, SandboxLimits, SandboxRunner } from '../activities/sandbox/types';

/**
 * The Java baseline of `npm run bench:sandbox -- --language java`: MBXP's own procedure, per
 * program a fresh `javac` then a fresh `java -cp DIR Main` in a temporary directory, with a
 * wall-clock limit and NO isolation. Passed = both exit 0 (MBXP's rule, so an early
 * System.exit(0) would pass here: the bench only runs reference solutions that do not).
 * Never use it for generated code.
 */
function exec(argv: string[], cwd: string, wallMs: number): Promise<{ code: number | null; stderr: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let timedOut = false;
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, wallMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, timedOut });
    });
  });
}

export function createPlainJavaRunner(javac = 'javac', java = 'java'): SandboxRunner {
  return {
    async run(spec: ProgramSpec, limits: SandboxLimits): Promise<RunResult> {
      if (spec.language !== 'java') throw new Error(`the plain Java runner runs Java only, not ${spec.language}`);
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'feedloop-plain-java-'));
      const started = performance.now();
      try {
        await fs.writeFile(path.join(dir, 'Main.java'), `${spec.program}\n${spec.tests}\n`);
        const compiled = await exec([javac, '-proc:none', '-encoding', 'UTF-8', '-nowarn', '-d', 'classes', 'Main.java'], dir, limits.wallMs);
        const compileMs = performance.now() - started;
        let outcome: Outcome;
        let stderr = compiled.stderr;
        if (compiled.timedOut) outcome = 'timeout';
        else if (compiled.code !== 0) outcome = 'compile_error';
        else {
          const ran = await exec([java, `-Xmx${limits.memoryMb}m`, '-cp', 'classes', 'Main'], dir, limits.wallMs);
          stderr = ran.stderr;
          outcome = ran.timedOut ? 'timeout' : ran.code === 0 ? 'passed' : /^Exception in thread "main" java\.lang\.Exception\b/m.test(ran.stderr) ? 'failed' : 'runtime_error';
        }
        return { outcome, durationMs: performance.now() - started, compileMs, stdout: '', stderr, limits };
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    },
    async close() {},
  };
}

import fs from 'node:fs';
import { DEFAULT_LIMITS, type ProgramSpec, type SandboxLimits } from '../../../activities/sandbox/types';

/** Short limits so hostile programs hit them quickly. */
export const SHORT_LIMITS: SandboxLimits = { ...DEFAULT_LIMITS, cpuMs: 1000, wallMs: 2500, memoryMb: 256 };

/** A short CPU limit under a wide wall-clock net: the CPU limit decides even on a loaded machine. */
export const CPU_LIMITS: SandboxLimits = { ...DEFAULT_LIMITS, cpuMs: 1000, wallMs: 30_000, memoryMb: 256 };

export function python(program: string, tests = ''): ProgramSpec {
  return { language: 'python', program, tests };
}

export function java(program: string, tests: string): ProgramSpec {
  return { language: 'java', program, tests };
}

/** Host processes whose name (/proc/PID/comm) is `marker`: a program renames what it wants found. */
export function processesNamed(marker: string): number[] {
  const found: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // A killed process not yet reaped (a zombie, state Z) runs nothing and holds no resources.
      const zombie = fs.readFileSync(`/proc/${name}/stat`, 'utf8').split(') ').at(-1)?.startsWith('Z');
      if (fs.readFileSync(`/proc/${name}/comm`, 'utf8').trim() === marker && !zombie) found.push(Number(name));
    } catch {
      /* exited meanwhile */
    }
  }
  return found;
}

/** Python snippet: renames the current process so the test can look for it from the host. */
export function renameSelf(marker: string): string {
  return `open('/proc/self/comm', 'w').write(${JSON.stringify(marker)})`;
}

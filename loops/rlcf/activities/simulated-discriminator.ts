import { SeededRandom } from '../../../activities/simulation/seeded-random';

/**
 * RLCF's SIMULATED discriminator (kind `simulated`), for dry runs and fast tests: no model, a
 * seeded function of how far the program is from the reference. P(Yes) falls with every line
 * the two do not share (0.9 for a copy of the reference, x0.6 per differing line), plus seeded
 * noise; so it favours programs close to the reference and, like a real discriminator, cannot
 * tell a harmless extra line from a wrong one. A fixed share of programs (`unscorableShare`,
 * keyed by seed, task and program) gets no readable answer, as a real judge sometimes does: the
 * loop must record those UNSCORABLE, never 0. Every verdict says it is simulated.
 */
export interface SimulatedDiscriminatorSpec {
  seed: number;
  unscorableShare: number;
}

export interface SimulatedVerdict {
  pYes: number | null;
  method: 'simulated' | null;
  text: string;
  problem?: string;
  simulated: true;
}

function lineBag(program: string): Map<string, number> {
  const bag = new Map<string, number>();
  for (const line of program.split('\n').map((l) => l.trim()).filter(Boolean)) bag.set(line, (bag.get(line) ?? 0) + 1);
  return bag;
}

/** Lines in one program and not the other (as multisets, whitespace-trimmed). */
export function differingLines(a: string, b: string): number {
  const A = lineBag(a);
  const B = lineBag(b);
  let diff = 0;
  for (const key of new Set([...A.keys(), ...B.keys()])) diff += Math.abs((A.get(key) ?? 0) - (B.get(key) ?? 0));
  return diff;
}

export function simulatedDiscriminate(spec: SimulatedDiscriminatorSpec, taskId: string, program: string, reference: string): SimulatedVerdict {
  const rng = new SeededRandom('simulated-discriminator', spec.seed, taskId, program);
  if (rng.next() < spec.unscorableShare) {
    return { pYes: null, method: null, text: 'SIMULATED: no yes/no answer', problem: 'the answer is neither yes nor no (SIMULATED)', simulated: true };
  }
  const base = 0.9 * 0.6 ** differingLines(program, reference);
  const pYes = Math.min(0.99, Math.max(0.01, base + (rng.next() - 0.5) * 0.1));
  return { pYes, method: 'simulated', text: `SIMULATED P(Yes) ${pYes.toFixed(3)}`, simulated: true };
}

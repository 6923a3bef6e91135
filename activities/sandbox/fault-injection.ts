/**
 * Test hook: makes a seeded share of sandbox spawns fail the way real infrastructure does,
 * alternating between a failed fork and a crash of the whole fork-server. Outcomes must not
 * change: such runs come back as infra_error and are retried, never scored.
 */
export interface FaultInjection {
  /** share of spawns that fail, 0..1 */
  rate: number;
  seed: number;
}

export type InjectedFault = 'fork_failed' | 'server_crash';

/** mulberry32: small, fast, and the same sequence on every machine for a given seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function createFaultInjector(faults: FaultInjection | undefined): () => InjectedFault | undefined {
  if (!faults || faults.rate <= 0) return () => undefined;
  const random = seededRandom(faults.seed);
  return () => {
    if (random() >= faults.rate) return undefined;
    return random() < 0.5 ? 'fork_failed' : 'server_crash';
  };
}

import { SeededRandom } from '../simulation/seeded-random';

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

export function createFaultInjector(faults: FaultInjection | undefined): () => InjectedFault | undefined {
  if (!faults || faults.rate <= 0) return () => undefined;
  const rng = new SeededRandom('sandbox-faults', faults.seed);
  const random = () => rng.next();
  return () => {
    if (random() >= faults.rate) return undefined;
    return random() < 0.5 ? 'fork_failed' : 'server_crash';
  };
}

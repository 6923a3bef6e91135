import { ConfigError } from '../common/config-error';
import type { LoopDefinition } from './definition';
import { crlhfLoop } from './crlhf/index';
import { ilfLoop } from './ilf/index';
import { rlaifLoop } from './rlaif/index';
import { rlcfLoop } from './rlcf/index';

/**
 * Every loop feedloop runs, by name (the config's `algorithm`). Adding a loop is adding its
 * folder (loops/<name>/, its own activities included), one line here and one in
 * workflows/index.ts (the workflow bundle): the CLI, the config loader, the workers
 * (workers/cpu-activities.ts, gpu-activities.ts), the audit, the report and the chaos harness
 * take it from this list.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each loop has its own config and audit types
export const LOOPS: readonly LoopDefinition<any, any>[] = [ilfLoop, rlaifLoop, rlcfLoop, crlhfLoop];

export const LOOP_NAMES = LOOPS.map((l) => l.name);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see LOOPS
export function findLoop(name: unknown): LoopDefinition<any, any> | undefined {
  return LOOPS.find((l) => l.name === name);
}

/** The loop a config or a stored campaign names; an unknown one is a ConfigError listing the loops. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see LOOPS
export function loopNamed(name: unknown, where = ''): LoopDefinition<any, any> {
  const loop = findLoop(name);
  if (!loop) {
    throw new ConfigError(`invalid campaign config${where ? ` ${where}` : ''}: algorithm: must be one of ${LOOP_NAMES.map((a) => `"${a}"`).join(', ')}, got ${JSON.stringify(name ?? null)}`);
  }
  return loop;
}

import type { z } from 'zod';

/** A user's mistake in a config, flag or file: the CLI prints its message as one line and exits 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Formats zod issues as "FIELD: message" lines; shared by env, flag and campaign validation. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): string {
  return issues
    .map((i) => `  ${prefix}${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('\n');
}

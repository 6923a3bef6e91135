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

/** "models.policy.timeoutMs: Too small..." - one line per issue, each naming the full field path. */
export function formatConfigIssues(issues: readonly z.core.$ZodIssue[], base: string): string {
  return issues
    .map((issue) => {
      const segments = [base, ...issue.path.map(String)].filter(Boolean);
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((key) => `  ${[...segments, key].join('.')}: unknown field`).join('\n');
      }
      return `  ${segments.join('.') || '(root)'}: ${issue.message}`;
    })
    .join('\n');
}

/**
 * A ConfigError for failed validation: one line when one field is wrong
 * ("invalid campaign config c.yaml: sampling.eval.ks: pass@10 needs sampling.eval.n >= 10"),
 * else a line per field under the title.
 */
export function configIssuesError(title: string, issues: readonly z.core.$ZodIssue[], base = ''): ConfigError {
  const lines = formatConfigIssues(issues, base).split('\n');
  return new ConfigError(lines.length === 1 ? `${title}: ${lines[0]!.trim()}` : `${title}:\n${lines.join('\n')}`);
}

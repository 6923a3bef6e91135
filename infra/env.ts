import path from 'node:path';
import { z } from 'zod';
import { ConfigError, describeIssues } from '../common/config-error';
import { PROJECT_ROOT } from './paths';

/**
 * Process configuration from the environment, validated once. Every error names the variable,
 * so a typo in a deployment manifest fails at start-up instead of mid-campaign.
 */
const port = z.coerce.number().int().min(1).max(65535);

const envSchema = z.object({
  FEEDLOOP_HOME: z.string().min(1).default(path.join(PROJECT_ROOT, '.feedloop')),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^:\s]+:\d+$/, 'must be host:port, e.g. 127.0.0.1:7233')
    .default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  FEEDLOOP_TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_CLI: z.string().min(1).optional(),
  /** which local Temporal `dev up` and the test suite start: the dev server, or the multi-service server on PostgreSQL */
  FEEDLOOP_TEMPORAL: z.enum(['dev', 'cluster']).default('dev'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  FEEDLOOP_PG_PORT: port.default(5433),
  FEEDLOOP_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export type FeedloopEnv = z.infer<typeof envSchema>;



export function readEnv(env: NodeJS.ProcessEnv = process.env): FeedloopEnv {
  // Empty strings count as unset: `DATABASE_URL= npm run demo` should mean "embedded".
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(`invalid environment:\n${describeIssues(parsed.error.issues)}`);
  }
  return parsed.data;
}

/** The state directory layout. Everything a restart must keep lives here. */
export function statePaths(home: string) {
  return {
    home,
    tools: path.join(home, 'tools'),
    logs: path.join(home, 'logs'),
    run: path.join(home, 'run'),
    temporalDb: path.join(home, 'temporal', 'temporal.db'),
    postgresData: path.join(home, 'postgres', 'data'),
    blobs: path.join(home, 'blobs'),
    /** `feedloop report` and the demo write their HTML reports here */
    reports: path.join(home, 'reports'),
  };
}
export type StatePaths = ReturnType<typeof statePaths>;

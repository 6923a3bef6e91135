import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { inject } from 'vitest';
import pg from 'pg';
import { parse } from 'yaml';
import fs from 'node:fs';
import { parseIlfCampaignConfig, type IlfCampaignConfig } from '../../loops/ilf/config';
import { PROJECT_ROOT } from '../../infra/paths';
import type { uniqueQueues } from '../helpers/temporal';

/** Loads an example config, applies overrides and routes it to this test file's queues. */
export function exampleConfig(name: string, queues: ReturnType<typeof uniqueQueues>, overrides: Record<string, unknown> = {}): IlfCampaignConfig {
  const raw = parse(fs.readFileSync(path.join(PROJECT_ROOT, 'examples', name), 'utf8')) as Record<string, unknown>;
  return parseIlfCampaignConfig({ ...raw, ...overrides, taskQueues: queues });
}

export const campaignId = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

export async function query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: inject('databaseUrl') });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

import { describe, expect, it } from 'vitest';
import { readEnv } from '../../infra/env';
import { ConfigError } from '../../common/config-error';
import { resolveWorkerOptions } from '../../workers/options';

describe('configuration validation', () => {
  it('defaults to the embedded servers on loopback', () => {
    const env = readEnv({});
    expect(env.TEMPORAL_ADDRESS).toBe('127.0.0.1:7233');
    expect(env.DATABASE_URL).toBeUndefined();
    const opts = resolveWorkerOptions({}, { FEEDLOOP_GPUS: '2' });
    expect(opts.gpus).toBe(2);
    expect(opts.databaseUrl).toMatch(/^postgresql:\/\/feedloop:.*@127\.0\.0\.1:5433\/feedloop$/);
  });

  it('names every bad environment variable', () => {
    expect(() => readEnv({ TEMPORAL_ADDRESS: 'nope', FEEDLOOP_PG_PORT: '70000', DATABASE_URL: 'mysql://x' })).toThrow(ConfigError);
    try {
      readEnv({ TEMPORAL_ADDRESS: 'nope', FEEDLOOP_PG_PORT: '70000', DATABASE_URL: 'mysql://x' });
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toMatch(/TEMPORAL_ADDRESS: must be host:port/);
      expect(message).toMatch(/FEEDLOOP_PG_PORT:/);
      expect(message).toMatch(/DATABASE_URL: must be a postgres/);
    }
  });

  it('names the flag of a bad worker option', () => {
    expect(() => resolveWorkerOptions({ gpus: '0', sandboxConcurrency: 'many' }, {})).toThrow(/--sandbox-concurrency[^\n]*expected number[\s\S]*--gpus \/ FEEDLOOP_GPUS: Too small/);
  });

  it('treats an empty DATABASE_URL as unset', () => {
    expect(readEnv({ DATABASE_URL: '' }).DATABASE_URL).toBeUndefined();
  });
});

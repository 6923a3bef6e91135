import fs from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { closedPort } from '../helpers/ports';
import { PROJECT_ROOT } from '../../infra/paths';
import { tempDir } from '../helpers/temp-dir';
import { expectOneLineError, feedloop } from '../helpers/cli';

/**
 * The CLI as a user meets it: a user error is one line on stderr and a non-zero exit, never a
 * stack trace; `campaign validate` checks a config without contacting anything, and `campaign
 * start` validates before it connects.
 */
describe('feedloop campaign: user errors', () => {
  const dryRun = parse(fs.readFileSync(path.join(PROJECT_ROOT, 'examples', 'ilf-dry-run.yaml'), 'utf8')) as Record<string, unknown>;

  it('validate accepts every example config, offline', async () => {
    for (const file of fs.readdirSync(path.join(PROJECT_ROOT, 'examples')).filter((f) => /\.ya?ml$/.test(f))) {
      const r = await feedloop(['campaign', 'validate', '--config', path.join('examples', file)], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
      expect(r.code, `${file}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/valid .* campaign, \d+ iteration/);
    }
  });

  it('a missing config file is one line naming it', async () => {
    expectOneLineError(await feedloop(['campaign', 'validate', '--config', 'no/such/campaign.yaml']), /^feedloop: no\/such\/campaign\.yaml: no such file$/);
    expectOneLineError(await feedloop(['campaign', 'start', '--config', 'no/such/campaign.yaml', '--id', 'x']), /no such file/);
  });

  it('pass@k with k above the samples drawn is rejected with the field named, before any server is contacted', async () => {
    const file = path.join(tempDir('cli-config'), 'ks.yaml');
    fs.writeFileSync(file, stringify({ ...dryRun, sampling: { train: { n: 2 }, eval: { n: 5, ks: [10] } } }));
    expectOneLineError(await feedloop(['campaign', 'validate', '--config', file]), /sampling\.eval\.ks: pass@10 needs sampling\.eval\.n >= 10/);
    // start validates first: the unreachable server is never the error
    expectOneLineError(await feedloop(['campaign', 'start', '--config', file, '--id', 'x'], { TEMPORAL_ADDRESS: '127.0.0.1:1' }), /sampling\.eval\.ks/);
  });

  it('an unknown algorithm names the loops there are', async () => {
    const file = path.join(tempDir('cli-config'), 'algo.yaml');
    fs.writeFileSync(file, stringify({ ...dryRun, algorithm: 'dpo' }));
    expectOneLineError(await feedloop(['campaign', 'validate', '--config', file]), /algorithm: must be one of "ilf", "rlaif"/);
  });

  it('a stopped server is one line saying how to start one', async () => {
    const address = `127.0.0.1:${await closedPort()}`;
    const r = await feedloop(['campaign', 'start', '--config', 'examples/ilf-dry-run.yaml', '--id', 'x'], { TEMPORAL_ADDRESS: address });
    expectOneLineError(r, new RegExp(`cannot reach the Temporal server at ${address}.*npx feedloop dev up.*TEMPORAL_ADDRESS`));
    expectOneLineError(await feedloop(['campaign', 'status', 'x'], { TEMPORAL_ADDRESS: address }), /cannot reach the Temporal server/);
  });
});

import { execFileSync } from 'node:child_process';
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

  it('files that no retry would bring are caught offline, one line naming the field and the file, exit 2: a trainer script, a model directory with no model, a dataset file', async () => {
    const d = tempDir('cli-files');
    const rlaif = parse(fs.readFileSync(path.join(PROJECT_ROOT, 'examples', 'rlaif-dry-run.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
    const emptyModel = path.join(d, 'empty-model');
    fs.mkdirSync(emptyModel);
    const cases: Array<[string, unknown, RegExp]> = [
      ['script', { ...rlaif, trainer: { ...rlaif.trainer, command: ['node', path.join(d, 'no-such-trainer.mjs')] } }, /script\.yaml: trainer\.command: the trainer script \S+no-such-trainer\.mjs does not exist \(node /],
      ['model', { ...rlaif, policyUpdate: { ...rlaif.policyUpdate, baseModel: emptyModel } }, /model\.yaml: policyUpdate\.baseModel: the model directory \S+empty-model holds no model /],
      ['onnx', { ...dryRun, trainer: { kind: 'none' }, models: { ...(dryRun.models as object), policy: { backend: 'onnx', task: 'causal-lm', modelDir: emptyModel } } }, /onnx\.yaml: models\.policy\.modelDir: the model directory \S+empty-model holds no model\.onnx$/],
      ['dataset', { ...dryRun, dataset: { file: { path: 'gone.jsonl', splits: { train: 0.5, test: 0.5 } } } }, /dataset\.yaml: dataset\.file: cannot use \S+gone\.jsonl: no such file$/],
    ];
    for (const [name, config, message] of cases) {
      const file = path.join(d, `${name}.yaml`);
      fs.writeFileSync(file, stringify(config));
      const r = await feedloop(['campaign', 'validate', '--config', file]);
      expect(r.code, r.stderr).toBe(2);
      expectOneLineError(r, message);
    }
  });

  it('overlapping train and test splits are one line naming both fields', async () => {
    const file = path.join(tempDir('cli-config'), 'splits.yaml');
    fs.writeFileSync(file, stringify({ ...dryRun, dataset: { splits: { train: [1, 974], test: [11, 110] } } }));
    expectOneLineError(await feedloop(['campaign', 'validate', '--config', file]), /dataset\.splits\.train: \[1, 974\] overlaps dataset\.splits\.test \[11, 110\]: train and test must be disjoint$/);
  });

  it('an unknown algorithm names the loops there are', async () => {
    const file = path.join(tempDir('cli-config'), 'algo.yaml');
    fs.writeFileSync(file, stringify({ ...dryRun, algorithm: 'dpo' }));
    expectOneLineError(await feedloop(['campaign', 'validate', '--config', file]), /algorithm: must be one of "ilf", "rlaif"/);
  });

  it('an empty config file says so, and a YAML error names the broken line, not the one after', async () => {
    const d = tempDir('cli-config');
    const empty = path.join(d, 'empty.yaml');
    fs.writeFileSync(empty, '');
    expectOneLineError(await feedloop(['campaign', 'validate', '--config', empty]), /empty\.yaml: empty: a campaign config needs at least an algorithm, see examples\/$/);
    const cases: Array<[string, number]> = [
      ['algorithm: ilf\nmodels: [a, b\niterations: 3\n', 2], // a bracket left open
      ['algorithm: ilf\nbad: "x\niterations: 3\n', 2], // a quote left open
      ['algorithm: ilf\nfoo: bar: baz\niterations: 3\n', 2],
    ];
    for (const [i, [text, line]] of cases.entries()) {
      const file = path.join(d, `broken-${i}.yaml`);
      fs.writeFileSync(file, text);
      const r = await feedloop(['campaign', 'validate', '--config', file]);
      expect(r.code).toBe(2);
      expectOneLineError(r, new RegExp(`broken-${i}\\.yaml: not valid YAML at line ${line}: `));
    }
  });

  it('FEEDLOOP_HOME moves the tools directory too, unless FEEDLOOP_TOOLS_DIR names one; the default stays .feedloop/tools', () => {
    const toolsDir = (env: Record<string, string>) => {
      const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'FEEDLOOP_HOME' && k !== 'FEEDLOOP_TOOLS_DIR'));
      return execFileSync(process.execPath, ['--import', 'tsx', '-e', "process.stdout.write(require('./infra/temporal').TOOLS_DIR)"], { cwd: PROJECT_ROOT, env: { ...clean, ...env }, encoding: 'utf8' });
    };
    expect(toolsDir({})).toBe(path.join(PROJECT_ROOT, '.feedloop', 'tools'));
    expect(toolsDir({ FEEDLOOP_HOME: '/srv/feedloop' })).toBe('/srv/feedloop/tools');
    expect(toolsDir({ FEEDLOOP_HOME: '/srv/feedloop', FEEDLOOP_TOOLS_DIR: '/opt/tools' })).toBe('/opt/tools');
    // The shell scripts resolve it the same way.
    for (const script of ['scripts/uv-env.sh', 'scripts/install-temporal-server.sh']) {
      expect(fs.readFileSync(path.join(PROJECT_ROOT, script), 'utf8')).toContain('TOOLS="${FEEDLOOP_TOOLS_DIR:-${FEEDLOOP_HOME:-$ROOT/.feedloop}/tools}"');
    }
  });

  it('a stopped server is one line saying how to start one', async () => {
    const address = `127.0.0.1:${await closedPort()}`;
    const r = await feedloop(['campaign', 'start', '--config', 'examples/ilf-dry-run.yaml', '--id', 'x'], { TEMPORAL_ADDRESS: address });
    expectOneLineError(r, new RegExp(`cannot reach the Temporal server at ${address}.*npx feedloop dev up.*TEMPORAL_ADDRESS`));
    expectOneLineError(await feedloop(['campaign', 'status', 'x'], { TEMPORAL_ADDRESS: address }), /cannot reach the Temporal server/);
  });
});

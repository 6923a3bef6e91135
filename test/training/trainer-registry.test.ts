import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createTrainingActivities, TRAINING_FAILURE } from '../../activities/training';
import { loadTrainerRegistry } from '../../activities/training/trainer-registry';
import { ConfigError } from '../../common/config-error';
import { PROJECT_ROOT } from '../../infra/paths';
import { loadCampaignConfig } from '../../loops/config-file';
import { activityEnv, readLedger, rejectionOf, SIMULATED_TRAINER, simulatedJob, tempDir } from './helpers';

/**
 * A shared deployment: GPU workers run only the trainers their operator registered, by name.
 * The real simulated protocol trainer runs under the registry's argv and env; an unknown name,
 * an inline command or a kind the entry does not allow is refused non-retryably, and
 * `campaign validate` refuses the campaign before anything runs.
 */
function registryFile(dir: string, trainers: Record<string, unknown>): string {
  const file = path.join(dir, 'trainers.yaml');
  fs.writeFileSync(file, stringify({ trainers }));
  return file;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli', 'main.ts'), ...args], { cwd: PROJECT_ROOT, env: { ...process.env, FEEDLOOP_TRAINERS: '', ...env }, encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('trainer registry on the worker', () => {
  const dir = tempDir('trainers');
  // the registry's env reaches the trainer (the simulated one records none of it; a wrapper shell shows it)
  const file = registryFile(dir, {
    simulated: { argv: ['/bin/sh', '-c', `echo "$MARK" > "${path.join(dir, 'mark')}"; exec "${process.execPath}" "${SIMULATED_TRAINER}" "$0"`], env: { MARK: 'from-registry' }, kinds: ['sft'] },
    rm: { argv: [process.execPath, SIMULATED_TRAINER], kinds: ['reward_model'] },
  });
  const activities = createTrainingActivities({ workerTaskQueue: 'gpu-a', heartbeatIntervalMs: 100, registry: loadTrainerRegistry(file) });

  it('runs a registered trainer by name, with the argv and env of its entry, not the job\'s', async () => {
    const root = tempDir('named');
    const job = simulatedJob(root, { totalSteps: 4, checkpointEvery: 2 }, { argv: undefined, name: 'simulated', env: { MARK: 'from-campaign' } });
    const result = await activityEnv().run(activities.runTrainingJob, job);
    expect(result.steps).toBe(4);
    expect(readLedger(job.outputDir)).toHaveLength(4);
    expect(fs.readFileSync(path.join(dir, 'mark'), 'utf8').trim()).toBe('from-registry');
  });

  it('refuses, non-retryably, an unknown name, an inline command and a kind the entry does not allow', async () => {
    const cases: Array<[{ argv?: string[]; name?: string }, 'sft', RegExp]> = [
      [{ argv: undefined, name: 'nope' }, 'sft', /unknown trainer "nope".*rm, simulated/],
      [{ argv: ['/bin/sh', '-c', 'touch /tmp/pwned'] }, 'sft', /runs only registered trainers.*name one of rm, simulated/],
      [{ argv: undefined, name: 'rm' }, 'sft', /trainer "rm" may run reward_model jobs, not sft/],
    ];
    for (const [trainer, kind, message] of cases) {
      const root = tempDir('refused');
      const job = { ...simulatedJob(root, {}, trainer), kind };
      const err = await rejectionOf(activityEnv().run(activities.runTrainingJob, job));
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect(err).toMatchObject({ type: TRAINING_FAILURE.unregisteredTrainer, nonRetryable: true });
      expect((err as Error).message).toMatch(message);
      expect(fs.existsSync(job.outputDir)).toBe(false);
    }
  });

  it('without a registry, a name is refused and a command runs as before', async () => {
    const open = createTrainingActivities({ heartbeatIntervalMs: 100 });
    const err = await rejectionOf(activityEnv().run(open.runTrainingJob, simulatedJob(tempDir('noreg'), {}, { argv: undefined, name: 'simulated' })));
    expect((err as Error).message).toMatch(/no trainers file/);
    expect((await activityEnv().run(open.runTrainingJob, simulatedJob(tempDir('noreg2'), { totalSteps: 2, checkpointEvery: 1 }))).steps).toBe(2);
  });

  it('a bad trainers file is one message naming the field', () => {
    const bad = registryFile(tempDir('bad'), { x: { argv: [], kinds: ['sft'] } });
    expect(() => loadTrainerRegistry(bad)).toThrow(ConfigError);
    expect(() => loadTrainerRegistry(bad)).toThrow(/trainers\.x\.argv/);
  });
});

describe('campaign validate with the trainers file', () => {
  const dir = tempDir('validate');
  const file = registryFile(dir, { simulated: { argv: ['node', 'trainers/simulated/trainer.mjs'], kinds: ['reward_model', 'policy_update'] } });
  const example = fs.readFileSync(path.join(PROJECT_ROOT, 'examples', 'rlaif-dry-run.yaml'), 'utf8');
  const named = (name: string) => {
    const f = path.join(dir, `${name}.yaml`);
    fs.writeFileSync(f, example.replace('  command: [node, trainers/simulated/trainer.mjs]', `  name: ${name}`));
    return f;
  };

  it('accepts a registered name, refuses an unknown one and an inline command, in one line each, exit 2', () => {
    expect(cli(['campaign', 'validate', '--config', named('simulated'), '--trainers', file]).code).toBe(0);
    const unknown = cli(['campaign', 'validate', '--config', named('other')], { FEEDLOOP_TRAINERS: file });
    expect(unknown.code).toBe(2);
    expect(unknown.out).toMatch(/trainer: unknown trainer "other": the trainers registered in .* are simulated/);
    const inline = cli(['campaign', 'validate', '--config', 'examples/rlaif-dry-run.yaml', '--trainers', file]);
    expect(inline.code).toBe(2);
    expect(inline.out).toContain('trainer: this deployment runs only registered trainers');
    expect(inline.out).not.toMatch(/\n\s+at /);
    // no trainers file visible: the example's command form stays valid (backward compatible; the
    // CLI's validate of every example is test/unit/cli-errors.test.ts), and exactly one form is allowed
    expect(() => loadCampaignConfig(path.join(PROJECT_ROOT, 'examples', 'rlaif-dry-run.yaml'))).not.toThrow();
    const both = path.join(dir, 'both.yaml');
    fs.writeFileSync(both, example.replace('  command: [node, trainers/simulated/trainer.mjs]', '  command: [node, x.mjs]\n  name: simulated'));
    expect(() => loadCampaignConfig(both)).toThrow(/exactly one of command \(argv\) or name/);
  });
});

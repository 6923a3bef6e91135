import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, describe, expect, it } from 'vitest';
import { createTrainingActivities, TRAINING_FAILURE } from '../../activities/training';
import { parseTrainerLine } from '../../activities/training/protocol';
import { activityEnv, rejectionOf, tempDir } from './helpers';

/** The done event's optional `export` (trainers/PROTOCOL.md): parsed, returned as exportPath, checked on disk. */
const roots: string[] = [];
afterAll(() => roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true })));

describe('trainer protocol: the export of the final model', () => {
  it('a done event parses with or without export; an empty export is invalid', () => {
    expect(parseTrainerLine('{"event":"done","modelPath":"final","step":3}')).toMatchObject({ kind: 'event', event: { event: 'done', modelPath: 'final' } });
    const withExport = parseTrainerLine('{"event":"done","modelPath":"final","export":"final/onnx"}');
    expect(withExport).toMatchObject({ kind: 'event', event: { export: 'final/onnx' } });
    expect(parseTrainerLine('{"event":"done","modelPath":"final","export":""}')).toMatchObject({ kind: 'invalid' });
  });

  /** A one-step trainer in plain Node that writes final/ and, if asked, final/onnx/, then reports them. */
  function job(name: string, writeExport: boolean) {
    const root = tempDir(`export-${name}`);
    roots.push(root);
    const script = path.join(root, 'trainer.mjs');
    fs.writeFileSync(
      script,
      `import fs from 'node:fs';
const spec = JSON.parse(fs.readFileSync(process.env.FEEDLOOP_JOB_SPEC, 'utf8'));
fs.mkdirSync(spec.outputDir + '/final', { recursive: true });
if (${writeExport}) fs.mkdirSync(spec.outputDir + '/final/onnx');
console.log(JSON.stringify({ event: 'progress', step: 1, totalSteps: 1 }));
console.log(JSON.stringify({ event: 'done', modelPath: 'final', step: 1, export: 'final/onnx' }));
`,
    );
    const datasetPath = path.join(root, 'train.jsonl');
    fs.writeFileSync(datasetPath, '{"prompt":"a","completion":"b"}\n');
    return {
      jobId: `export-${name}`,
      kind: 'sft' as const,
      baseModel: 'tiny',
      datasetPath,
      outputDir: path.join(root, 'out'),
      hyperparameters: {},
      trainer: { type: 'command' as const, argv: [process.execPath, script], cancelGraceMs: 1000, lockWaitMs: 0 },
    };
  }
  const activities = createTrainingActivities({ heartbeatIntervalMs: 100 });

  it('the activity returns the export as exportPath, also from the stored result of a finished job', async () => {
    const j = job('ok', true);
    const result = await activityEnv().run(activities.runTrainingJob, j);
    expect(result.exportPath).toBe(path.join(j.outputDir, 'final', 'onnx'));
    const again = await activityEnv({ attempt: 2 }).run(activities.runTrainingJob, j);
    expect(again.exportPath).toBe(result.exportPath);
  });

  it('an export that is not on disk is a retryable protocol failure', async () => {
    const err = await rejectionOf(activityEnv().run(activities.runTrainingJob, job('missing', false)));
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: TRAINING_FAILURE.protocol, nonRetryable: false });
    expect((err as Error).message).toContain('final/onnx, which does not exist');
  });
});

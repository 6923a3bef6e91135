import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkpointOfExport, policyAfterTraining } from '../../activities/training/policy-after-training';
import { tempDir } from '../helpers/temp-dir';

/**
 * The loop closes for local models: after a job, an `onnx` policy samples the ONNX export the
 * trainer wrote, and the next job trains on the checkpoint that export came from.
 */
describe('the next policy after training', () => {
  const onnx = { backend: 'onnx' as const, task: 'causal-lm' as const, modelDir: '/models/tiny/onnx', modelFile: 'model.onnx', executionProvider: 'cpu' as const, deviceId: 0 };

  it('an onnx policy becomes the export, when the trainer wrote one', () => {
    const next = policyAfterTraining(onnx as never, 'c/iteration-1/sft', '/blobs/c/iteration-1/sft/final', 40, 12, '/blobs/c/iteration-1/sft/final/onnx');
    expect(next).toMatchObject({ backend: 'onnx', modelDir: '/blobs/c/iteration-1/sft/final/onnx' });
    // Without an export (an older trainer), the model path itself.
    expect(policyAfterTraining(onnx as never, 'j', '/m', 1, 1)).toMatchObject({ modelDir: '/m' });
  });

  it('the next job starts from the checkpoint an export lives in', () => {
    const final = path.join(tempDir('export'), 'final');
    fs.mkdirSync(path.join(final, 'onnx'), { recursive: true });
    expect(checkpointOfExport(path.join(final, 'onnx'))).toBe(path.join(final, 'onnx')); // no HF config beside it yet
    fs.writeFileSync(path.join(final, 'config.json'), '{}');
    expect(checkpointOfExport(path.join(final, 'onnx'))).toBe(final);
    expect(checkpointOfExport(final)).toBe(final);
  });
});

import { existsSync } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { PolicyBackend } from '../../common/campaign-schema';

/**
 * The policy the next iteration samples: what the job trained. An `onnx` policy is the ONNX export
 * the trainer wrote (`exportPath`, e.g. final/onnx/ inside the checkpoint), not the checkpoint.
 */
export function policyAfterTraining(policy: PolicyBackend, jobId: string, modelPath: string, steps: number, examples: number, exportPath?: string): PolicyBackend {
  switch (policy.backend) {
    case 'onnx':
      return { ...policy, modelDir: exportPath ?? modelPath };
    case 'openai':
      // vLLM serves the new LoRA adapter by name once loaded from its path: no server restart.
      return { ...policy, adapter: { name: jobId.replace(/[^A-Za-z0-9._-]/g, '-'), path: modelPath } };
    case 'simulated':
      return { ...policy, model: modelPath, trained: { steps: policy.trained.steps + steps, examples: policy.trained.examples + examples } };
    case 'replay':
      throw ApplicationFailure.nonRetryable('a replay policy serves recorded programs and cannot be trained: use trainer.kind "none"', 'InvalidConfig');
  }
}

/**
 * The trainable checkpoint behind an `onnx` policy: a reference-trainer export lives in the
 * checkpoint it was made from (`<checkpoint>/onnx/`, with a Hugging Face config beside it); any
 * other ONNX directory is its own base.
 */
export function checkpointOfExport(modelDir: string): string {
  const parent = path.dirname(modelDir);
  return path.basename(modelDir) === 'onnx' && existsSync(path.join(parent, 'config.json')) ? parent : modelDir;
}

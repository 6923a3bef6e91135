/**
 * Scores (prompt, program) pairs with feedloop's onnx backend, for checks from other languages
 * (the reference trainer's selftest compares these scores with PyTorch's).
 *
 *   node --import tsx scripts/onnx-score.ts <model dir> <pairs.json>   ->  JSON array of scores on stdout
 *
 * pairs.json: [{"prompt": "...", "program": "..."}, ...]
 */
import fs from 'node:fs';
import { createModelBackend } from '../activities/models';
import type { ScorePair } from '../activities/models/types';

async function main(): Promise<void> {
  const [modelDir, pairsFile] = process.argv.slice(2);
  if (!modelDir || !pairsFile) throw new Error('usage: onnx-score.ts <model dir> <pairs.json>');
  const pairs = JSON.parse(fs.readFileSync(pairsFile, 'utf8')) as ScorePair[];
  const backend = createModelBackend({ backend: 'onnx', task: 'sequence-classification', modelDir, batchSize: 3 });
  try {
    process.stdout.write(`${JSON.stringify(await backend.score(pairs))}\n`);
  } finally {
    await backend.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../common/config-error';
import { PROJECT_ROOT } from '../infra/paths';
import { ensureTrainerPython } from '../infra/trainer-env';

/** A model made here from a corpus by scripts/init-tiny-model.py, cached in its own directory. */
export interface CachedModel {
  /** the Hugging Face checkpoint */
  modelDir: string;
  /** the onnx export */
  onnxDir: string;
  recipeKey: string;
  /** true when it was made by this call */
  made: boolean;
  seconds: number;
}

/** What one build of a cached model needs: where it goes, its corpus and init-tiny-model.py's arguments. */
export interface ModelBuild {
  modelDir: string;
  key: string;
  corpus: string;
  args: readonly string[];
  /** what is being made, in words (for errors) */
  what: string;
}

/**
 * Returns the model in `b.modelDir` when it is there; else writes `b.corpus`, runs
 * scripts/init-tiny-model.py with `b.args` (after --out, --corpus) in a work directory and moves the
 * result into place, so that a model directory is either complete or absent.
 */
export function ensureCachedModel(b: ModelBuild, announce: () => void = () => undefined): CachedModel {
  const onnxDir = path.join(b.modelDir, 'onnx');
  if (fs.existsSync(path.join(onnxDir, 'model.onnx')) && fs.existsSync(path.join(b.modelDir, 'feedloop-model.json'))) return { modelDir: b.modelDir, onnxDir, recipeKey: b.key, made: false, seconds: 0 };
  announce();
  const started = Date.now();
  const work = `${b.modelDir}.work-${process.pid}`;
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  const corpusPath = path.join(work, 'corpus.jsonl');
  fs.writeFileSync(corpusPath, b.corpus);
  const run = spawnSync(ensureTrainerPython(), [path.join(PROJECT_ROOT, 'scripts', 'init-tiny-model.py'), '--out', path.join(work, 'model'), '--corpus', corpusPath, ...b.args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (run.status !== 0) {
    fs.rmSync(work, { recursive: true, force: true });
    throw new ConfigError(`making ${b.what} failed (exit ${run.status ?? run.signal}); see the lines above`);
  }
  fs.copyFileSync(corpusPath, path.join(work, 'model', 'corpus.jsonl'));
  fs.rmSync(b.modelDir, { recursive: true, force: true });
  fs.renameSync(path.join(work, 'model'), b.modelDir);
  fs.rmSync(work, { recursive: true, force: true });
  return { modelDir: b.modelDir, onnxDir, recipeKey: b.key, made: true, seconds: (Date.now() - started) / 1000 };
}

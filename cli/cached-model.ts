import { spawn, spawnSync } from 'node:child_process';
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

function cached({ modelDir, key }: ModelBuild): CachedModel | null {
  const onnxDir = path.join(modelDir, 'onnx');
  const complete = fs.existsSync(path.join(onnxDir, 'model.onnx')) && fs.existsSync(path.join(modelDir, 'feedloop-model.json'));
  return complete ? { modelDir, onnxDir, recipeKey: key, made: false, seconds: 0 } : null;
}

/** Writes the corpus into a fresh work directory; returns the trainer's command line. */
function prepare(b: ModelBuild): { work: string; corpusPath: string; python: string; argv: string[] } {
  const work = `${b.modelDir}.work-${process.pid}`;
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  const corpusPath = path.join(work, 'corpus.jsonl');
  fs.writeFileSync(corpusPath, b.corpus);
  return { work, corpusPath, python: ensureTrainerPython(), argv: [path.join(PROJECT_ROOT, 'scripts', 'init-tiny-model.py'), '--out', path.join(work, 'model'), '--corpus', corpusPath, ...b.args] };
}

/** Moves a finished build into place, so that a model directory is either complete or absent. */
function finish(b: ModelBuild, work: string, corpusPath: string, exit: number | string | null, started: number): CachedModel {
  if (exit !== 0) {
    fs.rmSync(work, { recursive: true, force: true });
    throw new ConfigError(`making ${b.what} failed (exit ${exit}); see the lines above`);
  }
  fs.copyFileSync(corpusPath, path.join(work, 'model', 'corpus.jsonl'));
  fs.rmSync(b.modelDir, { recursive: true, force: true });
  fs.renameSync(path.join(work, 'model'), b.modelDir);
  fs.rmSync(work, { recursive: true, force: true });
  return { modelDir: b.modelDir, onnxDir: path.join(b.modelDir, 'onnx'), recipeKey: b.key, made: true, seconds: (Date.now() - started) / 1000 };
}

/**
 * Returns the model in `b.modelDir` when it is there; else writes `b.corpus`, runs
 * scripts/init-tiny-model.py with `b.args` (after --out, --corpus) in a work directory and moves the
 * result into place, so that a model directory is either complete or absent.
 */
export function ensureCachedModel(b: ModelBuild, announce: () => void = () => undefined): CachedModel {
  const have = cached(b);
  if (have) return have;
  announce();
  const started = Date.now();
  const { work, corpusPath, python, argv } = prepare(b);
  const run = spawnSync(python, argv, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  return finish(b, work, corpusPath, run.status ?? run.signal, started);
}

/**
 * ensureCachedModel without blocking the event loop: a model that takes a quarter of an hour to
 * make can be made while other work (a worker, another campaign) goes on in this process. `signal`
 * stops the making.
 */
export async function ensureCachedModelAsync(b: ModelBuild, announce: () => void = () => undefined, signal?: AbortSignal): Promise<CachedModel> {
  const have = cached(b);
  if (have) return have;
  announce();
  const started = Date.now();
  const { work, corpusPath, python, argv } = prepare(b);
  // aborting kills the trainer (its exit is then a signal, and nothing is moved into place)
  const child = spawn(python, argv, { stdio: ['ignore', 'ignore', 'inherit'], signal });
  const exit = await new Promise<number | string | null>((resolve) => {
    child.on('error', (e) => resolve(e.name));
    child.on('close', (code, killedBy) => resolve(code ?? killedBy));
  });
  return finish(b, work, corpusPath, exit, started);
}

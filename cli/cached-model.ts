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

const complete = (modelDir: string) => fs.existsSync(path.join(modelDir, 'onnx', 'model.onnx')) && fs.existsSync(path.join(modelDir, 'feedloop-model.json'));

/** Blocks this thread for `ms` (the builds are synchronous: callers wait for the model anyway). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `<modelDir>.lock` (holding this pid), waiting while a live process holds it: two processes
 * that need the same model (two test files, two campaigns started at once) make it once. A lock
 * whose process is gone is taken over. Returns the release.
 */
export function lockBuild(modelDir: string): () => void {
  const lock = `${modelDir}.lock`;
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lock, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number(fs.readFileSync(lock, { encoding: 'utf8', flag: 'a+' }));
    if (Number.isInteger(holder) && holder > 0 && alive(holder)) sleepSync(2000);
    else fs.rmSync(lock, { force: true });
  }
}

/**
 * Returns the model in `b.modelDir` when it is there; else writes `b.corpus`, runs
 * scripts/init-tiny-model.py with `b.args` (after --out, --corpus) in a work directory and moves the
 * result into place, so that a model directory is either complete or absent. One process at a
 * time builds a given model; the others wait for it and take what it made.
 */
export function ensureCachedModel(b: ModelBuild, announce: () => void = () => undefined): CachedModel {
  const onnxDir = path.join(b.modelDir, 'onnx');
  const cached: CachedModel = { modelDir: b.modelDir, onnxDir, recipeKey: b.key, made: false, seconds: 0 };
  if (complete(b.modelDir)) return cached;
  const release = lockBuild(b.modelDir);
  try {
    return complete(b.modelDir) ? cached : build(b, onnxDir, announce);
  } finally {
    release();
  }
}

function build(b: ModelBuild, onnxDir: string, announce: () => void): CachedModel {
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

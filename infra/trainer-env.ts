import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './paths';
import { TOOLS_DIR } from './temporal';

/** The reference trainer's venv (scripts/install-trainer-env.sh): torch, transformers, peft, onnx. */
export const TRAINER_VENV = path.join(TOOLS_DIR, 'trainer-venv');
const INSTALL_SCRIPT = path.join(PROJECT_ROOT, 'scripts', 'install-trainer-env.sh');

/**
 * The venv's python, installing the venv first if it is missing or its requirements changed
 * (the script is a no-op then; a first install downloads several GB and takes a minute or more).
 */
export function ensureTrainerPython(opts: { install?: boolean } = {}): string {
  const python = path.join(TRAINER_VENV, 'bin', 'python');
  if (opts.install === false) {
    if (!fs.existsSync(python)) throw new Error(`${python} is missing: run bash scripts/install-trainer-env.sh`);
    return python;
  }
  // progress lines go to our stderr; the script prints the venv path on stdout
  const venv = execFileSync('bash', [INSTALL_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FEEDLOOP_TOOLS_DIR: TOOLS_DIR } })
    .toString()
    .trim()
    .split('\n')
    .pop()!;
  return path.join(venv, 'bin', 'python');
}

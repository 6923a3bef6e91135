import fs from 'node:fs';
import path from 'node:path';

/**
 * What a training job needs on disk before its trainer starts, checked the same way by the
 * worker (a problem fails the step at once, non-retryably: no retry makes a missing file appear)
 * and by `campaign validate` (offline, before anything starts). Each problem is one line.
 */

/** Interpreters whose first operand is the script they run. */
const INTERPRETER = /^(node|nodejs|tsx|ts-node|bun|deno|python[0-9.]*|pypy[0-9.]*|bash|sh|dash|zsh|ruby|perl|Rscript)$/;
/** Interpreter options that take the next argument as their value. */
const OPTION_WITH_VALUE = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '-X', '-W']);
/** Options after which the interpreter runs a module or inline code, not a file. */
const NO_SCRIPT = new Set(['-m', '-c', '-e', '--eval', '-p', '--print', 'run']);

/** The script file an interpreter argv runs (`[python3, trainers/x/train.py]` -> `trainers/x/train.py`), or undefined. */
export function trainerScriptOf(argv: readonly string[]): string | undefined {
  const [command, ...args] = argv;
  if (!command || !INTERPRETER.test(path.basename(command))) return undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (NO_SCRIPT.has(a)) return undefined;
    if (OPTION_WITH_VALUE.has(a)) i++;
    else if (!a.startsWith('-')) return a === '{spec}' ? undefined : a;
  }
  return undefined;
}

/** Why the trainer's script cannot run from `cwd`, or undefined (no script to check, or it is there). */
export function trainerScriptProblem(argv: readonly string[], cwd: string = process.cwd()): string | undefined {
  const script = trainerScriptOf(argv);
  if (script === undefined) return undefined;
  const at = path.resolve(cwd, script);
  return fs.existsSync(at) ? undefined : `the trainer script ${at} does not exist (${argv.join(' ')})`;
}

/** Why `file` cannot be read, or undefined. */
export function unreadableProblem(file: string): string | undefined {
  try {
    fs.accessSync(file, fs.constants.R_OK);
    return fs.statSync(file).isDirectory() ? `${file} is a directory, not a file` : undefined;
  } catch (err) {
    return `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
}

/** Files a model directory holds: Hugging Face weights or config, ONNX, a feedloop simulated model. */
const MODEL_FILE = /(^config\.json$|^feedloop-simulated-model\.json$|\.(safetensors|bin|onnx|pt|pth|gguf|ckpt|h5|msgpack)$)/;

/**
 * Why the directory at `model` holds no model, or undefined: it holds one, or `model` is not a
 * local directory (a hub name such as Salesforce/codegen-6B-mono, or a path another host sees).
 */
export function modelDirProblem(model: string, cwd: string = process.cwd()): string | undefined {
  const dir = path.resolve(cwd, model);
  let entries: fs.Dirent[];
  try {
    if (!fs.statSync(dir).isDirectory()) return undefined;
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  const hasModel = (at: string, list: fs.Dirent[], depth: number): boolean =>
    list.some((e) => (e.isFile() && MODEL_FILE.test(e.name)) || (depth > 0 && e.isDirectory() && hasModel(path.join(at, e.name), safeList(path.join(at, e.name)), depth - 1)));
  // An export one level down (onnx/) counts: it is a model the trainer or a backend reads.
  return hasModel(dir, entries, 1) ? undefined : `the model directory ${dir} holds no model (no config.json, weights or model.onnx)`;
}

function safeList(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/**
 * What `campaign validate` can check offline of the files a campaign config names, read from
 * `cwd` as a worker started there reads them: each trainer command's script, each onnx backend's
 * model file, each baseModel/referenceModel directory that is here. Returns "field: problem" lines.
 * A path that is not here at all may be on the workers' hosts and is left to them.
 */
export function campaignFileProblems(config: unknown, cwd: string = process.cwd(), at = ''): string[] {
  if (!config || typeof config !== 'object') return [];
  const node = config as Record<string, unknown>;
  const field = (key: string) => (at ? `${at}.${key}` : key);
  const problems: string[] = [];
  const problem = (key: string, p: string | undefined) => p && problems.push(`${field(key)}: ${p}`);
  if (Array.isArray(node.command) && node.command.every((a) => typeof a === 'string')) problem('command', trainerScriptProblem(node.command, cwd));
  if (node.backend === 'onnx' && typeof node.modelDir === 'string') {
    const dir = path.resolve(cwd, node.modelDir);
    const file = path.join(dir, typeof node.modelFile === 'string' ? node.modelFile : 'model.onnx');
    if (fs.existsSync(dir) && !fs.existsSync(file)) problem('modelDir', `the model directory ${dir} holds no ${path.basename(file)}`);
  }
  for (const key of ['baseModel', 'referenceModel']) if (typeof node[key] === 'string') problem(key, modelDirProblem(node[key], cwd));
  for (const [key, value] of Object.entries(node)) if (value && typeof value === 'object') problems.push(...campaignFileProblems(value, cwd, field(key)));
  return problems;
}

import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ConfigError } from '../common/config-error';
import { checkSplits, validateTaskFile, type FileSplits } from '../activities/datasets/task-file';
import { loopNamed } from './registry';

/** The raw content of a campaign file (YAML, or JSON by extension); a missing file or a syntax error names the file. */
export function readCampaignFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(code === 'ENOENT' ? `${file}: no such file` : code === 'EISDIR' ? `${file}: is a directory, not a campaign file` : `${file}: cannot be read (${code ?? (err as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = path.extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    if (err instanceof YAMLParseError) throw new ConfigError(`${file}: not valid YAML at line ${yamlErrorLine(text, err)}: ${err.message.split(/ at line \d+/)[0]}`);
    throw new ConfigError(`${file}: not valid ${path.extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (raw === null || raw === undefined) throw new ConfigError(`${file}: empty: a campaign config needs at least an algorithm, see examples/`);
  return raw;
}

/**
 * The line to fix for a YAML syntax error. The parser notices a quote or a bracket left open, or
 * a line that cannot continue, only where the next line starts (one line past the broken one, or
 * the end of the file): the line named is where the open quote or bracket is, or the last line
 * with text before the point the parser stopped.
 */
export function yamlErrorLine(text: string, err: YAMLParseError): number {
  let offset = Math.min(err.pos[0], text.length);
  const quote = /closing (["'])quote/.exec(err.message)?.[1];
  const bracket = /end with an? ([\]}])/.exec(err.message)?.[1];
  const opener = quote ?? (bracket === ']' ? '[' : bracket === '}' ? '{' : undefined);
  if (opener && text.lastIndexOf(opener, offset - 1) >= 0) offset = text.lastIndexOf(opener, offset - 1);
  else if (offset >= text.length || text[offset - 1] === '\n') offset = Math.max(0, text.slice(0, offset).trimEnd().length - 1);
  return text.slice(0, offset).split('\n').length;
}

/** Validates a campaign config of any loop: its `algorithm` picks the loop's schema. */
export function parseCampaignConfig(raw: unknown, where = ''): { algorithm: string; iterations: number; taskQueues: { workflow: string } } {
  const algorithm = raw && typeof raw === 'object' ? (raw as { algorithm?: unknown }).algorithm : undefined;
  return loopNamed(algorithm, where).parseConfig(raw, where);
}

/**
 * A dataset file the config names (`dataset.file`, common/dataset-file.ts), checked before
 * anything starts: the file must be valid (every bad row named by line and field) and its
 * splits consistent; its path becomes absolute (relative to the campaign file) and its SHA-256
 * is pinned in the config, which the campaign carries and the audit shows.
 */
export function pinDatasetFile(raw: unknown, campaignFile: string): unknown {
  const dataset = raw && typeof raw === 'object' ? (raw as { dataset?: unknown }).dataset : undefined;
  const ref = dataset && typeof dataset === 'object' ? (dataset as { file?: unknown }).file : undefined;
  if (!ref || typeof ref !== 'object' || typeof (ref as { path?: unknown }).path !== 'string') return raw;
  const { path: given, splits, sha256 } = ref as { path: string; splits?: unknown; sha256?: unknown };
  const where = path.resolve(path.dirname(campaignFile), given);
  const { rows, errors, sha256: actual } = validateTaskFile(where);
  if (errors.length) {
    throw new ConfigError(`${campaignFile}: dataset.file ${given} is invalid:\n${errors.map((e) => `  line ${e.line}: ${e.field}: ${e.message}`).join('\n')}`);
  }
  if (typeof sha256 === 'string' && sha256 !== actual) throw new ConfigError(`${campaignFile}: dataset.file ${given} has sha256 ${actual}, not the ${sha256} the config pins`);
  if (splits && typeof splits === 'object' && !Array.isArray(splits)) {
    const problems = checkSplits(splits as FileSplits, rows.map((r) => r.id));
    if (problems.length) throw new ConfigError(`${campaignFile}: dataset.file.splits: ${problems.join('; ')}`);
  }
  return { ...(raw as object), dataset: { ...(dataset as object), file: { ...(ref as object), path: where, sha256: actual } } };
}

/** Reads and validates a campaign file of any loop. */
export function loadCampaignConfig(file: string) {
  return parseCampaignConfig(pinDatasetFile(readCampaignFile(file), file), file);
}

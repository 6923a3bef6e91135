import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ConfigError } from '../common/config-error';
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

/** Reads and validates a campaign file of any loop. */
export function loadCampaignConfig(file: string) {
  return parseCampaignConfig(readCampaignFile(file), file);
}

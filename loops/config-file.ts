import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
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
  try {
    return path.extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid ${path.extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`);
  }
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

import { CsvError, parse } from 'csv-parse/sync';
import { ConfigError } from '../../common/config-error';
import type { Answer } from './aggregation/answers';

const HEADER = ['task', 'worker', 'label'] as const;

/**
 * Reads a crowd answers CSV (RFC 4180: quoted fields, commas and newlines inside quotes, CRLF or
 * LF) whose header is exactly task,worker,label. Any malformed line is a ConfigError that names
 * its line number: a wrong header, a wrong number of fields, an empty field, broken quoting.
 */
export function parseAnswersCsv(text: string, source = 'input'): Answer[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { bom: true, info: true, relax_column_count: true, skip_empty_lines: true }) as unknown as typeof records;
  } catch (err) {
    if (err instanceof CsvError) {
      const line = (err as CsvError & { lines?: number }).lines;
      throw new ConfigError(`${source}${line ? ` line ${line}` : ''}: malformed CSV (${err.message.replace(/^Invalid [^:]*: /, '')})`);
    }
    throw err;
  }
  if (records.length === 0) throw new ConfigError(`${source} line 1: empty file, expected the header task,worker,label`);
  const [header, ...rows] = records;
  if (header!.record.length !== HEADER.length || header!.record.some((name, i) => name.trim() !== HEADER[i])) {
    throw new ConfigError(`${source} line ${header!.info.lines}: header must be task,worker,label, got ${header!.record.join(',')}`);
  }
  if (rows.length === 0) throw new ConfigError(`${source} line ${header!.info.lines + 1}: no answers after the header`);
  return rows.map(({ record, info }) => {
    if (record.length !== HEADER.length) {
      throw new ConfigError(`${source} line ${info.lines}: expected 3 fields (task,worker,label), got ${record.length}`);
    }
    const empty = record.findIndex((value) => value.trim() === '');
    if (empty >= 0) throw new ConfigError(`${source} line ${info.lines}: empty ${HEADER[empty]}`);
    return { task: record[0]!, worker: record[1]!, label: record[2]! };
  });
}

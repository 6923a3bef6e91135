import { describe, expect, it } from 'vitest';
import { parseAnswersCsv } from '../../activities/crowd/answers-csv';
import { ConfigError } from '../../common/config-error';

function rejection(text: string): string {
  try {
    parseAnswersCsv(text, 'answers.csv');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('accepted a malformed file');
}

describe('parseAnswersCsv', () => {
  it('reads RFC 4180 CSV: quotes, escaped quotes, commas and newlines in quotes, CRLF, a BOM', () => {
    const text = '\ufefftask,worker,label\r\nt1,w1,"a, b"\r\n"t\n2",w2,"say ""hi"""\r\nt3,w3,NA\r\n';
    expect(parseAnswersCsv(text)).toEqual([
      { task: 't1', worker: 'w1', label: 'a, b' },
      { task: 't\n2', worker: 'w2', label: 'say "hi"' },
      { task: 't3', worker: 'w3', label: 'NA' },
    ]);
  });

  it('keeps values as written (labels are strings, duplicates are kept)', () => {
    expect(parseAnswersCsv('task,worker,label\nt1,w1, 1\nt1,w1, 1\n').map((a) => a.label)).toEqual([' 1', ' 1']);
  });

  it('rejects a wrong header on line 1', () => {
    expect(rejection('task,annotator,label\nt1,w1,a\n')).toBe('answers.csv line 1: header must be task,worker,label, got task,annotator,label');
    expect(rejection('worker,task,label\nt1,w1,a\n')).toMatch(/^answers.csv line 1: header must be/);
    expect(rejection('task,worker\nt1,w1\n')).toMatch(/^answers.csv line 1: header must be/);
  });

  it('rejects a wrong number of fields, naming the line', () => {
    expect(rejection('task,worker,label\nt1,w1,a\nt2,w2,b,extra\n')).toBe('answers.csv line 3: expected 3 fields (task,worker,label), got 4');
    expect(rejection('task,worker,label\nt1,"w\n1",a\nt2,w2\n')).toBe('answers.csv line 4: expected 3 fields (task,worker,label), got 2');
  });

  it('rejects an empty field, naming the line and the column', () => {
    expect(rejection('task,worker,label\nt1,w1,a\nt2,,b\n')).toBe('answers.csv line 3: empty worker');
    expect(rejection('task,worker,label\r\nt1,w1,""\r\n')).toBe('answers.csv line 2: empty label');
  });

  it('rejects broken quoting with its line', () => {
    expect(rejection('task,worker,label\nt1,w1,a"b"\n')).toMatch(/^answers.csv line 2: malformed CSV/);
    expect(rejection('task,worker,label\nt1,w1,a\nt2,w2,"b\n')).toMatch(/^answers.csv line 3: malformed CSV/);
  });

  it('rejects an empty file and a header without answers', () => {
    expect(rejection('')).toBe('answers.csv line 1: empty file, expected the header task,worker,label');
    expect(rejection('task,worker,label\n')).toBe('answers.csv line 2: no answers after the header');
  });
});

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockBuild } from '../../cli/cached-model';
import { tempDir } from '../helpers/temp-dir';

const running = (pid: number) => spawnSync('kill', ['-0', String(pid)]).status === 0;

describe('a cached model is built by one process at a time (lockBuild)', () => {
  it('waits while a live process holds the model, then takes it', () => {
    const modelDir = path.join(tempDir('model-lock'), 'teacher-abc');
    // another process (not this one's child, which would linger unreaped while this one waits)
    const holder = Number(spawnSync('sh', ['-c', 'sleep 1 > /dev/null 2>&1 & echo $!'], { encoding: 'utf8' }).stdout.trim());
    expect(running(holder)).toBe(true);
    fs.writeFileSync(`${modelDir}.lock`, String(holder));
    const release = lockBuild(modelDir);
    // it returned only once the holder was gone
    expect(running(holder)).toBe(false);
    expect(fs.readFileSync(`${modelDir}.lock`, 'utf8')).toBe(String(process.pid));
    release();
    expect(fs.existsSync(`${modelDir}.lock`)).toBe(false);
  });

  it('takes over the lock of a process that is gone', () => {
    const modelDir = path.join(tempDir('model-lock'), 'synth-policy-abc');
    const gone = spawnSync('true').pid;
    fs.writeFileSync(`${modelDir}.lock`, String(gone));
    const release = lockBuild(modelDir);
    expect(fs.readFileSync(`${modelDir}.lock`, 'utf8')).toBe(String(process.pid));
    release();
  });
});

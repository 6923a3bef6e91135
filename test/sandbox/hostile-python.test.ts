import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/paths';
import { createSandboxRunner, type SandboxPoolRunner } from '../../activities/sandbox/sandbox-runner';
import { DEFAULT_LIMITS, type ProgramSpec, type RunResult, type SandboxLimits } from '../../activities/sandbox/types';
import { CPU_LIMITS, SHORT_LIMITS, processesNamed, python, renameSelf } from './helpers/programs';

/**
 * Hostile programs: each must be contained (no effect outside its run), classified with the
 * right outcome, and must leave the sandbox working (no fork-server restart, next run passes).
 */
const SECRET = `sk-feedloop-test-${randomBytes(8).toString('hex')}`;
const SECRET_DB = `postgres://feedloop:${randomBytes(8).toString('hex')}@127.0.0.1:5432/feedloop`;
let runner: SandboxPoolRunner;

const healthy = python('def add(a, b):\n    return a + b', 'assert add(2, 3) == 5');

async function expectSandboxStillWorks(): Promise<void> {
  const before = runner.stats();
  const result = await runner.run(healthy, DEFAULT_LIMITS);
  expect(result.outcome).toBe('passed');
  expect(runner.stats()).toEqual(before);
}

/** Runs a program while watching the host for processes named `name`: how many it saw at most. */
async function runWatching(spec: ProgramSpec, limits: SandboxLimits, names: string[]): Promise<{ result: RunResult; seen: number[] }> {
  const seen = names.map(() => 0);
  let running = true;
  const watcher = (async () => {
    while (running) {
      names.forEach((n, i) => (seen[i] = Math.max(seen[i]!, processesNamed(n).length)));
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  try {
    return { result: await runner.run(spec, limits), seen };
  } finally {
    running = false;
    await watcher;
  }
}

function marker(prefix: string): string {
  return `${prefix}${randomBytes(4).toString('hex')}`.slice(0, 15);
}

beforeAll(async () => {
  // Secrets in the worker's environment before the servers start: none may reach a program.
  process.env.OPENAI_API_KEY = SECRET;
  process.env.DATABASE_URL = SECRET_DB;
  runner = createSandboxRunner({ size: 2 });
  await runner.warmUp();
});

afterAll(async () => {
  await runner.close();
  delete process.env.OPENAI_API_KEY;
  delete process.env.DATABASE_URL;
});

describe('hostile Python programs', () => {
  it('stops an infinite loop at the CPU-time limit (timeout)', async () => {
    const result = await runner.run(python('while True:\n    pass'), CPU_LIMITS);
    expect(result.outcome).toBe('timeout');
    expect(result.detail).toMatch(/CPU time limit of 1000 ms/);
    expect(result.cpuMs).toBeGreaterThanOrEqual(950);
    expect(result.cpuMs).toBeLessThan(1500);
    expect(result.limits).toEqual(CPU_LIMITS);
    await expectSandboxStillWorks();
  });

  it('stops a long sleep at the wall-clock limit (timeout)', async () => {
    const result = await runner.run(python('import time\ntime.sleep(3600)'), SHORT_LIMITS);
    expect(result.outcome).toBe('timeout');
    expect(result.detail).toMatch(/wall-clock limit of 2500 ms/);
    expect(result.durationMs).toBeGreaterThanOrEqual(2400);
    expect(result.durationMs).toBeLessThan(5000);
    await expectSandboxStillWorks();
  });

  it('classifies memory bombs as memory_limit', async () => {
    const huge = await runner.run(python('x = bytearray(64 * 1024 ** 3)'), SHORT_LIMITS);
    expect(huge.outcome, JSON.stringify({ ...huge, stdout: undefined })).toBe('memory_limit');
    const growing = await runner.run(python('chunks = []\nwhile True:\n    chunks.append(bytearray(10 ** 7))'), SHORT_LIMITS);
    expect(growing.outcome, JSON.stringify({ ...growing, stdout: undefined })).toBe('memory_limit');
    expect(growing.maxRssKb).toBeLessThan(SHORT_LIMITS.memoryMb * 1024);
    await expectSandboxStillWorks();
  });

  it('contains a fork bomb: bounded, classified, and no process of it remains', async () => {
    const name = marker('flbomb');
    const program = `import os\n${renameSelf(name)}\nprint('armed', flush=True)\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass`;
    const { result, seen } = await runWatching(python(program), SHORT_LIMITS, [name]);
    expect(result.stdout).toContain('armed');
    expect(['timeout', 'runtime_error']).toContain(result.outcome);
    // It did fork (the host saw many copies), at most RLIMIT_NPROC of them, and none is left.
    expect(seen[0]).toBeGreaterThan(5);
    expect(seen[0]).toBeLessThanOrEqual(SHORT_LIMITS.processes);
    expect(processesNamed(name)).toEqual([]);
    await expectSandboxStillWorks();
  });

  it('stops gigabytes of output at the output limit, keeping a bounded excerpt', async () => {
    const started = performance.now();
    const result = await runner.run(python("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)"), SHORT_LIMITS);
    expect(result.outcome).toBe('output_limit');
    expect(result.stdoutBytes).toBeGreaterThan(SHORT_LIMITS.outputBytes);
    expect(result.stdout.length).toBeLessThan(10_000);
    expect(performance.now() - started).toBeLessThan(5000);
    const stderrFlood = await runner.run(python("import sys\nwhile True:\n    print('y' * 1000, file=sys.stderr)"), SHORT_LIMITS);
    expect(stderrFlood.outcome).toBe('output_limit');
    const bigFile = await runner.run(python("with open('big.bin', 'wb') as f:\n    while True:\n        f.write(b'z' * 2 ** 20)"), SHORT_LIMITS);
    expect(bigFile.outcome).toBe('output_limit');
    expect(bigFile.detail).toMatch(/File too large|file size/);
    await expectSandboxStillWorks();
  });

  it('cannot write outside its working dir; its working dir is private and removed afterwards', async () => {
    const name = `feedloop-escape-${randomBytes(4).toString('hex')}`;
    const targets = [
      path.join(PROJECT_ROOT, name),
      path.join(PROJECT_ROOT, 'test', 'sandbox', name),
      path.join(os.homedir(), name),
      path.join('/tmp', name),
      path.join('/var/tmp', name),
      path.join('/dev/shm', name),
    ];
    const program = [
      'import os',
      `open(${JSON.stringify(name)}, 'w').write('inside')  # the work dir itself is writable`,
      'print("CWD", os.getcwd(), "UID", os.getuid())',
      `for target in ${JSON.stringify(targets)}:`,
      '    try:',
      "        open(target, 'w').write('escaped')",
      "        print('WROTE', target)",
      '    except OSError as exc:',
      "        print('DENIED', target, type(exc).__name__)",
      'try:',
      `    open(${JSON.stringify(path.join(PROJECT_ROOT, 'package.json'))}).read()`,
      "    print('READ project file')",
      'except OSError:',
      "    print('project hidden')",
    ].join('\n');
    const result = await runner.run(python(program), DEFAULT_LIMITS);
    expect(result.outcome).toBe('passed');
    expect(result.stdout).not.toContain('WROTE');
    expect(result.stdout.match(/DENIED/g)).toHaveLength(targets.length);
    expect(result.stdout).toContain('project hidden');
    const [, cwd, , uid] = /CWD (\S+) UID (\d+)/.exec(result.stdout)!;
    expect(Number(uid)).not.toBe(0);
    for (const target of targets) expect(fs.existsSync(target)).toBe(false);
    // The work dir lives in the fork-server's private mount namespace: look through /proc/PID/root.
    const servers = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p) && safeRead(`/proc/${p}/cmdline`).includes('forkserver.py'));
    expect(servers.length).toBeGreaterThan(0);
    for (const pid of servers) expect(fs.existsSync(`/proc/${pid}/root${cwd}/${name}`)).toBe(false);
  });

  it('has no network: a TCP connection to a listener on 127.0.0.1 never arrives', async () => {
    let connections = 0;
    const listener = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const { port } = listener.address() as net.AddressInfo;
    try {
      const program = [
        'import socket',
        'try:',
        `    socket.create_connection(('127.0.0.1', ${port}), timeout=2)`,
        "    print('CONNECTED')",
        'except OSError as exc:',
        "    print('BLOCKED', exc)",
      ].join('\n');
      const result = await runner.run(python(program), DEFAULT_LIMITS);
      expect(result.outcome).toBe('passed');
      expect(result.stdout).toContain('BLOCKED');
      const unhandled = await runner.run(python(`import socket\nsocket.create_connection(('127.0.0.1', ${port}), timeout=2)`), DEFAULT_LIMITS);
      expect(unhandled.outcome).toBe('runtime_error');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(connections).toBe(0);
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
  });

  it('never sees the worker environment or its secrets', async () => {
    const program = [
      'import os, glob',
      'print(dict(os.environ))',
      "for path in ['/proc/self/environ', '/proc/1/environ'] + glob.glob('/proc/*/environ'):",
      '    try:',
      "        print(path, open(path, 'rb').read())",
      '    except OSError as exc:',
      "        print(path, 'unreadable', type(exc).__name__)",
    ].join('\n');
    const result = await runner.run(python(program), DEFAULT_LIMITS);
    expect(result.outcome).toBe('passed');
    expect(result.stdout).toContain("'PATH'");
    for (const secret of [SECRET, SECRET_DB, 'OPENAI_API_KEY', 'DATABASE_URL']) {
      expect(result.stdout).not.toContain(secret);
      expect(result.stderr).not.toContain(secret);
    }
  });

  it('cannot kill its parent, PID 1 or anything else', async () => {
    const program = [
      'import os, signal',
      'for target in (os.getppid(), 1):',
      '    try:',
      '        os.kill(target, signal.SIGKILL)',
      "        print('KILLED', target)",
      '    except OSError as exc:',
      "        print('REFUSED', target, type(exc).__name__)",
      'try:',
      '    os.kill(-1, signal.SIGKILL)  # every process it may signal: only its own',
      'except OSError:',
      '    pass',
    ].join('\n');
    const result = await runner.run(python(program), DEFAULT_LIMITS);
    expect(result.stdout).not.toContain('KILLED');
    const direct = await runner.run(python('import os, signal\nos.kill(os.getppid(), signal.SIGKILL)'), DEFAULT_LIMITS);
    expect(direct.outcome).toBe('runtime_error');
    expect(direct.detail).toMatch(/PermissionError|Operation not permitted/);
    await expectSandboxStillWorks();
  });

  it('leaves no detached or daemonized child behind', async () => {
    const detached = marker('fldet');
    const daemon = marker('fldmn');
    const program = [
      'import os, subprocess, sys, time',
      `subprocess.Popen([sys.executable, '-c', "open('/proc/self/comm', 'w').write('${detached}'); open('detached.ready', 'w'); import time; time.sleep(60)"],`,
      '                 start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)',
      'if os.fork() == 0:',
      '    os.setsid()',
      '    if os.fork() == 0:',
      `        ${renameSelf(daemon)}`,
      "        open('daemon.ready', 'w')",
      '        time.sleep(60)',
      '    os._exit(0)',
      'deadline = time.time() + 10',
      "while not (os.path.exists('detached.ready') and os.path.exists('daemon.ready')) and time.time() < deadline:",
      '    time.sleep(0.01)',
      "print('children ready', os.path.exists('detached.ready'), os.path.exists('daemon.ready'), flush=True)",
      'time.sleep(0.3)  # long enough for the host to see them',
    ].join('\n');
    const { result, seen } = await runWatching(python(program, 'assert True'), DEFAULT_LIMITS, [detached, daemon]);
    expect(result.outcome, JSON.stringify({ ...result, stdout: result.stdout.slice(0, 500) })).toBe('passed');
    expect(result.stdout).toContain('children ready True True');
    expect(seen).toEqual([1, 1]);
    expect(processesNamed(detached)).toEqual([]);
    expect(processesNamed(daemon)).toEqual([]);
    await expectSandboxStillWorks();
  });

  it('scores a forked copy of the program as nothing: only the main process answers the judge', async () => {
    // The copy would answer right; it has no channel to the judge. The main process answers wrong.
    const program = 'import os, time\nIS_CHILD = os.fork() == 0\ndef answer():\n    return 42 if IS_CHILD else 41\nif IS_CHILD:\n    time.sleep(0.5)';
    const result = await runner.run(python(program, 'assert answer() == 42'), DEFAULT_LIMITS);
    expect(result.outcome).toBe('failed');
  });

  it('never passes a program that exits early with status 0', async () => {
    const tests = 'assert answer() == 42';
    const early = [
      'import sys\nsys.exit(0)\ndef answer():\n    return 42',
      'import os\nos._exit(0)\ndef answer():\n    return 42',
      'raise SystemExit\ndef answer():\n    return 42',
      'import sys\ndef answer():\n    sys.exit(0)',
      'import os\ndef answer():\n    os._exit(0)',
      'import os, signal\ndef answer():\n    os.kill(os.getpid(), signal.SIGKILL)',
      // A forged verdict on the report channel lacks the run's nonce.
      'import os\nos.write(3, b\'{"status": "passed"}\\n\')\nos._exit(0)',
      "import atexit, os\natexit.register(lambda: os._exit(0))\ndef answer():\n    raise SystemExit(0)",
    ];
    for (const program of early) {
      const result = await runner.run(python(program, tests), DEFAULT_LIMITS);
      expect(result.outcome, program).toBe('runtime_error');
      expect(result.detail, program).toMatch(/before the tests completed/);
    }
    const exitInTests = await runner.run(python('def answer():\n    return 41', 'import sys\nsys.exit(0)\nassert answer() == 42'), DEFAULT_LIMITS);
    expect(exitInTests.outcome).toBe('runtime_error');
  });

  it('reports a syntax error as compile_error, with the compiler message', async () => {
    const result = await runner.run(python('def broken(:\n    return 1', 'assert broken() == 1'), DEFAULT_LIMITS);
    expect(result.outcome).toBe('compile_error');
    expect(result.stderr).toContain('SyntaxError');
    const indentation = await runner.run(python('def f():\nreturn 1', 'assert f() == 1'), DEFAULT_LIMITS);
    expect(indentation.outcome).toBe('compile_error');
    expect(indentation.detail).toMatch(/IndentationError/);
    // A SyntaxError raised while running (exec of bad code) is a runtime error, not a compile error.
    const atRuntime = await runner.run(python("exec('def (')"), DEFAULT_LIMITS);
    expect(atRuntime.outcome).toBe('runtime_error');
  });
});

function safeRead(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

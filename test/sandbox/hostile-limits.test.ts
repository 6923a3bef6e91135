import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/paths';
import { createSandboxRunner, type SandboxPoolRunner } from '../../activities/sandbox/sandbox-runner';
import { DEFAULT_LIMITS, type SandboxLimits } from '../../activities/sandbox/types';
import { python } from './helpers/programs';

/**
 * Limits hold per run, not per process: each fork-server's runs go through a cgroup of their
 * own (memory including shared memory and tmpfs, processes, CPU time of every process), and
 * its private IPC namespace is emptied after each run. Needs a writable cgroup hierarchy and
 * root (the CI host has both); elsewhere the describe() of the runner says cgroup: null.
 */
let runner: SandboxPoolRunner;
const LIMITS: SandboxLimits = { ...DEFAULT_LIMITS, cpuMs: 1000, wallMs: 8000, memoryMb: 256 };

beforeAll(async () => {
  runner = createSandboxRunner({ size: 1 }); // one server: the IPC check needs the next run on it
  await runner.warmUp();
});

afterAll(async () => {
  await runner.close();
});

const hasCgroup = () => Boolean(runner.describe().cgroup);

describe('limits per run', () => {
  it('runs under a cgroup of its own', () => {
    expect(process.getuid?.()).toBe(0);
    expect(runner.describe().cgroup).toMatchObject({ dirs: expect.any(Array) });
  });

  it("counts the CPU time of the program's children toward the limit", async () => {
    if (!hasCgroup()) return;
    // Four children of 0.6 s each: every process is under the 1 s limit, the run is not.
    const program = 'import os, time\nfor _ in range(4):\n    if os.fork() == 0:\n        t = time.process_time()\n        while time.process_time() - t < 0.6:\n            pass\n        os._exit(0)\nfor _ in range(4):\n    os.wait()\ndef f():\n    return 1';
    const result = await runner.run(python(program, 'assert f() == 1'), LIMITS);
    expect(result.outcome).toBe('timeout');
    expect(result.detail).toMatch(/CPU time limit of 1000 ms/);
    expect(result.cpuMs).toBeGreaterThanOrEqual(1000);
  });

  it('bounds the memory of all its processes together', async () => {
    if (!hasCgroup()) return;
    // Six children of 150 MiB each, every one under the 256 MiB limit: 900 MiB together.
    const program = "import os, signal, time\nkids = []\nfor _ in range(6):\n    pid = os.fork()\n    if pid == 0:\n        b = b'x' * (150 << 20)\n        time.sleep(3)\n        os._exit(0)\n    kids.append(pid)\nkilled = sum(os.waitstatus_to_exitcode(os.waitpid(k, 0)[1]) == -signal.SIGKILL for k in kids)\nprint('killed', killed, flush=True)\ndef f():\n    return 1";
    const result = await runner.run(python(program, 'assert f() == 1'), LIMITS);
    expect(result.outcome).not.toBe('infra_error');
    // At most one child fits in 256 MiB at a time: the run's memory limit killed the others.
    const killed = Number(/killed (\d+)/.exec(result.stdout)?.[1]);
    expect(killed).toBeGreaterThanOrEqual(4);
    const probe = await runner.run(python("import os\ntotal = 0\nfor _ in range(6):\n    if os.fork() == 0:\n        b = b'x' * (150 << 20)\n        os._exit(0)\n    _, status = os.wait()\n    total += os.waitstatus_to_exitcode(status) == 0\nprint('children that held 150 MiB:', total)"), LIMITS);
    expect(probe.outcome).toBe('passed');
    expect(probe.stdout).toContain('children that held 150 MiB: 6'); // one at a time: fine
  });

  it('counts System V shared memory toward the run and removes it afterwards', async () => {
    if (!hasCgroup()) return;
    const make = [
      'import ctypes',
      'libc = ctypes.CDLL(None)',
      'libc.shmat.restype = ctypes.c_void_p',
      'made = 0',
      'for _ in range(8):',
      '    ident = libc.shmget(0, 64 << 20, 0o1600)',
      '    addr = libc.shmat(ident, None, 0)',
      '    ctypes.memset(addr, 1, 64 << 20)  # 512 MiB in all, beyond the 256 MiB limit',
      '    made += 1',
      '    print(made, flush=True)',
    ].join('\n');
    const result = await runner.run(python(make), LIMITS);
    expect(['memory_limit', 'runtime_error']).toContain(result.outcome);
    expect(result.stdout).not.toContain('8\n');
    const next = await runner.run(python("print(open('/proc/sysvipc/shm').read().splitlines()[1:])"), LIMITS);
    expect(next.outcome).toBe('passed');
    expect(next.stdout.trim()).toBe('[]');
  });

  it('cannot create a user namespace of its own (seccomp), while threads, fork and subprocesses work', async () => {
    const program = [
      'import ctypes, os, subprocess, threading',
      'libc = ctypes.CDLL(None, use_errno=True)',
      'libc.syscall.restype = ctypes.c_long',
      'CLONE_NEWUSER, CLONE_NEWNS = 0x10000000, 0x00020000',
      "print('unshare', libc.unshare(CLONE_NEWUSER | CLONE_NEWNS), os.strerror(ctypes.get_errno()))",
      "if hasattr(os, 'unshare'):",
      '    try:',
      '        os.unshare(os.CLONE_NEWUSER)',
      "        print('os.unshare created one')",
      '    except OSError as e:',
      "        print('os.unshare', e.strerror)",
      "print('clone', libc.syscall(56, CLONE_NEWUSER | 17, 0, 0, 0, 0), os.strerror(ctypes.get_errno()))",
      "print('clone3', libc.syscall(435, 0, 0), os.strerror(ctypes.get_errno()))",
      "p = subprocess.run(['unshare', '-U', '-r', 'id', '-u'], capture_output=True, text=True)",
      "print('unshare -U', p.returncode, repr(p.stdout), p.stderr.strip())",
      "t = threading.Thread(target=lambda: print('thread ran')); t.start(); t.join()",
      'pid = os.fork()',
      'if pid == 0:',
      '    os._exit(7)',
      "print('fork', os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))",
      "print(subprocess.run(['echo', 'subprocess ran'], capture_output=True, text=True).stdout.strip())",
    ].join('\n');
    const result = await runner.run(python(program), LIMITS);
    expect(result.outcome, result.stderr).toBe('passed');
    const out = result.stdout;
    expect(out).toContain('unshare -1 Operation not permitted');
    expect(out).not.toContain('os.unshare created one');
    expect(out).toContain('clone -1 Operation not permitted');
    expect(out).toContain('clone3 -1 Function not implemented');
    expect(out).toMatch(/unshare -U 1 '' unshare: unshare failed: Operation not permitted/);
    expect(out).toContain('thread ran');
    expect(out).toContain('fork 7');
    expect(out).toContain('subprocess ran');
  });
});

describe('what a program can see', () => {
  it('is a short allow-list: its root has the system, the interpreter, its work dir, and nothing else', async () => {
    const program = [
      'import os, sys',
      "print('ROOT', sorted(os.listdir('/')))",
      `for path in ${JSON.stringify([PROJECT_ROOT, '/home', '/work', '/sys', '/run', '/var', '/etc/shadow', '/etc/hostname', '/mnt', '/opt'])}:`,
      '    if sys.prefix.startswith(path + "/"):',
      '        continue',
      "    print('EXISTS' if os.path.lexists(path) else 'ABSENT', path)",
      "print('DEV', sorted(os.listdir('/dev')))",
      '# a home dir is there only as the way to the interpreter (pyenv): nothing else in it',
      `home = ${JSON.stringify(os.homedir())}`,
      'if os.path.isdir(home) and sys.prefix.startswith(home + "/"):',
      "    print('HOME', os.listdir(home) == [sys.prefix[len(home) + 1:].split('/')[0]])",
      'else:',
      "    print('HOME', not os.path.exists(home))",
      "print('PROCS', len([p for p in os.listdir('/proc') if p.isdigit()]))",
      'try:',
      "    open('/usr/feedloop-write-probe', 'w')",
      "    print('WROTE /usr')",
      'except OSError:',
      "    print('/usr read-only')",
    ].join('\n');
    const result = await runner.run(python(program), LIMITS);
    expect(result.outcome).toBe('passed');
    const root = JSON.parse(/ROOT (.*)/.exec(result.stdout)![1]!.replace(/'/g, '"')) as string[];
    for (const entry of root) expect(['bin', 'dev', 'etc', 'lib', 'lib32', 'lib64', 'libx32', 'proc', 'sbin', 'tmp', 'usr', 'root', 'opt', 'home']).toContain(entry);
    expect(result.stdout).not.toMatch(/^EXISTS/m);
    expect(result.stdout).toContain('HOME True');
    expect(result.stdout).toContain('/usr read-only');
    expect(result.stdout).toMatch(/DEV \['fd', 'full', 'null', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'tty', 'urandom', 'zero'\]/);
    // its /proc is its server's PID namespace: the server, its judge and helpers, and the program
    expect(Number(/PROCS (\d+)/.exec(result.stdout)![1])).toBeLessThan(12);
  });
});

import { execFileSync, spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../infra/paths';

/**
 * How the fork-servers get their private namespaces on this host.
 *  - root: `unshare` new network, mount and PID namespaces; programs run under dedicated uids.
 *  - userns: the same from an unprivileged user, via a user namespace; programs keep the
 *    worker's uid (mapped to root in the namespace) with every capability dropped.
 * Without either, sandboxing is refused: there is no silent unisolated fallback.
 */
export type IsolationMode = 'root' | 'userns';

export class SandboxUnavailableError extends Error {
  override name = 'SandboxUnavailableError';
}

const NAMESPACE_FLAGS = ['--net', '--mount', '--pid', '--ipc', '--fork', '--kill-child', '--mount-proc'];

export interface Isolation {
  mode: IsolationMode;
  /** the command prefix that starts a process in fresh namespaces */
  unshare: string[];
}

let detected: Isolation | undefined;

export function detectIsolation(): Isolation {
  if (detected) return detected;
  if (process.getuid?.() === 0) {
    detected = { mode: 'root', unshare: ['unshare', ...NAMESPACE_FLAGS] };
    return detected;
  }
  const userns = ['unshare', '--user', '--map-root-user', ...NAMESPACE_FLAGS];
  const probe = spawnSync(userns[0]!, [...userns.slice(1), 'true'], { stdio: 'ignore', timeout: 10_000 });
  if (probe.status === 0) {
    detected = { mode: 'userns', unshare: userns };
    return detected;
  }
  throw new SandboxUnavailableError(
    'the sandbox needs Linux namespaces: run the worker as root, or allow unprivileged user namespaces ' +
      '(sysctl kernel.unprivileged_userns_clone=1; on Ubuntu 24.04 also kernel.apparmor_restrict_unprivileged_userns=0). ' +
      `\`unshare --user --map-root-user --net true\` failed${probe.error ? `: ${probe.error.message}` : ''}`,
  );
}

const resolvedPythons = new Map<string, string>();

/**
 * The real interpreter behind `python` (a pyenv shim or a venv link costs start-up time and
 * may live where sandboxed programs cannot read): its `sys.executable`.
 */
export function resolvePython(python = process.env.FEEDLOOP_SANDBOX_PYTHON ?? 'python3'): string {
  const cached = resolvedPythons.get(python);
  if (cached) return cached;
  let executable: string;
  try {
    executable = execFileSync(python, ['-I', '-S', '-c', 'import sys; print(sys.executable)'], {
      env: { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: os.homedir() },
      timeout: 30_000,
    })
      .toString()
      .trim();
  } catch (err) {
    throw new SandboxUnavailableError(`cannot run the sandbox's Python interpreter \`${python}\`: ${(err as Error).message}`);
  }
  if (!executable) throw new SandboxUnavailableError(`\`${python}\` did not report sys.executable`);
  resolvedPythons.set(python, executable);
  return executable;
}

/**
 * Directories hidden from programs (an empty read-only tmpfs is mounted over them): the
 * project (configs, .env files), home dirs, /run (sockets, secrets). FEEDLOOP_SANDBOX_MASK
 * adds more, colon-separated. The interpreter and the JDK are bound back if they live below.
 */
export function defaultMaskPaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const extra = (env.FEEDLOOP_SANDBOX_MASK ?? '').split(':').filter((p) => path.isAbsolute(p));
  return [PROJECT_ROOT, os.homedir(), '/root', '/home', '/run', '/var/run', '/mnt', '/media', '/srv', ...extra];
}

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { embeddedPostgresPid } from '../../infra/postgres';
import { canConnect } from '../../infra/processes';
import { TOOLS_DIR } from '../../infra/temporal';
import { expectOneLineError, feedloop } from '../helpers/cli';
import { closedPort } from '../helpers/ports';
import { tempDir } from '../helpers/temp-dir';

/**
 * `dev up` refuses in one line (exit 2) what it cannot do, before it starts anything: a Temporal
 * port another process holds, or the cluster asked for while the dev server feedloop started in
 * the same home runs. The PostgreSQL it would have started is not left running.
 */
const cleanups: Array<() => void> = [];
afterAll(() => cleanups.forEach((c) => c()));

async function devUp(home: string, temporalPort: number, pgPort: number, args: string[] = []) {
  const env = { FEEDLOOP_HOME: home, FEEDLOOP_TOOLS_DIR: TOOLS_DIR, TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`, FEEDLOOP_PG_PORT: String(pgPort), DATABASE_URL: '', FEEDLOOP_TEMPORAL: '' };
  return feedloop(['dev', 'up', ...args], env);
}

describe('feedloop dev up: user errors', () => {
  it('a Temporal port another process holds: one line naming the port and TEMPORAL_ADDRESS, exit 2, no PostgreSQL left running', async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    cleanups.push(() => holder.close());
    const port = (holder.address() as net.AddressInfo).port;
    const home = tempDir('dev-up-port');
    const pgPort = await closedPort();
    const r = await devUp(home, port, pgPort);
    expect(r.code).toBe(2);
    expectOneLineError(r, new RegExp(`^feedloop: port ${port} \\(TEMPORAL_ADDRESS 127\\.0\\.0\\.1:${port}\\) is already in use by a process feedloop did not start: set TEMPORAL_ADDRESS`));
    expect(embeddedPostgresPid(path.join(home, 'postgres', 'data'))).toBeUndefined();
    expect(await canConnect('127.0.0.1', pgPort)).toBe(false);
  });

  it('--cluster while the dev server feedloop started in the same home runs: one line saying to stop it first, exit 2', async () => {
    const home = tempDir('dev-up-cluster');
    // A live process recorded as the home's dev server, holding the Temporal port.
    const sleeper = spawn('sleep', ['120'], { stdio: 'ignore' });
    cleanups.push(() => sleeper.kill());
    fs.mkdirSync(path.join(home, 'run'), { recursive: true });
    fs.writeFileSync(path.join(home, 'run', 'temporal.pid'), `${sleeper.pid}\n`);
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    cleanups.push(() => holder.close());
    const port = (holder.address() as net.AddressInfo).port;
    const pgPort = await closedPort();
    const r = await devUp(home, port, pgPort, ['--cluster']);
    expect(r.code).toBe(2);
    expectOneLineError(r, new RegExp(`^feedloop: the Temporal dev server feedloop started in .* runs \\(pid ${sleeper.pid}\\): stop it with \`npx feedloop dev down\` before \`dev up --cluster\``));
    expect(r.stderr).not.toContain('did not start');
    expect(await canConnect('127.0.0.1', pgPort)).toBe(false);
  });
});

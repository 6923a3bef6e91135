import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '@temporalio/client';
import { downLocalServers, isolatedEnv, upLocalServers, type LocalServers } from '../../infra/local-servers';
import { PROJECT_ROOT } from '../../infra/paths';
import { temporalConnectionOptions } from '../../infra/temporal-connection';
import { TOOLS_DIR } from '../../infra/temporal';
import { tempDir } from '../helpers/temp-dir';
import { buildTemporalServer, TEMPORAL_SERVER_BUILD_MS } from '../helpers/temporal-server';

/**
 * mTLS end to end on the local cluster: its frontend requires a client certificate signed by
 * the test's CA (certificates made here with openssl). The real worker entry point and the real
 * CLI, given TEMPORAL_TLS_CA/CERT/KEY as the Temporal CLI takes them, run an evaluation through
 * it; without a certificate, or with one another CA signed, nothing connects.
 */
const home = tempDir('mtls');
const certs = path.join(home, 'certs');
let env: Awaited<ReturnType<typeof isolatedEnv>>;
let servers: LocalServers;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: certs, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, and a certificate it signs for `name` (server and client auth: the cluster's internal worker presents the frontend's). */
function makeCa(name: string): void {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.pem`);
}
function makeCert(name: string, ca: string): void {
  fs.writeFileSync(path.join(certs, `${name}.ext`), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '1', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
}
const file = (name: string) => path.join(certs, name);

function runEntry(args: string[], extraEnv: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, FEEDLOOP_HOME: home, FEEDLOOP_TOOLS_DIR: TOOLS_DIR, TEMPORAL_ADDRESS: servers.temporalAddress, DATABASE_URL: servers.databaseUrl, FEEDLOOP_LOG_LEVEL: 'warn', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

const clientTls = { TEMPORAL_TLS_CA: file('ca.pem'), TEMPORAL_TLS_CERT: file('client.pem'), TEMPORAL_TLS_KEY: file('client.key') };

beforeAll(buildTemporalServer, TEMPORAL_SERVER_BUILD_MS);

beforeAll(async () => {
  fs.mkdirSync(certs);
  makeCa('ca');
  makeCert('frontend', 'ca');
  makeCert('client', 'ca');
  makeCa('other-ca');
  makeCert('stranger', 'other-ca');
  env = await isolatedEnv(home, { FEEDLOOP_TEMPORAL: 'cluster' });
  servers = await upLocalServers(env, { tls: { certFile: file('frontend.pem'), keyFile: file('frontend.key'), caFile: file('ca.pem'), requireClientAuth: true } });
});

afterAll(async () => {
  if (env) await downLocalServers(env);
  fs.rmSync(home, { recursive: true, force: true });
});

describe('mTLS on the local cluster', () => {
  it('refuses clients without a certificate its CA signed', async () => {
    const attempt = (s: Parameters<typeof temporalConnectionOptions>[1]) =>
      Connection.connect({ ...temporalConnectionOptions(servers.temporalAddress, s), connectTimeout: '3s' }).then(async (c) => {
        // the handshake may only fail on the first call
        try {
          await c.workflowService.getSystemInfo({});
        } finally {
          await c.close();
        }
      });
    await expect(attempt({})).rejects.toThrow();
    await expect(attempt({ caFile: file('ca.pem') })).rejects.toThrow();
    await expect(attempt({ caFile: file('ca.pem'), certFile: file('stranger.pem'), keyFile: file('stranger.key') })).rejects.toThrow();
    await expect(attempt({ caFile: file('ca.pem'), certFile: file('client.pem'), keyFile: file('client.key') })).resolves.toBeUndefined();
  });

  it('runs the worker entry point and the CLI over mTLS with the Temporal CLI variables', async () => {
    const worker = runEntry([path.join('workers', 'combined.ts'), '--gpus', '1', '--host-id', 'mtls-host'], { ...clientTls, FEEDLOOP_LOG_LEVEL: 'info' });
    try {
      const deadline = Date.now() + 90_000;
      while (!worker.output().includes('"workers started"')) {
        if (Date.now() > deadline) throw new Error(`worker did not start:\n${worker.output()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const evalRun = runEntry([path.join('cli', 'main.ts'), 'eval', '--split', 'prompt', '--policy', 'gold', '--json'], clientTls);
      expect(await evalRun.exited, evalRun.output()).toBe(0);
      const summary = JSON.parse(evalRun.output().slice(evalRun.output().indexOf('{')));
      expect(summary.passAtK['1']).toBe(1);

      // the same command without the client certificate: one clear line, non-zero exit
      const refused = runEntry([path.join('cli', 'main.ts'), 'eval', '--split', 'prompt', '--policy', 'gold', '--json'], { TEMPORAL_TLS_CA: file('ca.pem') });
      expect(await refused.exited).not.toBe(0);
      const missing = runEntry([path.join('cli', 'main.ts'), 'eval', '--split', 'prompt'], { TEMPORAL_TLS_CERT: file('client.pem') });
      expect(await missing.exited).toBe(2);
      expect(missing.output()).toContain('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY');
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
  });
});

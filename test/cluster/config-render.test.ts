import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { PROJECT_ROOT } from '../../infra/paths';
import { TEMPORAL_SERVER_CONFIG, findTemporalServer } from '../../infra/temporal-cluster';
import { tempDir } from '../helpers/temp-dir';

/**
 * One configuration file for every way the server runs: rendered by the real server binary
 * (`render-config`) with the environment compose.yaml and the k8s manifests give it, it points
 * at their PostgreSQL and their frontend, and the TLS section appears only when asked for.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the rendered config is checked field by field
function render(env: Record<string, string>): Record<string, any> {
  const dir = tempDir('render');
  fs.mkdirSync(path.join(dir, 'config'));
  // render-config reads <config dir>/<env>.yaml
  fs.copyFileSync(TEMPORAL_SERVER_CONFIG, path.join(dir, 'config', 'development.yaml'));
  const out = execFileSync(findTemporalServer().server, ['render-config'], { cwd: dir, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  return parse(out);
}

describe('infra/temporal-server/config.yaml', () => {
  it("renders compose.yaml's environment to its PostgreSQL and frontend service", () => {
    const compose = parse(fs.readFileSync(path.join(PROJECT_ROOT, 'infra', 'compose.yaml'), 'utf8'), { merge: true });
    const cfg = render({ ...compose.services['temporal-history'].environment, POSTGRES_PWD: 'pw', TEMPORAL_BROADCAST_ADDRESS: '10.0.0.5' });
    expect(cfg.persistence.datastores.default.sql.connectAddr).toBe('postgresql:5432');
    expect(cfg.persistence.datastores.visibility.sql.databaseName).toBe('temporal_visibility');
    expect(cfg.publicClient.hostPort).toBe('temporal-frontend:7233');
    expect(cfg.global.membership.broadcastAddress).toBe('10.0.0.5');
    expect(cfg.services.frontend.rpc.bindOnIP).toBe('0.0.0.0');
    expect(cfg.global.tls.frontend.server.certFile).toBe('');
  });

  it("renders the k8s manifests' literal environment the same way, and TLS when asked for", () => {
    const docs = parseAllDocuments(fs.readFileSync(path.join(PROJECT_ROOT, 'infra', 'k8s', 'temporal.yaml'), 'utf8')).map((d) => d.toJS());
    const matching = docs.find((d) => d.metadata.name === 'temporal-matching');
    const literal = Object.fromEntries(matching.spec.template.spec.containers[0].env.filter((e: { value?: string }) => e.value !== undefined).map((e: { name: string; value: string }) => [e.name, e.value]));
    const cfg = render({ ...literal, POSTGRES_SEEDS: 'pg.example', POSTGRES_USER: 'temporal', TEMPORAL_TLS_FRONTEND_CERT: '/tls/cert.pem', TEMPORAL_TLS_FRONTEND_KEY: '/tls/key.pem', TEMPORAL_TLS_CLIENT_CA_CERT: '/tls/ca.pem', TEMPORAL_TLS_REQUIRE_CLIENT_AUTH: 'true' });
    expect(cfg.persistence.datastores.default.sql.connectAddr).toBe('pg.example:5432');
    expect(cfg.publicClient.hostPort).toBe('temporal-frontend.temporal:7233');
    expect(cfg.services.matching.rpc.grpcPort).toBe(7235);
    expect(cfg.global.tls.frontend.server).toMatchObject({ certFile: '/tls/cert.pem', requireClientAuth: true, clientCaFiles: ['/tls/ca.pem'] });
    expect(cfg.global.tls.systemWorker.certFile).toBe('/tls/cert.pem');
  });
});

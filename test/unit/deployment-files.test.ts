import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { PROJECT_ROOT } from '../../infra/paths';
import { SEARCH_ATTRIBUTES } from '../../common/search-attributes';

/**
 * Compose and Kubernetes files cannot run here (no Docker, no cluster), so check what can be
 * checked: they parse, they start the entry points that exist, GPU workers ask for GPUs, and
 * no secret is written into them.
 */
const infra = path.join(PROJECT_ROOT, 'infra');

describe('infra/compose.yaml', () => {
  const compose = parse(fs.readFileSync(path.join(infra, 'compose.yaml'), 'utf8'));

  it('has the Temporal server on PostgreSQL, the UI and both workers', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['cpu-worker', 'gpu-worker', 'postgresql', 'temporal', 'temporal-admin-tools', 'temporal-ui']);
    expect(compose.services.temporal.environment.DB).toMatch(/^postgres/);
  });

  it('runs worker entry points that exist, and reserves GPUs for the GPU worker only', () => {
    for (const name of ['cpu-worker', 'gpu-worker']) {
      const entry = compose.services[name].command[0];
      expect(fs.existsSync(path.join(PROJECT_ROOT, entry)), entry).toBe(true);
    }
    expect(compose.services['gpu-worker'].deploy.resources.reservations.devices[0].capabilities).toContain('gpu');
    expect(compose.services['cpu-worker'].deploy).toBeUndefined();
    expect(fs.existsSync(path.join(infra, path.basename(compose.services['cpu-worker'].build.dockerfile)))).toBe(true);
  });

  it('registers every search attribute feedloop sets', () => {
    const script = compose.services['temporal-admin-tools'].command.join(' ');
    for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) expect(script).toContain(`--name ${name} --type ${type}`);
  });
});

describe('infra/k8s', () => {
  const docs = fs
    .readdirSync(path.join(infra, 'k8s'))
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(infra, 'k8s', f), 'utf8')).map((d) => ({ file: f, doc: d })));

  it('parses without errors', () => {
    expect(docs.length).toBeGreaterThanOrEqual(2);
    for (const { file, doc } of docs) expect(doc.errors, file).toEqual([]);
  });

  const deployments = docs.map(({ doc }) => doc.toJS()).filter((d) => d.kind === 'Deployment');

  it('has CPU and GPU worker Deployments with matching selectors', () => {
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['feedloop-cpu-worker', 'feedloop-gpu-worker']);
    for (const d of deployments) {
      expect(d.apiVersion).toBe('apps/v1');
      expect(d.spec.template.metadata.labels).toMatchObject(d.spec.selector.matchLabels);
      const entry = d.spec.template.spec.containers[0].args[0];
      expect(fs.existsSync(path.join(PROJECT_ROOT, entry)), entry).toBe(true);
    }
  });

  it('GPU workers request nvidia.com/gpu and CPU workers do not', () => {
    const gpu = deployments.find((d) => d.metadata.name === 'feedloop-gpu-worker');
    const cpu = deployments.find((d) => d.metadata.name === 'feedloop-cpu-worker');
    expect(gpu.spec.template.spec.containers[0].resources.limits['nvidia.com/gpu']).toBeGreaterThanOrEqual(1);
    expect(cpu.spec.template.spec.containers[0].resources.limits['nvidia.com/gpu']).toBeUndefined();
  });

  it('takes DATABASE_URL from a Secret, never inline', () => {
    for (const d of deployments) {
      const dbEnv = d.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === 'DATABASE_URL');
      expect(dbEnv.value).toBeUndefined();
      expect(dbEnv.valueFrom.secretKeyRef.name).toBeTruthy();
    }
  });
});

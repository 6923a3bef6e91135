import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { PROJECT_ROOT } from '../../infra/paths';
import { SEARCH_ATTRIBUTES } from '../../common/search-attributes';
import { CLUSTER_SERVICES, DEFAULT_CLUSTER_PORTS, TEMPORAL_SERVER_VERSION } from '../../infra/temporal-cluster';

/**
 * Compose and Kubernetes files cannot run here (no Docker, no cluster), so check what can be
 * checked: they parse, they start the entry points that exist, GPU workers ask for GPUs, and
 * no secret is written into them.
 */
const infra = path.join(PROJECT_ROOT, 'infra');

describe('infra/compose.yaml', () => {
  const compose = parse(fs.readFileSync(path.join(infra, 'compose.yaml'), 'utf8'), { merge: true });

  it('has the Temporal services on PostgreSQL, the UI and both workers', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['cpu-worker', 'gpu-worker', 'postgresql', 'temporal-admin-tools', 'temporal-schema', 'temporal-ui', ...CLUSTER_SERVICES.map((s) => `temporal-${s}`)].sort(),
    );
  });

  it('runs the server version and the configuration file `dev up --cluster` runs', () => {
    const version = TEMPORAL_SERVER_VERSION.replace(/^v/, '');
    for (const s of CLUSTER_SERVICES) {
      const svc = compose.services[`temporal-${s}`];
      expect(svc.image).toBe(`temporalio/server:${version}`);
      expect(svc.command).toEqual([s]);
      expect(svc.entrypoint.join(' ')).toContain('--config-file /etc/feedloop/temporal/config.yaml');
      expect(svc.volumes).toContain('./temporal-server:/etc/feedloop/temporal:ro');
      expect(svc.environment.POSTGRES_SEEDS).toBe('postgresql');
    }
    expect(compose.services['temporal-schema'].image).toBe(`temporalio/admin-tools:${version}`);
    expect(compose.services['temporal-frontend'].ports).toEqual([`127.0.0.1:${DEFAULT_CLUSTER_PORTS.frontend.grpc}:${DEFAULT_CLUSTER_PORTS.frontend.grpc}`]);
    expect(fs.existsSync(path.join(infra, 'temporal-server', 'config.yaml'))).toBe(true);
  });

  it('runs worker entry points that exist, and reserves GPUs for the GPU worker only', () => {
    for (const name of ['cpu-worker', 'gpu-worker']) {
      const entry = compose.services[name].command[0];
      expect(fs.existsSync(path.join(PROJECT_ROOT, entry)), entry).toBe(true);
    }
    expect(compose.services['gpu-worker'].deploy.resources.reservations.devices[0].capabilities).toContain('gpu');
    expect(compose.services['cpu-worker'].deploy).toBeUndefined();
    // Checkpoints: the shared store on a named volume, the host's cache on a volume of its own.
    const gpuEnv = compose.services['gpu-worker'].environment;
    const mounts = new Map((compose.services['gpu-worker'].volumes as string[]).map((v) => [v.split(':')[1], v.split(':')[0]]));
    expect(mounts.get(gpuEnv.FEEDLOOP_HOME)).toBeTruthy();
    expect(mounts.get(gpuEnv.FEEDLOOP_HOST_CACHE)).toBeTruthy();
    expect(mounts.get(gpuEnv.FEEDLOOP_HOST_CACHE)).not.toBe(mounts.get(gpuEnv.FEEDLOOP_HOME));
    for (const volume of mounts.values()) expect(Object.keys(compose.volumes)).toContain(volume);
    expect(fs.existsSync(path.join(infra, path.basename(compose.services['cpu-worker'].build.dockerfile)))).toBe(true);
  });

  it('registers every search attribute feedloop sets', () => {
    const script = compose.services['temporal-admin-tools'].command.join(' ');
    for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) expect(script).toContain(`--namespace default --name ${name} --type ${type}`);
  });
});

describe('infra/k8s', () => {
  const docs = fs
    .readdirSync(path.join(infra, 'k8s'))
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(infra, 'k8s', f), 'utf8')).map((d) => ({ file: f, doc: d })));

  it('parses without errors', () => {
    expect(docs.length).toBeGreaterThanOrEqual(7);
    for (const { file, doc } of docs) expect(doc.errors, file).toEqual([]);
  });

  const all = docs.map(({ doc }) => doc.toJS());
  const deployments = all.filter((d) => d.kind === 'Deployment' && d.metadata.name.startsWith('feedloop-'));
  const temporal = all.filter((d) => d.kind === 'Deployment' && d.metadata.labels['app.kubernetes.io/name'] === 'temporal');

  it('runs each Temporal service on the pinned version, the shared config file and its ports', () => {
    expect(temporal.map((d) => d.metadata.name).sort()).toEqual(CLUSTER_SERVICES.map((s) => `temporal-${s}`).sort());
    const kustomization = parse(fs.readFileSync(path.join(infra, 'kustomization.yaml'), 'utf8'));
    const configMap = kustomization.configMapGenerator[0];
    for (const f of configMap.files) expect(fs.existsSync(path.join(infra, f)), f).toBe(true);
    for (const r of kustomization.resources) expect(fs.existsSync(path.join(infra, r)), r).toBe(true);
    for (const d of temporal) {
      const service = d.metadata.labels['app.kubernetes.io/component'] as (typeof CLUSTER_SERVICES)[number];
      const c = d.spec.template.spec.containers[0];
      expect(c.image).toBe(`temporalio/server:${TEMPORAL_SERVER_VERSION.replace(/^v/, '')}`);
      expect(c.command.slice(-2)).toEqual(['--service', service]);
      expect(c.ports.map((p: { containerPort: number }) => p.containerPort)).toEqual([DEFAULT_CLUSTER_PORTS[service].grpc, DEFAULT_CLUSTER_PORTS[service].membership]);
      expect(d.spec.template.spec.volumes[0].configMap.name).toBe(configMap.name);
      expect(c.env.find((e: { name: string }) => e.name === 'POSTGRES_PWD').valueFrom.secretKeyRef).toBeTruthy();
    }
  });

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

  it('GPU pods name their host queue after the pod and keep their checkpoint cache off the shared volume', () => {
    const pod = deployments.find((d) => d.metadata.name === 'feedloop-gpu-worker').spec.template.spec;
    const env = (name: string) => pod.containers[0].env.find((e: { name: string }) => e.name === name);
    expect(env('FEEDLOOP_HOST_ID').valueFrom.fieldRef.fieldPath).toBe('metadata.name');
    const mountAt = (dir: string) => pod.containers[0].volumeMounts.find((m: { mountPath: string }) => m.mountPath === dir);
    const cache = mountAt(env('FEEDLOOP_HOST_CACHE').value);
    const shared = mountAt(env('FEEDLOOP_HOME').value);
    expect(pod.volumes.find((v: { name: string }) => v.name === cache.name).emptyDir).toBeTruthy();
    expect(pod.volumes.find((v: { name: string }) => v.name === shared.name).persistentVolumeClaim).toBeTruthy();
  });

  it('takes DATABASE_URL from a Secret, never inline', () => {
    for (const d of deployments) {
      const dbEnv = d.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === 'DATABASE_URL');
      expect(dbEnv.value).toBeUndefined();
      expect(dbEnv.valueFrom.secretKeyRef.name).toBeTruthy();
    }
  });
});

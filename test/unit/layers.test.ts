import fs from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/paths';

/**
 * The layering the lint enforces, checked on probe files that break it (written into the tree
 * for the run and removed after), and the import graph of the project's own files: no circle.
 */
const probes: string[] = [];
function probe(rel: string, text: string): string {
  const file = path.join(PROJECT_ROOT, rel);
  fs.writeFileSync(file, text);
  probes.push(file);
  return file;
}
afterAll(() => {
  for (const f of probes) fs.rmSync(f, { force: true });
});

async function lintMessages(file: string): Promise<string[]> {
  const [result] = await new ESLint({ cwd: PROJECT_ROOT }).lintFiles([file]);
  return result!.messages.map((m) => `${m.line}: ${m.ruleId}: ${m.message}`);
}

/** Every project file (tests and data aside) and the project files it imports, type-only imports included. */
function importGraph(): Map<string, string[]> {
  const skip = new Set(['node_modules', 'test', 'data', '.git', '.feedloop']);
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.') || skip.has(e.name)) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.m?ts$/.test(e.name) && !e.name.endsWith('.d.ts') && !e.name.includes('zz-layer-probe')) files.push(p);
    }
  };
  walk(PROJECT_ROOT);
  const importRe = /(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;
  const resolve = (from: string, spec: string) => [spec, `${spec}.ts`, `${spec}.mts`, path.join(spec, 'index.ts')].map((c) => path.resolve(path.dirname(from), c)).find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
  return new Map(files.map((f) => [f, [...fs.readFileSync(f, 'utf8').matchAll(importRe)].map((m) => resolve(f, m[1] ?? m[2]!)).filter((t): t is string => !!t && t !== f)]));
}

describe('layers', () => {
  it('workflow code value-imports only workflow-safe modules and reads no environment', async () => {
    // A loop's workflow-side file (loops/*/*-protocol.ts is workflow code, as workflow.ts and types.ts are).
    const file = probe(
      'loops/ilf/zz-layer-probe-protocol.ts',
      [
        "import { parseIlfCampaignConfig } from './config';",
        "import { createPool } from '../../infra/pool';",
        "import type { IlfCampaignConfig } from './config';",
        "import { campaignIds } from '../../common/campaign';",
        "import { ilfIds } from './types';",
        'export const probe = (c: IlfCampaignConfig) => [parseIlfCampaignConfig, createPool, campaignIds, ilfIds, c, process.env.X];',
        '',
      ].join('\n'),
    );
    const messages = await lintMessages(file);
    expect(messages.filter((m) => m.includes('feedloop/layers')).map((m) => m.split(':')[0])).toEqual(['1', '2']);
    expect(messages.some((m) => m.startsWith('6: no-restricted-properties'))).toBe(true);
  });

  it('common/ imports nothing above it, types included, and does no I/O', async () => {
    const file = probe(
      'common/zz-layer-probe.ts',
      [
        "import fs from 'node:fs';",
        "import type { CodeTask } from '../activities/datasets/registry';",
        "import { z } from 'zod';",
        "import { CODE_DATASETS } from './datasets';",
        'export const probe = (t: CodeTask) => [fs, t, z, CODE_DATASETS];',
        '',
      ].join('\n'),
    );
    const messages = await lintMessages(file);
    expect(messages.filter((m) => m.includes('feedloop/layers')).map((m) => m.split(':')[0])).toEqual(['1', '2']);
  });

  it('shared code imports nothing from loops/, workers/ or cli/, types included; only the bundle index lists loops', async () => {
    const capability = probe(
      'activities/zz-layer-probe.ts',
      [
        "import { LOOPS } from '../loops/registry';",
        "import type { IlfCampaignConfig } from '../loops/ilf/config';",
        "import { createCpuActivities } from '../workers/cpu-activities';",
        "import { PROJECT_ROOT } from '../infra/paths';",
        "import { ConfigError } from '../common/config-error';",
        "import pg from 'pg';",
        'export const probe = (c: IlfCampaignConfig) => [LOOPS, c, createCpuActivities, PROJECT_ROOT, ConfigError, pg];',
        '',
      ].join('\n'),
    );
    expect((await lintMessages(capability)).filter((m) => m.includes('feedloop/layers')).map((m) => m.split(':')[0])).toEqual(['1', '2', '3']);
    const kernel = probe(
      'workflows/zz-layer-probe.ts',
      [
        "import { ilfCampaignWorkflow } from '../loops/ilf/workflow';",
        "import type { IlfCampaignConfig } from '../loops/ilf/config';",
        "import type { CpuActivities } from '../workers/cpu-activities';",
        "import type { createSandboxActivities } from '../activities/sandbox/run-tests-batch';",
        "import { campaignIds } from '../common/campaign';",
        'export const probe = (c: IlfCampaignConfig, a: CpuActivities, s: typeof createSandboxActivities) => [ilfCampaignWorkflow, c, a, s, campaignIds];',
        '',
      ].join('\n'),
    );
    expect((await lintMessages(kernel)).filter((m) => m.includes('feedloop/layers')).map((m) => m.split(':')[0])).toEqual(['1', '2', '3']);
    expect((await lintMessages(path.join(PROJECT_ROOT, 'workflows/index.ts'))).filter((m) => m.includes('feedloop/layers'))).toEqual([]);
  });

  it('infra/ imports nothing from activities/ (or anything above it), types included', async () => {
    const file = probe(
      'infra/zz-layer-probe.ts',
      [
        "import type { SandboxRunner } from '../activities/sandbox/types';",
        "import { createCampaignStoreActivities } from '../activities/store/campaigns';",
        "import { PROJECT_ROOT } from './paths';",
        "import { ConfigError } from '../common/config-error';",
        'export const probe = (r: SandboxRunner) => [r, createCampaignStoreActivities, PROJECT_ROOT, ConfigError];',
        '',
      ].join('\n'),
    );
    expect((await lintMessages(file)).filter((m) => m.includes('feedloop/layers')).map((m) => m.split(':')[0])).toEqual(['1', '2']);
  });

  it('in the import graph: no shared capability imports loops/, workers/ or cli/; infra/ imports no activities/; only workflows/index.ts reaches up into loops/', () => {
    const graph = importGraph();
    const edges = [...graph].flatMap(([from, tos]) => tos.map((to) => [path.relative(PROJECT_ROOT, from), path.relative(PROJECT_ROOT, to)] as const));
    const upward = edges.filter(([from, to]) => /^(activities|audit|common)\//.test(from) && /^(loops|workers|cli)\//.test(to));
    expect(upward).toEqual([]);
    expect(edges.filter(([from, to]) => from.startsWith('infra/') && !/^(infra|common)\//.test(to))).toEqual([]);
    expect([...new Set(edges.filter(([from, to]) => from.startsWith('workflows/') && /^(loops|workers|cli)\//.test(to)).map(([from]) => from))]).toEqual(['workflows/index.ts']);
  });

  it('the project has no import circle (type-only imports count)', () => {
    const graph = importGraph();
    const files = [...graph.keys()];
    // Depth-first search for a back edge.
    const state = new Map<string, 'open' | 'done'>();
    const circles: string[] = [];
    const visit = (f: string, trail: string[]) => {
      state.set(f, 'open');
      for (const t of graph.get(f) ?? []) {
        if (state.get(t) === 'open') circles.push([...trail.slice(trail.indexOf(t)), t].map((p) => path.relative(PROJECT_ROOT, p)).join(' -> '));
        else if (!state.has(t)) visit(t, [...trail, t]);
      }
      state.set(f, 'done');
    };
    for (const f of files) if (!state.has(f)) visit(f, [f]);
    expect(files.length).toBeGreaterThan(100);
    expect(circles).toEqual([]);
  });
});

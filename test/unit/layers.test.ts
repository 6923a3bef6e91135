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

describe('layers', () => {
  it('workflow code value-imports only workflow-safe modules and reads no environment', async () => {
    const file = probe(
      'workflows/zz-layer-probe.ts',
      [
        "import { parseIlfCampaignConfig } from '../loops/ilf/config';",
        "import { createPool } from '../activities/store/pool';",
        "import type { IlfCampaignConfig } from '../loops/ilf/config';",
        "import { campaignIds } from '../common/campaign';",
        "import { ilfIds } from '../loops/ilf/types';",
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

  it('the project has no import circle (type-only imports count)', () => {
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
    const graph = new Map(files.map((f) => [f, [...fs.readFileSync(f, 'utf8').matchAll(importRe)].map((m) => resolve(f, m[1] ?? m[2]!)).filter((t): t is string => !!t && t !== f)]));
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

import { Command } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerMetricsCommands } from '../../cli/metrics';
import { tempDir } from '../helpers/temp-dir';

describe('feedloop metrics', () => {
  let dir: string;
  let printed: string[];

  beforeEach(() => {
    dir = tempDir('metrics');
    printed = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      printed.push(args.join(' '));
    });
  });

  afterEach(() => {
    vi.restoreAllMocks();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function program(): Command {
    const root = new Command('feedloop').exitOverride();
    registerMetricsCommands(root);
    return root;
  }

  function file(name: string, text: string): string {
    const target = path.join(dir, name);
    fs.writeFileSync(target, text);
    return target;
  }

  it('codebleu --json prints the five scores', async () => {
    const reference = file('ref.java', 'class A { int f(int a) { int b = a + 1; return b; } }');
    const candidate = file('cand.java', 'class A { int f(int x) { int y = x + 1; return y; } }');
    await program().parseAsync(['node', 'feedloop', 'metrics', 'codebleu', '--lang', 'java', '--reference', reference, '--candidate', candidate, '--json']);
    const scores = JSON.parse(printed.join('\n')) as Record<string, number>;
    expect(Object.keys(scores).sort()).toEqual(['codebleu', 'dataflow_match', 'ngram_match', 'syntax_match', 'weighted_ngram_match']);
    expect(scores.syntax_match).toBe(1);
    expect(scores.dataflow_match).toBe(1);
    expect(scores.ngram_match).toBeLessThan(1);
  });

  it('ast-match --json prints the verdict and the matched API', async () => {
    const response = file('response.txt', "<<<domain>>>: Video Classification, <<<api_call>>>: torch.hub.load('facebookresearch/pytorchvideo', 'slow_r50', pretrained=True), <<<api_provider>>>: PyTorch");
    await program().parseAsync(['node', 'feedloop', 'metrics', 'ast-match', '--hub', 'torchhub', '--question-id', '1', '--response', response, '--json']);
    const result = JSON.parse(printed.join('\n')) as { verdict: string; matched_api: { api_call: string; domain: string } | null };
    expect(result.verdict).toBe('correct');
    expect(result.matched_api?.api_call).toBe("torch.hub.load(repo_or_dir='facebookresearch/pytorchvideo', model='slow_r50', pretrained=True)");
    expect(result.matched_api?.domain).toBe('Video Classification');
  });

  it('refuses an unknown language or hub', async () => {
    const f = file('x.txt', 'x');
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await expect(program().parseAsync(['node', 'feedloop', 'metrics', 'codebleu', '--lang', 'rust', '--reference', f, '--candidate', f])).rejects.toThrow(/invalid/i);
    await expect(program().parseAsync(['node', 'feedloop', 'metrics', 'ast-match', '--hub', 'pypi', '--question-id', '1', '--response', f])).rejects.toThrow(/invalid/i);
  });
});

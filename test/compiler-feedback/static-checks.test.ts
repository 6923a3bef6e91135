import { describe, expect, it } from 'vitest';
import { checkSignature, LINT_CHECKS, lintFindings, normalizeJavaType, promptSignature, runStaticChecks, STATIC_CHECKS_VERSION } from '../../loops/rlcf/activities/static-checks';
import { loadMbjp, mathQaJavaEval } from '../../activities/datasets/mbjp-split';
import type { CompilerDiagnostic, DeclaredMethod } from '../../activities/sandbox/types';

/** The pure parts of stage b: the prompt's method header, type spelling, the lint list. */
describe('promptSignature', () => {
  it('reads the method header of every MBJP and MathQA-Java prompt, named as the task\'s entry point', () => {
    const tasks = [...loadMbjp().tasks, ...mathQaJavaEval()];
    expect(tasks).toHaveLength(966 + 1883);
    for (const t of tasks) expect(promptSignature(t.prompt)?.name, t.taskId).toBe(t.entryPoint);
  });

  it('splits generic parameters at top-level commas only', () => {
    const prompt = 'import java.util.*;\nclass Counter {\n    /** doc */\n    public static HashMap<String, List<Integer>> group(final Map<String, Integer> m, int[] xs, String... rest) {\n';
    expect(promptSignature(prompt)).toEqual({ className: 'Counter', name: 'group', returns: 'HashMap<String,List<Integer>>', params: ['Map<String,Integer>', 'int[]', 'String[]'], static: true });
  });

  it('is null for a prompt that ends with no method header', () => {
    expect(promptSignature('class A {\n  int x;\n}\n')).toBeNull();
  });
});

describe('checkSignature', () => {
  const expected = promptSignature('class MinCost {\n    public static int minCost(List<List<Integer>> cost, int m, int n) {\n')!;
  const declared = (over: Partial<DeclaredMethod> = {}): DeclaredMethod => ({ class: 'MinCost', name: 'minCost', returns: 'int', static: true, params: ['java.util.List<java.util.List<java.lang.Integer>>', 'int', 'int'], ...over });

  it('matches javac\'s qualified types against the prompt\'s simple ones', () => {
    expect(normalizeJavaType('java.util.Map<java.lang.String, java.util.List<java.lang.Integer>>')).toBe('Map<String,List<Integer>>');
    expect(normalizeJavaType('java.util.Map.Entry<K,V>')).toBe('Map.Entry<K,V>');
    expect(checkSignature(expected, [declared()])).toEqual({ status: 'ok' });
    // an overload beside the right method is fine
    expect(checkSignature(expected, [declared({ params: ['int'] }), declared()])).toEqual({ status: 'ok' });
  });

  it('names what is wrong', () => {
    expect(checkSignature(expected, [declared({ returns: 'long' })])).toMatchObject({ status: 'wrong_signature', detail: expect.stringContaining('expected static int minCost(List<List<Integer>>, int, int), found static long minCost') });
    expect(checkSignature(expected, [declared({ static: false })]).status).toBe('wrong_signature');
    expect(checkSignature(expected, [declared({ params: ['int', 'int'] })]).status).toBe('wrong_signature');
    expect(checkSignature(expected, [declared({ name: 'min_cost' })]).status).toBe('missing_method');
    expect(checkSignature(expected, [declared({ class: 'Solution' })]).status).toBe('missing_class');
    expect(checkSignature(null, [declared()]).status).toBe('skipped');
  });
});

describe('lint checks', () => {
  const warn = (code: string, kind: CompilerDiagnostic['kind'] = 'WARNING'): CompilerDiagnostic => ({ kind, code, line: 3, column: 1, message: `${code} message` });

  it('is versioned and lists each category with its javac codes and a reason', () => {
    expect(STATIC_CHECKS_VERSION).toBe('rlcf-static-checks-v1');
    expect(LINT_CHECKS.map((c) => c.category)).toEqual(['divzero', 'empty', 'fallthrough', 'finally', 'overrides']);
    for (const c of LINT_CHECKS) {
      expect(c.codes.length).toBeGreaterThan(0);
      expect(c.why.length).toBeGreaterThan(20);
    }
  });

  it('fails on listed warnings only', () => {
    const items = [warn('compiler.warn.div.zero'), warn('compiler.warn.redundant.cast'), warn('compiler.warn.prob.found.req', 'MANDATORY_WARNING'), warn('compiler.err.cant.resolve', 'ERROR')];
    expect(lintFindings(items)).toEqual([{ category: 'divzero', line: 3, message: 'compiler.warn.div.zero message' }]);
    const ok: DeclaredMethod[] = [{ class: 'A', name: 'f', returns: 'int', static: true, params: [] }];
    const sig = promptSignature('class A {\n public static int f() {\n');
    expect(runStaticChecks(items.slice(1), ok, sig)).toEqual({ version: STATIC_CHECKS_VERSION, passed: true, lint: [], signature: { status: 'ok' } });
    expect(runStaticChecks(items, ok, sig).passed).toBe(false);
    expect(runStaticChecks([], [], sig).passed).toBe(false);
    expect(runStaticChecks([], [], sig, false)).toMatchObject({ passed: true, signature: { status: 'skipped' } });
  });
});

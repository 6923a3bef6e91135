import { spawn } from 'node:child_process';
import { ApplicationFailure } from '@temporalio/common';
import { databasePackages, matchingApi, type ApiDoc } from '../datasets/api-database';
import type { ApiHub } from './ast-match/apibench';
import { withParsedTree, type SyntaxNode } from './codebleu/tree-sitter/parser';

/**
 * Executability of an API-calling program, in three levels (the paper reports an "executability
 * rate"; this is how feedloop defines and measures it):
 *
 *  1. compiles: CPython's `compile(code, '<program>', 'exec')` accepts it. Compiling runs nothing.
 *  2. resolves: every module it imports is in Python's standard library or is a package the API
 *     database names as a requirement (any hub; numpy too); and some call in it matches an API of
 *     the question's hub database (its function name and the arguments Gorilla's AST match
 *     requires), whose root name the program imports, and whose keyword arguments are all names
 *     the database documents for that API (when the entry documents argument names at all).
 *  3. runs: the program runs to completion. NOT MEASURED: the sandbox's Python (isolated, no
 *     site-packages) has none of transformers, torch or tensorflow_hub, and their APIs download
 *     model weights, which the sandbox forbids. Every result says so (runs: null) instead of
 *     guessing; the probe that checks this is recorded with each evaluation.
 *
 * The executability rate feedloop reports is the share of samples that pass levels 1 and 2.
 */
export interface ExecutabilityResult {
  compiles: boolean;
  resolves: boolean;
  /** always null: see level 3 above */
  runs: null;
  /** compiles && resolves */
  executable: boolean;
  /** why a level failed, e.g. "SyntaxError: ...", "imports foo, which ..." */
  reasons: string[];
  /** the database API the program calls, when it resolves one */
  api: { index: number; apiName: string } | null;
}

export interface PythonProbe {
  /** the interpreter's version, e.g. "3.11.7" */
  version: string;
  /** how it was run (the sandbox's flags) */
  command: string;
  /** the hub frameworks the sandbox's Python can import */
  installed: Record<string, boolean>;
}

/** The frameworks level 3 would need. */
export const FRAMEWORK_MODULES = ['transformers', 'torch', 'tensorflow', 'tensorflow_hub'] as const;

const COMPILE_SCRIPT = `
import sys, json, importlib.util
programs = json.load(sys.stdin)
errors = []
for p in programs:
    try:
        compile(p, '<program>', 'exec')
        errors.append(None)
    except BaseException as e:
        errors.append((type(e).__name__ + ': ' + str(e))[:300])
installed = {m: importlib.util.find_spec(m) is not None for m in sys.argv[1:]}
json.dump({'version': sys.version.split()[0], 'errors': errors, 'stdlib': sorted(sys.stdlib_module_names), 'installed': installed}, sys.stdout)
`;

export interface CompileOutput {
  /** null where the program compiles, else the error */
  errors: Array<string | null>;
  stdlib: Set<string>;
  probe: PythonProbe;
}

/**
 * Compiles programs with CPython in one process, run as the sandbox runs Python (isolated, no
 * site-packages, empty environment), and probes which frameworks it could import. A missing or
 * crashing interpreter is an infrastructure failure (retryable), never a verdict on the programs.
 */
export async function compilePython(programs: readonly string[], python = process.env.FEEDLOOP_SANDBOX_PYTHON ?? 'python3', timeoutMs = 60_000): Promise<CompileOutput> {
  const args = ['-I', '-S', '-c', COMPILE_SCRIPT, ...FRAMEWORK_MODULES];
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(python, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(ApplicationFailure.retryable(`cannot run ${python} to compile programs: ${err.message}`, 'CompileCheckUnavailable'));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(ApplicationFailure.retryable(`${python} compile check ended with ${signal ?? `exit ${code}`}: ${stderr.slice(-500)}`, 'CompileCheckFailed'));
    });
    child.stdin.end(JSON.stringify(programs));
  });
  const parsed = JSON.parse(out) as { version: string; errors: Array<string | null>; stdlib: string[]; installed: Record<string, boolean> };
  return {
    errors: parsed.errors,
    stdlib: new Set(parsed.stdlib.map((m) => m.toLowerCase())),
    probe: { version: parsed.version, command: `${python} -I -S`, installed: parsed.installed },
  };
}

interface ProgramShape {
  /** name bound by an import -> the imported module's root (lower case) */
  bindings: Map<string, string>;
  /** roots of every imported module (lower case) */
  modules: string[];
  /** matchText: the call with arguments that name string constants (`m = '...'`) replaced by the strings, so `from_pretrained(m)` matches like `from_pretrained('...')` */
  calls: Array<{ functionName: string; matchText: string; keywords: string[] }>;
  /** a `from m import *` binds names we cannot list */
  wildcard: boolean;
}

function shapeOf(code: string): ProgramShape {
  return withParsedTree('python', code, (root) => {
    const bindings = new Map<string, string>();
    const modules: string[] = [];
    const calls: ProgramShape['calls'] = [];
    let wildcard = false;
    const constants = new Map<string, string>();
    const rootOf = (dotted: string) => dotted.split('.')[0]!.toLowerCase();
    const visit = (n: SyntaxNode) => {
      if (n.type === 'import_statement') {
        for (const c of n.children) {
          if (c.type === 'dotted_name') {
            modules.push(rootOf(c.text));
            bindings.set(c.text.split('.')[0]!, rootOf(c.text));
          } else if (c.type === 'aliased_import') {
            const name = c.children[0]!.text;
            modules.push(rootOf(name));
            bindings.set(c.children[2]?.text ?? name, rootOf(name));
          }
        }
      } else if (n.type === 'import_from_statement') {
        const module = n.children[1]?.text ?? '';
        if (!module.startsWith('.')) modules.push(rootOf(module));
        for (const c of n.children.slice(2)) {
          if (c.type === 'wildcard_import') wildcard = true;
          else if (c.type === 'dotted_name') bindings.set(c.text, rootOf(module));
          else if (c.type === 'aliased_import') bindings.set(c.children[2]?.text ?? c.children[0]!.text, rootOf(module));
        }
      } else if (n.type === 'assignment' && n.children[0]?.type === 'identifier' && n.children[2]?.type === 'string') {
        constants.set(n.children[0].text, n.children[2].text);
      } else if (n.type === 'call') {
        const args = n.children[1]?.children ?? [];
        const keywords = args.filter((a) => a.type === 'keyword_argument').map((a) => a.children[0]!.text);
        const constant = (a: SyntaxNode | undefined) => (a?.type === 'identifier' ? constants.get(a.text) : undefined) ?? a?.text ?? '';
        const argText = args.map((a) => (a.type === 'keyword_argument' ? `${a.children[0]!.text}=${constant(a.children[2])}` : constant(a))).join(' ');
        calls.push({ functionName: n.children[0]!.text, matchText: `${n.text} ${argText}`, keywords });
      }
      for (const c of n.children) visit(c);
    };
    visit(root);
    return { bindings, modules, calls, wildcard };
  });
}

/** Level 2 of one program that compiled: imports and the API call against the database. */
export function resolveAgainstDatabase(code: string, hub: ApiHub, stdlib: ReadonlySet<string>): { resolves: boolean; reasons: string[]; api: ApiDoc | null } {
  const shape = shapeOf(code);
  const known = databasePackages();
  const reasons: string[] = [];
  for (const m of new Set(shape.modules)) {
    if (!stdlib.has(m) && !known.has(m)) reasons.push(`imports ${m}, which is neither in the standard library nor a requirement of any API in the database`);
  }
  let candidate: { api: ApiDoc; problems: string[] } | undefined;
  for (const call of shape.calls) {
    const match = matchingApi(hub, call.functionName, call.matchText);
    if (!match) continue;
    const { api, argumentNames: allowed } = match;
    const problems: string[] = [];
    const rootName = call.functionName.split('.')[0]!;
    if (!shape.bindings.has(rootName) && !shape.wildcard) problems.push(`the API call ${call.functionName} uses ${rootName}, which the program never imports`);
    if (allowed) {
      for (const k of call.keywords) if (!allowed.has(k)) problems.push(`argument ${k}= of ${call.functionName} is not documented for it in the database`);
    }
    if (problems.length === 0) return { resolves: reasons.length === 0, reasons, api };
    candidate ??= { api, problems };
  }
  if (candidate) return { resolves: false, reasons: [...reasons, ...candidate.problems], api: candidate.api };
  reasons.push(`no call in the program matches an API of the ${hub} database (a hallucinated or missing API call)`);
  return { resolves: false, reasons, api: null };
}

/** All three levels for a batch of programs (one Python process per batch). */
export async function checkExecutability(items: ReadonlyArray<{ code: string | null; hub: ApiHub }>, python?: string): Promise<{ results: ExecutabilityResult[]; probe: PythonProbe }> {
  const compiled = await compilePython(items.map((i) => i.code ?? ''), python);
  const results = items.map((item, i): ExecutabilityResult => {
    if (item.code === null || item.code.trim() === '') {
      return { compiles: false, resolves: false, runs: null, executable: false, reasons: ['the answer has no code'], api: null };
    }
    const error = compiled.errors[i] ?? null;
    if (error !== null) return { compiles: false, resolves: false, runs: null, executable: false, reasons: [error], api: null };
    const r = resolveAgainstDatabase(item.code, item.hub, compiled.stdlib);
    return { compiles: true, resolves: r.resolves, runs: null, executable: r.resolves, reasons: r.reasons, api: r.api ? { index: r.api.index, apiName: r.api.apiName } : null };
  });
  return { results, probe: compiled.probe };
}

/** The plain sentence every report shows for level 3. */
export function runsNotMeasured(probe: PythonProbe | null): string {
  const missing = probe ? FRAMEWORK_MODULES.filter((m) => !probe.installed[m]) : [...FRAMEWORK_MODULES];
  const where = probe ? `the sandbox's Python ${probe.version} (${probe.command})` : "the sandbox's Python";
  return missing.length === FRAMEWORK_MODULES.length
    ? `not measured: ${where} has none of ${FRAMEWORK_MODULES.join(', ')} installed, so no API program can run there`
    : `not measured: ${where} lacks ${missing.join(', ') || 'nothing'}; running the API programs would also download model weights, which the sandbox forbids`;
}

/** The database API a text's calls match first (no import or argument checks), or null: for prompts. */
export function findCalledApi(code: string, hub: ApiHub): ApiDoc | null {
  for (const call of shapeOf(code).calls) {
    const match = matchingApi(hub, call.functionName, call.matchText);
    if (match) return match.api;
  }
  return null;
}

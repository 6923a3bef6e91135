import type { CompilerDiagnostic, DeclaredMethod } from '../../../activities/sandbox/types';

/**
 * RLCF's static checks on a Java program that compiles (grounding stage b), versioned so a
 * stored verdict can be traced to the exact rules. Two kinds:
 *
 * 1. javac -Xlint:all warnings in categories that signal a real defect. The compile server
 *    compiles with -Xlint:all and reports every diagnostic with its javac code; a check fails
 *    on any warning whose code belongs to a category below. Unreachable code, a missing return,
 *    an uninitialised variable or a type error are javac errors already (stage a).
 *    Measured on the 857 MBJP reference solutions that pass their tests: none triggers a
 *    listed category (so the checks do not punish working code), while `unchecked` fires on 8
 *    (65, 143, 215, 297, 512, 580, 613, 791: idiomatic casts of List<Object> elements) and
 *    `cast` on 2 (606, 692): those are left out.
 * 2. The method the task asks for exists with the prompt's signature (name, parameter types,
 *    return type, static), read from javac's resolved model of the compiled class.
 */
export const STATIC_CHECKS_VERSION = 'rlcf-static-checks-v1';

export interface LintCheck {
  /** javac's -Xlint key */
  category: string;
  /** javac diagnostic codes of that category (compiler.warn.*) */
  codes: readonly string[];
  why: string;
}

export const LINT_CHECKS: readonly LintCheck[] = [
  {
    category: 'divzero',
    codes: ['compiler.warn.div.zero'],
    why: 'a constant integer division by zero always throws ArithmeticException when reached',
  },
  {
    category: 'empty',
    codes: ['compiler.warn.empty.if'],
    why: '`if (cond);` makes the guarded block run unconditionally: almost always a typo',
  },
  {
    category: 'fallthrough',
    codes: ['compiler.warn.possible.fall-through.into.case'],
    why: 'a case running into the next without break is the classic switch bug; generated code rarely means it',
  },
  {
    category: 'finally',
    codes: ['compiler.warn.finally.cannot.complete'],
    why: 'a finally that cannot complete normally (return/throw in finally) discards the try block\'s exception or result',
  },
  {
    category: 'overrides',
    codes: ['compiler.warn.override.equals.but.not.hashcode'],
    why: 'equals without hashCode breaks HashMap/HashSet lookups of equal objects',
  },
];

/**
 * Left out, with the reason (they flag style or future-JDK issues, not wrong results now):
 * unchecked (fires on 8 correct references), cast (redundant casts, 2 references), rawtypes,
 * deprecation and removal (deprecated APIs still work on this JDK), dep-ann, static, serial, try,
 * varargs, overloads, the module/path/options/processing categories (build, not program).
 */
export const LINT_LEFT_OUT = ['unchecked', 'cast', 'rawtypes', 'deprecation', 'removal', 'dep-ann', 'static', 'serial', 'try', 'varargs', 'overloads'] as const;

const CATEGORY_OF_CODE = new Map(LINT_CHECKS.flatMap((c) => c.codes.map((code) => [code, c.category] as const)));

export interface LintFinding {
  category: string;
  line: number;
  message: string;
}

/** The warnings that fail the checks (at most `max`, messages cut to 200 characters). */
export function lintFindings(items: readonly CompilerDiagnostic[], max = 20): LintFinding[] {
  return items
    .filter((d) => (d.kind === 'WARNING' || d.kind === 'MANDATORY_WARNING') && CATEGORY_OF_CODE.has(d.code))
    .slice(0, max)
    .map((d) => ({ category: CATEGORY_OF_CODE.get(d.code)!, line: d.line, message: d.message.slice(0, 200) }));
}

// -- the method the prompt asks for --------------------------------------------------------

export interface MethodSignature {
  className: string;
  name: string;
  returns: string;
  params: string[];
  static: boolean;
}

const MODIFIERS = new Set(['public', 'protected', 'private', 'static', 'final', 'synchronized', 'abstract', 'native', 'strictfp']);

/** Splits at top-level commas (generic arguments hold commas of their own). */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '<') depth++;
    else if (c === '>') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter(Boolean);
}

/** A parameter declaration's type: annotations and `final` dropped, varargs as an array. */
function parameterType(declaration: string): string {
  const words = declaration.replace(/@\w+(\([^)]*\))?/g, ' ').replace(/\bfinal\b/g, ' ').trim();
  const name = /\s*\b\w+\s*(\[\s*\])*$/.exec(words);
  if (!name) return normalizeJavaType(words);
  const dims = (name[0].match(/\[/g) ?? []).length;
  return normalizeJavaType(words.slice(0, name.index) + '[]'.repeat(dims));
}

/**
 * The method header an MBXP prompt ends with (`public static int minCost(List<List<Integer>>
 * cost, int m, int n) {`) and the class declared before it; null when the prompt ends otherwise.
 */
export function promptSignature(prompt: string): MethodSignature | null {
  const header = /((?:[\w$<>[\],.?\s]|@\w+)+?)\b([A-Za-z_$][\w$]*)\s*\(([^)]*)\)\s*(?:throws\s+[\w$.,\s]+)?\{\s*$/.exec(prompt);
  if (!header) return null;
  const words = header[1]!.trim().split(/\s+(?![^<]*>)/);
  const modifiers = words.filter((w) => MODIFIERS.has(w));
  const returns = words.filter((w) => !MODIFIERS.has(w) && !w.startsWith('@')).join(' ');
  if (!returns) return null;
  const before = prompt.slice(0, header.index);
  const classes = [...before.matchAll(/\bclass\s+([A-Za-z_$][\w$]*)/g)];
  const className = classes.at(-1)?.[1];
  if (!className) return null;
  return {
    className,
    name: header[2]!,
    returns: normalizeJavaType(returns),
    params: splitTopLevel(header[3]!).map(parameterType),
    static: modifiers.includes('static'),
  };
}

/** One spelling for a Java type: no whitespace, no package qualifiers, varargs as arrays. */
export function normalizeJavaType(type: string): string {
  return type
    .replace(/\s+/g, '')
    .replace(/\b(?:[a-z_$][\w$]*\.)+(?=[A-Z_$])/g, '')
    .replace(/\.\.\.$/, '[]');
}

export type SignatureVerdict =
  | { status: 'ok' }
  | { status: 'skipped'; detail: string }
  | { status: 'missing_class' | 'missing_method' | 'wrong_signature'; detail: string };

function describe(m: Pick<MethodSignature, 'returns' | 'name' | 'params' | 'static'>): string {
  return `${m.static ? 'static ' : ''}${m.returns} ${m.name}(${m.params.join(', ')})`;
}

/** Whether the compiled source declares the method the prompt asks for, exactly. */
export function checkSignature(expected: MethodSignature | null, declared: readonly DeclaredMethod[]): SignatureVerdict {
  if (!expected) return { status: 'skipped', detail: 'the prompt ends with no method header to compare with' };
  const inClass = declared.filter((m) => m.class === expected.className);
  if (inClass.length === 0) return { status: 'missing_class', detail: `no class ${expected.className} with methods in the program` };
  const named = inClass.filter((m) => m.name === expected.name);
  if (named.length === 0) return { status: 'missing_method', detail: `class ${expected.className} declares no method ${expected.name}` };
  const want = describe(expected);
  const found = named.map((m) => ({ ...m, returns: normalizeJavaType(m.returns), params: m.params.map(normalizeJavaType) }));
  if (found.some((m) => describe(m) === want)) return { status: 'ok' };
  return { status: 'wrong_signature', detail: `expected ${want}, found ${found.map(describe).join('; ').slice(0, 300)}` };
}

export interface StaticCheckResult {
  version: typeof STATIC_CHECKS_VERSION;
  passed: boolean;
  lint: LintFinding[];
  signature: SignatureVerdict;
}

/** Stage b on a compiled program: fails on a listed lint warning or a missing/wrong method. */
export function runStaticChecks(items: readonly CompilerDiagnostic[], declared: readonly DeclaredMethod[], expected: MethodSignature | null, checkMethod = true): StaticCheckResult {
  const lint = lintFindings(items);
  const signature: SignatureVerdict = checkMethod ? checkSignature(expected, declared) : { status: 'skipped', detail: 'the signature check is off' };
  const signatureOk = signature.status === 'ok' || signature.status === 'skipped';
  return { version: STATIC_CHECKS_VERSION, passed: lint.length === 0 && signatureOk, lint, signature };
}

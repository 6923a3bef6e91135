import fs from 'node:fs';
import path from 'node:path';
import { DATA_DIR } from '../../infra/paths';
import { withParsedTree, type SyntaxNode } from '../metrics/codebleu/tree-sitter/parser';
import { apiSignatures, type ApiSignature } from '../metrics/ast-match/api-signatures';
import { API_HUBS, loadHubData, type ApiHub } from '../metrics/ast-match/apibench';

/**
 * Gorilla's API database (data/apibench/<hub>_api.jsonl) with what RLAIF needs beyond the AST
 * match: each API's documentation (for the AI-feedback prompt), the argument names it documents
 * and the Python packages the database says its APIs need (for the executability check).
 */
export interface ApiDoc {
  hub: ApiHub;
  /** line in <hub>_api.jsonl, from 0 (ApiEntry.index) */
  index: number;
  apiName: string;
  apiCall: string;
  domain: string;
  functionality: string;
  description: string;
  /** argument names the entry documents (its call's keywords and api_arguments); null when it documents none in a usable form */
  argumentNames: string[] | null;
  /** api_arguments as the database writes it, for prompts */
  rawArguments: unknown;
}

interface RawApi {
  api_name?: string;
  api_call?: string;
  domain?: string;
  functionality?: string;
  description?: string;
  api_arguments?: unknown;
  python_environment_requirements?: unknown;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Keyword names of the first call in a snippet, e.g. ['model', 'pretrained']. */
export function keywordNames(code: string): string[] {
  return withParsedTree('python', code, (root) => {
    const names: string[] = [];
    const visit = (n: SyntaxNode): boolean => {
      if (n.type === 'call') {
        const args = n.children[1];
        for (const a of args?.children ?? []) if (a.type === 'keyword_argument') names.push(a.children[0]!.text);
        return true;
      }
      return n.children.some(visit);
    };
    visit(root);
    return names;
  });
}

/** The argument names an api_arguments value documents, in whatever shape the entry uses. */
function documentedNames(raw: unknown): string[] {
  const names = new Set<string>();
  const add = (s: string) => {
    const name = s.split(/[=:(\s]/)[0]!.trim();
    if (IDENTIFIER.test(name)) names.add(name);
  };
  if (Array.isArray(raw)) {
    for (const item of raw) {
      if (typeof item === 'string') add(item);
      else if (item && typeof item === 'object' && typeof (item as { name?: unknown }).name === 'string') add((item as { name: string }).name);
    }
  } else if (raw && typeof raw === 'object') {
    for (const key of Object.keys(raw)) add(key);
  } else if (typeof raw === 'string') {
    for (const part of raw.split(/[,;\n]/)) add(part.trim());
  }
  return [...names];
}

/** pip package names -> the module a program imports */
const IMPORT_NAMES: Record<string, string> = {
  pil: 'pil',
  pillow: 'pil',
  'opencv-python': 'cv2',
  opencv: 'cv2',
  'scikit-learn': 'sklearn',
  'scikit-image': 'skimage',
  'sentence-transformers': 'sentence_transformers',
  'tensorflow-hub': 'tensorflow_hub',
  pytorch: 'torch',
  'huggingface/transformers': 'transformers',
  huggingface_transformers: 'transformers',
  'stable-baselines3': 'stable_baselines3',
  'stable-baselines3-contrib': 'sb3_contrib',
  'hydra-core': 'hydra',
  beautifulsoup4: 'bs4',
  pyyaml: 'yaml',
};

/** Module names (lower case) of the packages a requirements value names, e.g. "transformers>=4.0, torch". */
export function requirementModules(raw: unknown): string[] {
  const items: string[] = [];
  if (typeof raw === 'string') items.push(...raw.split(/[\s,;]+/));
  else if (Array.isArray(raw)) for (const x of raw) if (typeof x === 'string') items.push(...x.split(/[\s,;]+/));
  else if (raw && typeof raw === 'object') items.push(...Object.keys(raw));
  const out = new Set<string>();
  for (const item of items) {
    const pkg = item.trim().toLowerCase().split(/[<>=~!\s[]/)[0]!;
    if (!pkg) continue;
    const module = IMPORT_NAMES[pkg] ?? pkg.replace(/-/g, '_').split(/[./]/)[0]!;
    if (IDENTIFIER.test(module)) out.add(module);
  }
  return [...out];
}

interface HubDatabase {
  docs: ApiDoc[];
  signatures: ApiSignature[];
  /** signatures by the called function's name, e.g. "AutoModel.from_pretrained" */
  byFunction: Map<string, ApiSignature[]>;
  /** every argument name any entry documents for a function: the database's knowledge of that function */
  argumentsByFunction: Map<string, Set<string>>;
}

const databases = new Map<string, HubDatabase>();
let packages: { dataDir: string; modules: Set<string> } | undefined;

function readRaw(hub: ApiHub, dataDir: string): RawApi[] {
  return fs
    .readFileSync(path.join(dataDir, 'apibench', `${hub}_api.jsonl`), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as RawApi);
}

export function hubDatabase(hub: ApiHub, dataDir = DATA_DIR): HubDatabase {
  const key = `${dataDir}\0${hub}`;
  let db = databases.get(key);
  if (!db) {
    const docs = readRaw(hub, dataDir).map((r, index): ApiDoc => {
      const call = r.api_call ?? '';
      const names = new Set([...safeKeywordNames(call), ...documentedNames(r.api_arguments)]);
      return {
        hub,
        index,
        apiName: r.api_name ?? '',
        apiCall: call,
        domain: r.domain ?? '',
        functionality: r.functionality ?? '',
        description: r.description ?? '',
        argumentNames: names.size > 0 ? [...names] : null,
        rawArguments: r.api_arguments ?? null,
      };
    });
    const signatures = apiSignatures(loadHubData(hub, dataDir).apis, hub);
    const byFunction = new Map<string, ApiSignature[]>();
    const argumentsByFunction = new Map<string, Set<string>>();
    for (const s of signatures) {
      byFunction.set(s.functionName, [...(byFunction.get(s.functionName) ?? []), s]);
      const names = argumentsByFunction.get(s.functionName) ?? new Set<string>();
      for (const n of docs[s.api.index]?.argumentNames ?? []) names.add(n);
      argumentsByFunction.set(s.functionName, names);
    }
    db = { docs, signatures, byFunction, argumentsByFunction };
    databases.set(key, db);
  }
  return db;
}

function safeKeywordNames(call: string): string[] {
  try {
    return keywordNames(call);
  } catch {
    return [];
  }
}

/**
 * Python modules the API database says its APIs need, over all three hubs (lower case), plus
 * numpy, which every one of the three frameworks installs.
 */
export function databasePackages(dataDir = DATA_DIR): Set<string> {
  if (packages?.dataDir !== dataDir) {
    const modules = new Set<string>(['numpy']);
    for (const hub of API_HUBS) for (const r of readRaw(hub, dataDir)) for (const m of requirementModules(r.python_environment_requirements)) modules.add(m);
    packages = { dataDir, modules };
  }
  return packages.modules;
}

/**
 * The database API a call's text matches (its function name, and every argument Gorilla's rule
 * requires; the entry requiring the most of them when several match), with the argument names
 * the database documents for that function over all its entries (null when none documents any).
 */
export function matchingApi(hub: ApiHub, functionName: string, callText: string, dataDir = DATA_DIR): { api: ApiDoc; argumentNames: ReadonlySet<string> | null } | null {
  const db = hubDatabase(hub, dataDir);
  let best: ApiSignature | undefined;
  for (const s of db.byFunction.get(functionName) ?? []) {
    if (s.requiredArguments.every((a) => callText.includes(a)) && (!best || s.requiredArguments.length > best.requiredArguments.length)) best = s;
  }
  if (!best) return null;
  const names = db.argumentsByFunction.get(functionName);
  return { api: db.docs[best.api.index]!, argumentNames: names && names.size > 0 ? names : null };
}

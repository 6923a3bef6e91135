import { DATA_DIR } from '../../../infra/paths';
import { apiSignatures, type ApiSignature } from './api-signatures';
import { loadHubData, type ApiEntry, type ApiHub, type HubData } from './apibench';
import { extractApiCall } from './extract-api-call';
import { firstMatchingApi } from './subtree-match';

export { API_HUBS, isApiHub, type ApiEntry, type ApiHub } from './apibench';

/**
 * Gorilla's AST sub-tree match (ShishirPatil/gorilla eval/eval-scripts/ast_eval_{hf,tf,th}.py),
 * reproducing its verdicts: a response is a hallucination when its API call matches no API in the
 * hub's database, correct when the first API it matches has the domain of the question's API,
 * and wrong_api otherwise (also for TorchHub responses without an api_call, as their script does).
 */
export type AstVerdict = 'correct' | 'wrong_api' | 'hallucination';

export interface AstMatchInput {
  hub: ApiHub;
  /** Gorilla's question_id: line N (from 1) of the hub's eval set. */
  questionId: number;
  /** The model's answer, e.g. "<<<domain>>>: ..., <<<api_call>>>: pipeline(...), <<<api_provider>>>: ...". */
  response: string;
  /** Folder holding apibench/ (default: the project's data/). */
  dataDir?: string;
}

export interface AstMatchResult {
  verdict: AstVerdict;
  /** The database API the response matched, or null. */
  matchedApi: ApiEntry | null;
  /** The API call extracted from the response, or null when the hub's script finds none. */
  apiCall: string | null;
  questionDomain: string;
}

interface PreparedHub {
  data: HubData;
  signatures: ApiSignature[];
}

const prepared = new Map<string, PreparedHub>();

/** Loads and parses a hub's database once per process (~936 parses for HuggingFace). */
function preparedHub(hub: ApiHub, dataDir: string): PreparedHub {
  const key = `${dataDir}\0${hub}`;
  let entry = prepared.get(key);
  if (!entry) {
    const data = loadHubData(hub, dataDir);
    entry = { data, signatures: apiSignatures(data.apis, hub) };
    prepared.set(key, entry);
  }
  return entry;
}

export function astMatch({ hub, questionId, response, dataDir = DATA_DIR }: AstMatchInput): AstMatchResult {
  const { data, signatures } = preparedHub(hub, dataDir);
  const questionDomain = data.questionDomains[questionId - 1];
  if (!Number.isInteger(questionId) || questionDomain === undefined) {
    throw new RangeError(`question id ${questionId} is not in the ${hub} eval set (1..${data.questionDomains.length})`);
  }
  const apiCall = extractApiCall(response, hub);
  if (apiCall === null) return { verdict: 'wrong_api', matchedApi: null, apiCall, questionDomain };
  const matched = firstMatchingApi(apiCall, signatures);
  if (!matched) return { verdict: 'hallucination', matchedApi: null, apiCall, questionDomain };
  const verdict = matched.api.domain === questionDomain ? 'correct' : 'wrong_api';
  return { verdict, matchedApi: matched.api, apiCall, questionDomain };
}

export interface AstMatchSummary {
  total: number;
  correct: number;
  wrongApi: number;
  hallucination: number;
  /** correct / total (Gorilla's "functionality accuracy"). */
  accuracy: number;
  /** hallucination / total. */
  hallucinationRate: number;
}

export function summarizeAstMatches(results: readonly Pick<AstMatchResult, 'verdict'>[]): AstMatchSummary {
  const count = (verdict: AstVerdict): number => results.filter((r) => r.verdict === verdict).length;
  const total = results.length;
  const correct = count('correct');
  const hallucination = count('hallucination');
  return {
    total,
    correct,
    wrongApi: count('wrong_api'),
    hallucination,
    accuracy: total === 0 ? 0 : correct / total,
    hallucinationRate: total === 0 ? 0 : hallucination / total,
  };
}

import fs from 'node:fs';
import path from 'node:path';
import { API_HUBS, type ApiHub } from '../../../common/datasets';
import { DATA_DIR } from '../../../infra/paths';

/** The three APIBench hubs (common/datasets.ts) and where their files live under data/apibench. */
export { API_HUBS, type ApiHub };

export function isApiHub(value: string): value is ApiHub {
  return (API_HUBS as readonly string[]).includes(value);
}

const EVAL_FILE: Record<ApiHub, string> = {
  huggingface: 'huggingface_eval.json',
  tensorflowhub: 'tensorflow_eval.json',
  torchhub: 'torchhub_eval.json',
};

export interface ApiEntry {
  /** Line number in <hub>_api.jsonl, from 0. */
  index: number;
  apiCall: string;
  apiName: string;
  domain: string;
}

export interface HubData {
  /** Gorilla's API database for the hub. */
  apis: ApiEntry[];
  /** The domain of each eval-set question's API: question_id N is line N of the eval file. */
  questionDomains: string[];
}

function readJsonLines(file: string): unknown[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as unknown);
}

interface RawApi {
  api_call: string;
  api_name: string;
  domain: string;
}

export function loadHubData(hub: ApiHub, dataDir: string = DATA_DIR): HubData {
  const dir = path.join(dataDir, 'apibench');
  const apis = (readJsonLines(path.join(dir, `${hub}_api.jsonl`)) as RawApi[]).map((raw, index) => ({
    index,
    apiCall: raw.api_call,
    apiName: raw.api_name,
    domain: raw.domain,
  }));
  const questionDomains = (readJsonLines(path.join(dir, EVAL_FILE[hub])) as { api_data: { domain: string } }[]).map((q) => q.api_data.domain);
  return { apis, questionDomains };
}

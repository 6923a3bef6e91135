import os from 'node:os';
import OpenAI from 'openai';
import { modelConfigFailure } from '../failures';

/** How to reach an OpenAI-compatible server. Shared by the generation backend and the fine-tuning trainer. */
export interface OpenAIConnectionConfig {
  baseUrl?: string;
  baseUrlEnv?: string;
  apiKeyEnv?: string;
  timeoutMs?: number;
}

export interface OpenAIConnection {
  client: OpenAI;
  baseURL: string;
  /** values that must never appear in a message: the API key */
  secrets: string[];
}

const OPENAI_BASE_URL = 'https://api.openai.com/v1';
/** vLLM's convention for "no key": servers without auth ignore the header */
const NO_KEY = 'EMPTY';

function fromEnv(name: string, field: string, env: NodeJS.ProcessEnv): string {
  const value = env[name];
  if (!value) {
    throw modelConfigFailure(`${field}: environment variable ${name} is not set on worker ${os.hostname()}`);
  }
  return value;
}

/**
 * Builds a client with retries off (maxRetries 0): Temporal retries the activity instead, so every
 * retry shows in the workflow history with its cause, and Retry-After is honoured through
 * nextRetryDelay. The API key is read here, on the worker, and only from the named variable.
 */
export function connectOpenAI(config: OpenAIConnectionConfig, env: NodeJS.ProcessEnv = process.env): OpenAIConnection {
  const baseURL = (config.baseUrl ?? (config.baseUrlEnv ? fromEnv(config.baseUrlEnv, 'baseUrlEnv', env) : OPENAI_BASE_URL)).replace(
    /\/+$/,
    '',
  );
  const apiKey = config.apiKeyEnv ? fromEnv(config.apiKeyEnv, 'apiKeyEnv', env) : NO_KEY;
  const client = new OpenAI({
    baseURL,
    apiKey,
    maxRetries: 0,
    timeout: config.timeoutMs ?? 120_000,
    // Never pick up an organization or project from the worker's environment implicitly.
    organization: null,
    project: null,
  });
  return { client, baseURL, secrets: apiKey === NO_KEY ? [] : [apiKey] };
}

/** Replaces every secret in `text`; used on anything taken from a server response. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  return out;
}

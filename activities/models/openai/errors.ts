import { ApplicationFailure } from '@temporalio/common';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { MODEL_FAILURE } from '../failures';
import { redactSecrets } from './connection';

export interface CallSite {
  /** e.g. "chat.completions.create" */
  operation: string;
  baseURL: string;
  model: string;
  secrets: readonly string[];
  signal?: AbortSignal;
}

/** Longest server-requested wait we honour; beyond it the retry policy's own backoff applies. */
const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/** Reads `retry-after-ms` (OpenAI) or `retry-after` (seconds or an HTTP date) in milliseconds. */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return Math.min(Math.ceil(ms), MAX_RETRY_AFTER_MS);
  const raw = headers.get('retry-after');
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (raw.trim() !== '' && Number.isFinite(seconds) && seconds >= 0) return Math.min(Math.ceil(seconds * 1000), MAX_RETRY_AFTER_MS);
  const date = Date.parse(raw);
  if (Number.isFinite(date)) return Math.min(Math.max(0, date - now), MAX_RETRY_AFTER_MS);
  return undefined;
}

function nonRetryableType(status: number): string {
  switch (status) {
    case 400:
    case 422:
      return MODEL_FAILURE.badRequest;
    case 401:
      return MODEL_FAILURE.authentication;
    case 403:
      return MODEL_FAILURE.permission;
    case 404:
      return MODEL_FAILURE.notFound;
    default:
      return MODEL_FAILURE.rejected;
  }
}

/**
 * Maps an error from the `openai` client onto Temporal's retry semantics:
 * 408, 409, 429 and 5xx, timeouts and connection errors are retryable (429 and 503 with the
 * server's Retry-After as the next delay); other 4xx fail at once with the server's message.
 * Cancellation is passed through unchanged so the activity reports as cancelled.
 */
export function toModelFailure(err: unknown, site: CallSite): unknown {
  if (site.signal?.aborted) return site.signal.reason ?? err;
  if (err instanceof ApplicationFailure) return err;
  const where = `${site.operation} on ${site.baseURL} (model ${site.model})`;
  const clean = (s: string) => redactSecrets(s, site.secrets);
  if (err instanceof APIUserAbortError) return err;
  if (err instanceof APIConnectionTimeoutError) {
    return ApplicationFailure.create({ message: clean(`${where} timed out`), type: MODEL_FAILURE.timeout, nonRetryable: false });
  }
  if (err instanceof APIConnectionError) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return ApplicationFailure.create({ message: clean(`${where}: connection failed${cause}`), type: MODEL_FAILURE.unreachable, nonRetryable: false });
  }
  if (err instanceof APIError && typeof err.status === 'number') {
    const status = err.status;
    const message = clean(`${where} failed: ${err.message}`);
    const retryable = status === 408 || status === 409 || status === 429 || status >= 500;
    if (!retryable) return ApplicationFailure.nonRetryable(message, nonRetryableType(status), { status });
    return ApplicationFailure.create({
      message,
      type: status === 429 ? MODEL_FAILURE.rateLimited : MODEL_FAILURE.serverError,
      nonRetryable: false,
      nextRetryDelay: retryAfterMs(err.headers),
      details: [{ status }],
    });
  }
  return err;
}

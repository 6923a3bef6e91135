import { ApplicationFailure } from '@temporalio/common';

/**
 * Failure types the model backends throw. Workflows can list the non-retryable ones in a retry
 * policy's nonRetryableErrorTypes, but they are also thrown as non-retryable already.
 */
export const MODEL_FAILURE = {
  /** the backend config or environment is wrong (missing env var, missing model file) */
  config: 'ModelConfigError',
  /** the request itself is wrong (HTTP 400/422, bad prompt shape) */
  badRequest: 'ModelBadRequest',
  authentication: 'ModelAuthenticationFailed',
  permission: 'ModelPermissionDenied',
  notFound: 'ModelNotFound',
  /** other 4xx */
  rejected: 'ModelRequestRejected',
  unsupported: 'ModelOperationUnsupported',
  /** retryable */
  rateLimited: 'ModelRateLimited',
  serverError: 'ModelServerError',
  timeout: 'ModelTimeout',
  unreachable: 'ModelUnreachable',
} as const;

export const NON_RETRYABLE_MODEL_FAILURES: readonly string[] = [
  MODEL_FAILURE.config,
  MODEL_FAILURE.badRequest,
  MODEL_FAILURE.authentication,
  MODEL_FAILURE.permission,
  MODEL_FAILURE.notFound,
  MODEL_FAILURE.rejected,
  MODEL_FAILURE.unsupported,
];

export function modelConfigFailure(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, MODEL_FAILURE.config);
}

export function badRequestFailure(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, MODEL_FAILURE.badRequest);
}

export function unsupportedFailure(backend: string, operation: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`the ${backend} backend does not support ${operation}`, MODEL_FAILURE.unsupported);
}

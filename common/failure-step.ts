/**
 * The step a failure came from, as a campaign's end names it: "activity trainPolicy (retries
 * exhausted)" when Temporal gave up after the retry policy's last attempt, "(not retryable)" when
 * the activity said no retry could fix it (a missing file), "(timed out)" when its timeout ran
 * out. Pure: the campaign workflow and the CLI's reconciliation read failures the same way.
 */
type FailureLink = { cause?: unknown; activityType?: string; retryState?: string };

const RETRY_STATE_NOTE: Record<string, string> = {
  MAXIMUM_ATTEMPTS_REACHED: 'retries exhausted',
  NON_RETRYABLE_FAILURE: 'not retryable',
  TIMEOUT: 'timed out',
};

export function failedStepOf(err: unknown, withRetryState = true): string | undefined {
  for (let e = err as FailureLink | undefined; e; e = e.cause as FailureLink | undefined) {
    if (!e.activityType) continue;
    const note = withRetryState && e.retryState ? RETRY_STATE_NOTE[e.retryState] : undefined;
    return `activity ${e.activityType}${note ? ` (${note})` : ''}`;
  }
  return undefined;
}

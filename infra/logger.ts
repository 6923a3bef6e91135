import pino from 'pino';

/**
 * Structured logs (one JSON object per line). Secrets must never be logged: the redaction list
 * catches the usual field names in case one slips into a log call.
 */
export function createLogger(name: string, level: string = process.env.FEEDLOOP_LOG_LEVEL ?? 'info') {
  return pino({
    name,
    level,
    redact: {
      paths: ['apiKey', '*.apiKey', 'databaseUrl', '*.databaseUrl', 'password', '*.password', 'DATABASE_URL', '*.DATABASE_URL'],
      censor: '[redacted]',
    },
  });
}
export type Logger = pino.Logger;

import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import type { Logger } from '../infra/logger';

/** Routes the Temporal SDK's own log lines (worker, activity, workflow loggers) into pino. */
export function temporalLoggerFor(log: Logger): TemporalLogger {
  const at = (level: LogLevel, message: string, meta?: LogMetadata) => {
    // feedloop runs workflow and activity workers on separate queues by design: not a warning.
    if (level === 'WARN' && /^No (activities|workflows) registered/.test(message)) level = 'DEBUG';
    const fn = { TRACE: log.trace, DEBUG: log.debug, INFO: log.info, WARN: log.warn, ERROR: log.error }[level] ?? log.info;
    fn.call(log, meta ?? {}, message);
  };
  return {
    log: at,
    trace: (m, meta) => at('TRACE', m, meta),
    debug: (m, meta) => at('DEBUG', m, meta),
    info: (m, meta) => at('INFO', m, meta),
    warn: (m, meta) => at('WARN', m, meta),
    error: (m, meta) => at('ERROR', m, meta),
  };
}

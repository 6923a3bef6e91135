import { ConfigError } from '../common/config-error';
import { createLogger } from '../infra/logger';
import { resolveWorkerOptions, workerCommand, type WorkerRole } from './options';
import { startWorkers } from './run-workers';

/** Shared body of the worker entry points: parse flags, validate, run until signalled. */
export function runWorkerEntryPoint(name: string, description: string, roles: readonly WorkerRole[]): void {
  const log = createLogger(name);
  const cmd = workerCommand(name, description).action(async (flags: Record<string, string>) => {
    let opts;
    try {
      opts = resolveWorkerOptions(flags);
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`${name}: ${err.message}\n`);
        process.exit(2);
      }
      throw err;
    }
    const running = await startWorkers(roles, opts, { log });
    await running.done;
  });
  cmd.parseAsync(process.argv).catch((err: unknown) => {
    log.fatal({ err }, 'worker failed');
    process.exit(1);
  });
}

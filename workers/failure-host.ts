import { Context } from '@temporalio/activity';
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';

/**
 * Names the worker in every activity failure ("... (on 4242@gpu-host-3/gpu)"), so that a
 * campaign that runs out of attempts says where its step failed last, not only why. The
 * failure's type, retryability, details and retry delay are kept.
 */
export function failureHostInterceptor(identity: string): ActivityInterceptorsFactory {
  return () => {
    const inbound: ActivityInboundCallsInterceptor = {
      async execute(input, next) {
        try {
          return await next(input);
        } catch (err) {
          const e = err as Error;
          // Cancellation and the SDK's own failures keep their meaning untouched.
          const cancelled = Context.current().cancellationSignal.aborted;
          if (!(e instanceof Error) || cancelled || (e instanceof TemporalFailure && !(e instanceof ApplicationFailure)) || e.message.endsWith(`(on ${identity})`)) throw err;
          const app = e instanceof ApplicationFailure ? e : undefined;
          throw ApplicationFailure.create({
            message: `${e.message} (on ${identity})`,
            type: app?.type ?? e.name,
            nonRetryable: app?.nonRetryable ?? false,
            details: app?.details ?? undefined,
            nextRetryDelay: app?.nextRetryDelay,
          });
        }
      },
    };
    return { inbound };
  };
}

import { setMaxListeners } from 'node:events';
import os from 'node:os';
import { Context } from '@temporalio/activity';
import { runMany } from '../../../common/run-many';
import type { ModelBackendConfig } from '../../../common/model-config';
import type { ModelBackendCache } from '../../../activities/models/index';
import { resolveLimits, type CompileResult, type JavaAnalyzer, type Outcome, type RunResult, type SandboxLimits, type SandboxRunner } from '../../../activities/sandbox/types';
import { parseRlcfGroundingConfig, type RlcfGroundingConfig, type RlcfGroundingConfigInput } from './config';
import { askDiscriminator, DISCRIMINATOR_VERSION, type DiscriminatorAnswer, type DiscriminatorTask } from './discriminator-rubric';
import { discriminatorNeeded, groundingReward, type GroundingReward } from './reward';
import { promptSignature, runStaticChecks, STATIC_CHECKS_VERSION, type StaticCheckResult } from './static-checks';

/**
 * RLCF's grounding function as an activity: per generated Java program, the stages in order,
 * each with bounded evidence, and the reward (reward.ts):
 *  a. compiles: the program alone through javac in the sandbox (-Xlint:all);
 *  b. static checks, when it compiled (static-checks.ts);
 *  c. runs and passes: the task's tests in the sandbox, when it compiled and the task has tests;
 *  d. the discriminator LLM, when it compiled and the reward needs it (discriminator-rubric.ts).
 * A sandbox infra_error is re-run at once (config.infraRetries); one that persists leaves the
 * program UNSCORABLE (reason infra_error), never scored. Model server errors (429, 5xx,
 * timeouts) fail the activity for Temporal to retry, as RLAIF's feedback does.
 */
export interface GroundProgramInput {
  taskId: string;
  /** the full program: prompt + completion */
  program: string;
  /** the prompt, whose method header the program must declare (signature check) */
  prompt?: string;
  /** MBXP's test harness; absent for tasks without tests */
  tests?: string;
  /** the task and its reference, for the discriminator */
  task?: DiscriminatorTask;
}

export interface GroundProgramsInput {
  items: GroundProgramInput[];
  /** the discriminator LLM; may be null when the reward never needs it (tests: replace) */
  judge: ModelBackendConfig | null;
  config?: RlcfGroundingConfigInput;
  limits?: Partial<SandboxLimits>;
}

const EVIDENCE_CHARS = 2000;
const OUTPUT_CHARS = 1000;

export interface GroundingRecord {
  taskId: string;
  versions: { staticChecks: typeof STATIC_CHECKS_VERSION; discriminator: typeof DISCRIMINATOR_VERSION };
  compile: { outcome: CompileResult['outcome']; detail: string; compileMs?: number; diagnostics: string; errors: number; warnings: number };
  staticChecks: StaticCheckResult | null;
  tests: { outcome: Outcome; detail: string; stdout: string; stderr: string; durationMs: number } | null;
  discriminator: DiscriminatorAnswer | null;
  reward: GroundingReward;
}

export interface GroundingDeps {
  sandbox: SandboxRunner & JavaAnalyzer;
  models: ModelBackendCache;
  /** programs grounded at once (default: the CPUs of this host) */
  concurrency?: number;
}

const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}\n[... ${s.length - n} characters cut]` : s);

export async function withInfraRetries<T extends { outcome: string }>(retries: number, signal: AbortSignal | undefined, attempt: () => Promise<T>): Promise<T> {
  let result = await attempt();
  for (let retry = 1; retry <= retries && result.outcome === 'infra_error'; retry++) {
    await new Promise((resolve) => setTimeout(resolve, 50 * 4 ** (retry - 1)));
    signal?.throwIfAborted();
    result = await attempt();
  }
  return result;
}

/** Grounds one program (stages a-d and the reward). */
export async function groundProgram(deps: GroundingDeps, item: GroundProgramInput, judge: ModelBackendConfig | null, config: RlcfGroundingConfig, limits: SandboxLimits, signal?: AbortSignal): Promise<GroundingRecord> {
  const compiled = await withInfraRetries(config.infraRetries, signal, () => deps.sandbox.compileJava(item.program, limits, { signal }));
  const record: GroundingRecord = {
    taskId: item.taskId,
    versions: { staticChecks: STATIC_CHECKS_VERSION, discriminator: DISCRIMINATOR_VERSION },
    compile: {
      outcome: compiled.outcome,
      detail: compiled.detail,
      ...(compiled.compileMs !== undefined ? { compileMs: compiled.compileMs } : {}),
      diagnostics: cut(compiled.diagnostics, EVIDENCE_CHARS),
      errors: compiled.items.filter((d) => d.kind === 'ERROR').length,
      warnings: compiled.items.filter((d) => d.kind === 'WARNING' || d.kind === 'MANDATORY_WARNING').length,
    },
    staticChecks: null,
    tests: null,
    discriminator: null,
    reward: { status: 'unscorable', reward: null, reason: 'infra_error', detail: 'not grounded yet' },
  };
  if (compiled.outcome === 'compiled') {
    const expected = item.prompt !== undefined ? promptSignature(item.prompt) : null;
    record.staticChecks = runStaticChecks(compiled.items, compiled.methods, expected, config.staticChecks.signature && item.prompt !== undefined);
    if (item.tests !== undefined) {
      const spec = { language: 'java' as const, program: item.program, tests: item.tests };
      const ran: RunResult = await withInfraRetries(config.infraRetries, signal, () => deps.sandbox.run(spec, limits, { signal }));
      record.tests = { outcome: ran.outcome, detail: ran.detail ?? '', stdout: cut(ran.stdout, OUTPUT_CHARS), stderr: cut(ran.stderr, OUTPUT_CHARS), durationMs: ran.durationMs };
    }
    const testsInfra = record.tests?.outcome === 'infra_error';
    if (!testsInfra && item.task && judge && discriminatorNeeded(config.reward, item.tests !== undefined)) {
      record.discriminator = await askDiscriminator(deps.models.get(judge), item.task, item.program, item.taskId, config.discriminator, signal);
    }
  }
  record.reward = groundingReward(
    {
      compile: { outcome: compiled.outcome },
      staticChecks: record.staticChecks,
      tests: record.tests,
      discriminator: record.discriminator,
    },
    config.reward,
  );
  return record;
}

export function createCompilerFeedbackActivities(deps: GroundingDeps) {
  return {
    /** Grounds each program; records come back in the order of the items. */
    async groundPrograms(input: GroundProgramsInput): Promise<GroundingRecord[]> {
      const config = parseRlcfGroundingConfig(input.config);
      const limits = resolveLimits(input.limits);
      const ctx = Context.current();
      // Every sandbox run and model request listens on the one activity signal, by design.
      setMaxListeners(0, ctx.cancellationSignal);
      const records = new Array<GroundingRecord>(input.items.length);
      let done = 0;
      await runMany(
        input.items,
        deps.concurrency ?? os.availableParallelism(),
        async (item, i) => {
          records[i] = await groundProgram(deps, item, input.judge, config, limits, ctx.cancellationSignal);
          ctx.heartbeat({ grounded: ++done, of: input.items.length });
        },
        ctx.cancellationSignal,
      );
      return records;
    },
  };
}

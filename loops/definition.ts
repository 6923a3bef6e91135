import type { Workflow } from '@temporalio/common';
import type pg from 'pg';
import type { CpuActivityDeps, GpuLoopActivityDeps } from '../activities/worker-deps';
import type { ChaosLoop } from './chaos';

/**
 * A loop, declared in one place (loops/<name>/index.ts): its name and phases, its config
 * schema, its campaign workflow (whose iteration steps run on the kernel in workflows/), the
 * metric its stopping rule watches, the activities its steps add to the kernel's, how its audit
 * and report read and render, and its chaos descriptor. The CLI, the config loader, the workers
 * and the chaos harness look loops up in loops/registry.ts by the config's `algorithm`.
 */
export interface LoopDefinition<Config extends { algorithm: string; iterations: number } = { algorithm: string; iterations: number; taskQueues: { workflow: string } }, Audit = unknown, Example = unknown> {
  /** the config's `algorithm` */
  name: string;
  /** one line for humans: the paper and what the loop does */
  title: string;
  phases: readonly string[];
  /** validates a raw config (every bad field named in one ConfigError) */
  parseConfig(raw: unknown, where?: string): Config;
  /** the campaign workflow `feedloop campaign start` starts, with input { campaignId, config } */
  campaignWorkflow: Workflow;
  /** the metric the stopping rules watch, as the status query names it */
  stoppingMetric: string;
  /** the activities the loop's steps add to the kernel's, per worker kind */
  activities: {
    cpu(deps: CpuActivityDeps): object;
    gpu(deps: GpuLoopActivityDeps): object;
  };
  audit: {
    load(pool: pg.Pool, campaignId: string, opts: { iteration?: number }): Promise<Audit>;
    /** the counts and metrics two runs with identical results share (no ids, times, hosts) */
    numbers(audit: Audit): unknown;
    /** the human form of `feedloop audit` */
    format(audit: Audit): string;
  };
  report: {
    /** the feedback examples the report shows, `perIteration` per iteration */
    examples(pool: pg.Pool, campaignId: string, opts: { perIteration: number }): Promise<readonly Example[]>;
    /** a self-contained HTML page of the audit and the examples */
    render(audit: Audit, examples: readonly Example[], opts: { generatedAt: Date }): string;
  };
  chaos: ChaosLoop<Config>;
}

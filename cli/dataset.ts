import type { Command } from 'commander';
import { loadTaskFile, validateTaskFile } from '../activities/datasets/task-file';
import { createSandboxRunner } from '../activities/sandbox/sandbox-runner';
import { resolveLimits, type Outcome } from '../activities/sandbox/types';

/**
 * `feedloop dataset check FILE [--json]`: validates a dataset file of the user's own tasks
 * (every bad row named by its line and field; nothing runs until the file is valid), then runs
 * each reference through the sandbox against its tests or cases. Exit status: 2 when the file
 * is invalid, 1 when it is valid but some reference does not pass, 0 when every reference
 * passes (or there are none). With --json the last line is one object:
 * {"tasks", "valid", "errors": [{line, field, message}], "references": {"passed", "failed": [{id, outcome}]}, "sha256"}.
 */
export interface DatasetCheckReport {
  tasks: number;
  valid: boolean;
  errors: Array<{ line: number; field: string; message: string }>;
  references: { passed: number; failed: Array<{ id: string; outcome: Outcome; detail?: string }> };
  sha256?: string;
}

export async function checkDatasetFile(file: string, options: { concurrency?: number; onProgress?: (done: number, total: number) => void } = {}): Promise<DatasetCheckReport> {
  const { errors, tasks, sha256 } = validateTaskFile(file);
  const report: DatasetCheckReport = { tasks, valid: errors.length === 0, errors, references: { passed: 0, failed: [] }, ...(sha256 ? { sha256 } : {}) };
  if (!report.valid) return report;
  const withReference = loadTaskFile(file).tasks.filter((t) => t.reference !== undefined);
  if (withReference.length === 0) return report;
  const runner = createSandboxRunner(options.concurrency ? { size: options.concurrency } : {});
  try {
    let next = 0;
    let done = 0;
    const results: Array<{ id: string; outcome: Outcome; detail?: string }> = [];
    const worker = async () => {
      while (next < withReference.length) {
        const task = withReference[next++]!;
        const result = await runner.run({ language: task.language, program: task.reference!, tests: task.tests }, resolveLimits(task.limits ?? {}));
        results.push({ id: task.taskId, outcome: result.outcome, ...(result.detail ? { detail: result.detail.slice(0, 300) } : {}) });
        options.onProgress?.(++done, withReference.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 2, withReference.length) }, worker));
    const order = new Map(withReference.map((t, i) => [t.taskId, i]));
    results.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    report.references.passed = results.filter((r) => r.outcome === 'passed').length;
    report.references.failed = results.filter((r) => r.outcome !== 'passed');
  } finally {
    await runner.close();
  }
  return report;
}

export function registerDatasetCommands(program: Command): void {
  const dataset = program.command('dataset').description("datasets of your own tasks (JSONL or JSON files)");
  dataset
    .command('check <file>')
    .description('validate a dataset file (each bad row named by line and field), then run its references in the sandbox')
    .option('--concurrency <n>', 'programs at once', (v) => Math.max(1, Number(v) || 1))
    .option('--json', 'print the report as one JSON object (the last line)')
    .action(async (file: string, opts: { concurrency?: number; json?: boolean }) => {
      const report = await checkDatasetFile(file, {
        concurrency: opts.concurrency,
        onProgress: opts.json ? undefined : (done, total) => (done % 20 === 0 || done === total) && process.stderr.write(`  ${done}/${total}\n`),
      });
      if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      else {
        const lines = report.valid
          ? [`${file}: ${report.tasks} tasks, valid (sha256 ${report.sha256})`, `references: ${report.references.passed} passed, ${report.references.failed.length} failed`]
          : [`${file}: ${report.tasks} tasks, INVALID: ${report.errors.length} error(s)`];
        for (const e of report.errors) lines.push(`  line ${e.line}: ${e.field}: ${e.message}`);
        for (const f of report.references.failed) lines.push(`  ${f.id}: ${f.outcome}${f.detail ? ` (${f.detail})` : ''}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      process.exitCode = !report.valid ? 2 : report.references.failed.length > 0 ? 1 : 0;
    });
}

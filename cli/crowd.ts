import { Command, Option } from 'commander';
import fs from 'node:fs';
import { AGGREGATION_METHODS, AGGREGATORS, type AggregationMethod, type AggregationResult } from '../activities/crowd/aggregation';
import { parseAnswersCsv } from '../activities/crowd/answers-csv';
import { ConfigError } from '../common/config-error';
import { formatTable } from '../audit/text';

const fixed = (p: number) => (Number.isFinite(p) ? p.toFixed(4) : String(p));

/** The readable form: one row per task, then one row per worker with the method's estimates. */
export function formatAggregation(method: AggregationMethod, result: AggregationResult): string {
  const tasks = Object.keys(result.labels);
  const taskTable = formatTable(
    ['task', 'label', 'probability', 'distribution'],
    tasks.map((task) => {
      const probas = result.probas[task]!;
      const label = result.labels[task]!;
      const distribution = Object.entries(probas).map(([l, p]) => `${l}=${fixed(p)}`).join(' ');
      return [task, label, fixed(probas[label]!), distribution];
    }),
  );
  const sections = [`${AGGREGATORS[method].crowdKitName}: ${tasks.length} tasks`, taskTable];
  const workers = Object.keys(result.skills ?? result.spamming ?? result.errors ?? {});
  if (workers.length > 0) {
    const header = ['worker'];
    if (result.skills) header.push(method === 'glad' ? 'ability (alpha)' : 'skill');
    if (result.spamming) header.push('spamming', 'knowing');
    if (result.errors) header.push('confusion (observed|true=p)');
    const rows = workers.map((worker) => {
      const row = [worker];
      if (result.skills) row.push(fixed(result.skills[worker]!));
      if (result.spamming) row.push(...result.spamming[worker]!.map(fixed));
      if (result.errors) {
        const matrix = result.errors[worker]!;
        row.push(Object.entries(matrix).flatMap(([observed, byTrue]) => Object.entries(byTrue).map(([t, p]) => `${observed}|${t}=${fixed(p)}`)).join(' '));
      }
      return row;
    });
    sections.push('', formatTable(header, rows));
  }
  return sections.join('\n');
}

/** `feedloop crowd ...`: aggregating crowd labels (the cRLHF loop's consensus step, on files). */
export function registerCrowdCommands(program: Command): void {
  const crowd = program.command('crowd').description('crowd label aggregation (agrees with crowd-kit 1.4.2)');

  crowd
    .command('aggregate')
    .description('aggregate crowd answers (CSV with header task,worker,label) into one label and a label distribution per task')
    .addOption(new Option('--method <method>', 'aggregation method').choices(AGGREGATION_METHODS).makeOptionMandatory())
    .requiredOption('--input <file>', 'answers CSV: task,worker,label')
    .option('--json', 'print one JSON object: labels, probas and the method\'s estimates')
    .action((opts: { method: AggregationMethod; input: string; json?: boolean }) => {
      let text: string;
      try {
        text = fs.readFileSync(opts.input, 'utf8');
      } catch (err) {
        throw new ConfigError(`cannot read --input ${opts.input}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
      const answers = parseAnswersCsv(text, opts.input);
      const result = AGGREGATORS[opts.method].aggregate(answers);
      console.log(opts.json ? JSON.stringify(result) : formatAggregation(opts.method, result));
    });
}

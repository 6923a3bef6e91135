import { Command, Option } from 'commander';
import fs from 'node:fs';
import { API_HUBS, astMatch, type ApiHub } from '../activities/metrics/ast-match';
import { CODEBLEU_LANGUAGES, codebleu, type CodeBleuLanguage } from '../activities/metrics/codebleu';

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`not a question id: ${value}`);
  return parsed;
}

/** `feedloop metrics ...`: the RLAIF loop's evaluation metrics on files, for one sample at a time. */
export function registerMetricsCommands(program: Command): void {
  const metrics = program.command('metrics').description('code-generation metrics (CodeBLEU, Gorilla AST sub-tree match)');

  metrics
    .command('codebleu')
    .description('CodeBLEU of a candidate program against a reference program (agrees with PyPI codebleu 0.7.0)')
    .addOption(new Option('--lang <lang>', 'programming language').choices(CODEBLEU_LANGUAGES).makeOptionMandatory())
    .requiredOption('--reference <file>', 'reference program')
    .requiredOption('--candidate <file>', 'candidate program')
    .option('--json', 'print the scores as JSON')
    .action(async (opts: { lang: CodeBleuLanguage; reference: string; candidate: string; json?: boolean }) => {
      const scores = await codebleu(fs.readFileSync(opts.reference, 'utf8'), fs.readFileSync(opts.candidate, 'utf8'), opts.lang);
      if (opts.json) {
        console.log(JSON.stringify(scores, null, 2));
        return;
      }
      for (const [name, value] of Object.entries(scores)) console.log(`${name.padEnd(22)} ${value.toFixed(6)}`);
    });

  metrics
    .command('ast-match')
    .description("Gorilla's AST sub-tree match of a model response against the hub's API database")
    .addOption(new Option('--hub <hub>', 'APIBench hub').choices(API_HUBS).makeOptionMandatory())
    .requiredOption('--question-id <n>', "Gorilla's question_id (line of the hub's eval set, from 1)", positiveInteger)
    .requiredOption('--response <file>', "the model's response text")
    .option('--json', 'print the verdict as JSON')
    .action((opts: { hub: ApiHub; questionId: number; response: string; json?: boolean }) => {
      const result = astMatch({ hub: opts.hub, questionId: opts.questionId, response: fs.readFileSync(opts.response, 'utf8') });
      const matched = result.matchedApi && {
        index: result.matchedApi.index,
        api_call: result.matchedApi.apiCall,
        api_name: result.matchedApi.apiName,
        domain: result.matchedApi.domain,
      };
      if (opts.json) {
        console.log(JSON.stringify({ verdict: result.verdict, matched_api: matched, api_call: result.apiCall, question_domain: result.questionDomain }, null, 2));
        return;
      }
      console.log(`verdict      ${result.verdict}`);
      console.log(`matched api  ${matched ? `${matched.api_call} (${matched.domain})` : '-'}`);
      console.log(`question     ${result.questionDomain}`);
    });
}

import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import type { ApiBenchEvaluationSummary, ApiBenchMetrics } from '../types';
import { apiBenchQuestion, codeOfAnswer } from '../../../activities/datasets/apibench';
import { finishEvalRun } from '../../../activities/store/eval-runs';
import { astMatch } from '../../../activities/metrics/ast-match/index';
import { codebleu, corpusCodebleu } from '../../../activities/metrics/codebleu/index';
import { checkExecutability, compilePython, runsNotMeasured, type PythonProbe } from '../../../activities/metrics/executability';

/**
 * The paper's metrics on an evaluation run's answers (CPU queue): Gorilla's AST sub-tree match
 * (accuracy, hallucination), CodeBLEU of the answer's code against the reference code, and
 * executability (executability.ts: compiles + resolves; "runs" is not measured and says why).
 * Per-answer rows go to apibench_scores as batches finish, so a retry scores only what is left.
 */
const BATCH = 200;

export function createApiBenchMetricsActivities(deps: { pool: pg.Pool }) {
  return {
    async scoreApiBenchRun(input: { evalRunId: string }): Promise<{ scored: number; probe: PythonProbe }> {
      const ctx = Context.current();
      const { rows: todo } = await deps.pool.query<{ id: string; task_id: string; program: string }>(
        `select g.id, g.task_id, g.program from generations g
         where g.eval_run_id = $1 and not exists (select 1 from apibench_scores s where s.eval_run_id = $1 and s.generation_id = g.id)
         order by g.task_id, g.sample_index`,
        [input.evalRunId],
      );
      let probe = (await compilePython([])).probe;
      for (let start = 0; start < todo.length; start += BATCH) {
        const batch = todo.slice(start, start + BATCH).map((g) => {
          const q = apiBenchQuestion(g.task_id);
          if (!q || q.source !== 'eval') throw ApplicationFailure.nonRetryable(`generation ${g.id} is not for an APIBench eval question (${g.task_id})`, 'InvalidConfig');
          return { g, q, code: codeOfAnswer(g.program) };
        });
        const exec = await checkExecutability(batch.map((b) => ({ code: b.code, hub: b.q.hub })));
        probe = exec.probe;
        const rows = [];
        for (const [i, { g, q, code }] of batch.entries()) {
          const ast = astMatch({ hub: q.hub, questionId: q.line, response: g.program });
          const cb = await codebleu(q.referenceCode, code ?? '', 'python');
          const e = exec.results[i]!;
          rows.push({
            generation_id: g.id,
            task_id: g.task_id,
            hub: q.hub,
            ast_verdict: ast.verdict,
            codebleu: cb.codebleu,
            compiles: e.compiles,
            resolves: e.resolves,
            executable: e.executable,
            detail: { apiCall: ast.apiCall, matchedApi: ast.matchedApi?.apiName ?? null, executability: e.reasons, calledApi: e.api?.apiName ?? null, hasCode: code !== null },
          });
        }
        await deps.pool.query(
          `insert into apibench_scores (eval_run_id, generation_id, task_id, hub, ast_verdict, codebleu, compiles, resolves, runs, executable, detail)
           select $1, t.generation_id, t.task_id, t.hub, t.ast_verdict, t.codebleu, t.compiles, t.resolves, null, t.executable, t.detail
           from jsonb_to_recordset($2::jsonb) as t(generation_id bigint, task_id text, hub text, ast_verdict text, codebleu float8, compiles boolean, resolves boolean, executable boolean, detail jsonb)
           on conflict do nothing`,
          [input.evalRunId, JSON.stringify(rows)],
        );
        ctx.heartbeat({ scored: start + batch.length, of: todo.length });
      }
      const [{ n } = { n: '0' }] = (await deps.pool.query<{ n: string }>('select count(*) as n from apibench_scores where eval_run_id = $1', [input.evalRunId])).rows;
      return { scored: Number(n), probe };
    },

    /** Rates from the stored rows; CodeBLEU at corpus level, as the codebleu package computes it. */
    async summarizeApiBenchRun(input: { evalRunId: string; probe: PythonProbe }): Promise<ApiBenchEvaluationSummary> {
      const { rows } = await deps.pool.query<{ task_id: string; hub: string; program: string; ast_verdict: string; compiles: boolean; executable: boolean }>(
        `select s.task_id, s.hub, g.program, s.ast_verdict, s.compiles, s.executable from apibench_scores s join generations g on g.id = s.generation_id
         where s.eval_run_id = $1 order by s.task_id, g.sample_index`,
        [input.evalRunId],
      );
      const ctx = Context.current();
      const rate = (xs: readonly boolean[]) => (xs.length === 0 ? 0 : xs.filter(Boolean).length / xs.length);
      const corpus = async (subset: typeof rows) => {
        // Corpus CodeBLEU of a full eval set takes seconds: a heartbeat per computation.
        ctx.heartbeat({ codebleu: subset.length });
        if (subset.length === 0) return 0;
        const refs = subset.map((r) => [apiBenchQuestion(r.task_id)!.referenceCode]);
        return (await corpusCodebleu(refs, subset.map((r) => codeOfAnswer(r.program) ?? ''), 'python')).codebleu;
      };
      const perHub: ApiBenchMetrics['perHub'] = {};
      for (const hub of [...new Set(rows.map((r) => r.hub))].sort()) {
        const subset = rows.filter((r) => r.hub === hub);
        perHub[hub] = {
          samples: subset.length,
          executabilityRate: rate(subset.map((r) => r.executable)),
          codebleu: await corpus(subset),
          astAccuracy: rate(subset.map((r) => r.ast_verdict === 'correct')),
          hallucinationRate: rate(subset.map((r) => r.ast_verdict === 'hallucination')),
        };
      }
      const metrics: ApiBenchMetrics = {
        samples: rows.length,
        executabilityRate: rate(rows.map((r) => r.executable)),
        compileRate: rate(rows.map((r) => r.compiles)),
        runs: { measured: false, note: runsNotMeasured(input.probe) },
        codebleu: await corpus(rows),
        astAccuracy: rate(rows.map((r) => r.ast_verdict === 'correct')),
        hallucinationRate: rate(rows.map((r) => r.ast_verdict === 'hallucination')),
        wrongApiRate: rate(rows.map((r) => r.ast_verdict === 'wrong_api')),
        perHub,
      };
      const summary: ApiBenchEvaluationSummary = { evalRunId: input.evalRunId, questions: new Set(rows.map((r) => r.task_id)).size, metrics };
      await finishEvalRun(deps.pool, input.evalRunId, { ...summary, probe: input.probe });
      return summary;
    },
  };
}

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { astMatch, summarizeAstMatches, type ApiHub, type AstVerdict } from '../../activities/metrics/ast-match';
import { extractApiCall } from '../../activities/metrics/ast-match/extract-api-call';

/**
 * Verdicts against a Python mirror of Gorilla's ast_eval_{hf,tf,th}.py:
 * test/fixtures/metrics/gorilla-ast-responses.json (scripts/gorilla-ast-reference/build_responses.py)
 * and the mirror's verdicts in gorilla-ast-expected.json (scripts/gorilla-ast-reference/evaluate.py).
 */
const FIXTURES = path.join(__dirname, '..', 'fixtures', 'metrics');

interface FixtureResponse {
  id: string;
  hub: ApiHub;
  question_id: number;
  kind: 'reference' | 'swapped' | 'invented' | 'malformed';
  text: string;
}

interface ExpectedVerdict {
  verdict: AstVerdict;
  matched_api_index: number | null;
  matched_api_call: string | null;
}

const responses = (JSON.parse(fs.readFileSync(path.join(FIXTURES, 'gorilla-ast-responses.json'), 'utf8')) as { responses: FixtureResponse[] }).responses;
const expected = (
  JSON.parse(fs.readFileSync(path.join(FIXTURES, 'gorilla-ast-expected.json'), 'utf8')) as {
    counts: Record<AstVerdict, number>;
    results: Record<string, ExpectedVerdict>;
  }
);

describe("Gorilla's AST sub-tree match", () => {
  it('has at least 100 responses covering every verdict on every hub', () => {
    expect(responses.length).toBeGreaterThanOrEqual(100);
    for (const hub of ['huggingface', 'tensorflowhub', 'torchhub'] as const) {
      const verdicts = new Set(responses.filter((r) => r.hub === hub).map((r) => expected.results[r.id]!.verdict));
      expect([...verdicts].sort()).toEqual(['correct', 'hallucination', 'wrong_api']);
    }
  });

  it("reproduces the mirror's verdict and matched API for every response", () => {
    const mismatches: string[] = [];
    const results = responses.map((r) => {
      const result = astMatch({ hub: r.hub, questionId: r.question_id, response: r.text });
      const want = expected.results[r.id]!;
      if (result.verdict !== want.verdict || (result.matchedApi?.index ?? null) !== want.matched_api_index) {
        mismatches.push(`${r.id}: ${result.verdict}/${result.matchedApi?.index} != ${want.verdict}/${want.matched_api_index}`);
      }
      if (want.matched_api_call !== null) expect(result.matchedApi?.apiCall).toBe(want.matched_api_call);
      return result;
    });
    expect(mismatches).toEqual([]);
    const summary = summarizeAstMatches(results);
    expect(summary).toMatchObject({ total: responses.length, correct: expected.counts.correct, wrongApi: expected.counts.wrong_api, hallucination: expected.counts.hallucination });
    expect(summary.accuracy).toBeCloseTo(expected.counts.correct / responses.length, 12);
    expect(summary.hallucinationRate).toBeCloseTo(expected.counts.hallucination / responses.length, 12);
  });

  it("judges the eval set's own answers correct and invented APIs hallucinated", () => {
    const kinds = (kind: FixtureResponse['kind']) => responses.filter((r) => r.kind === kind && r.hub !== 'torchhub');
    for (const r of kinds('reference')) expect(astMatch({ hub: r.hub, questionId: r.question_id, response: r.text }).verdict, r.id).not.toBe('hallucination');
    for (const r of kinds('invented')) expect(astMatch({ hub: r.hub, questionId: r.question_id, response: r.text }).verdict, r.id).toBe('hallucination');
  });

  it('extracts the api_call as Gorilla does, including without a closing parenthesis or marker', () => {
    expect(extractApiCall('<<<domain>>>: x, <<<api_call>>>: pipeline(\'a\', model=\'b\'), <<<api_provider>>>: y', 'huggingface')).toBe("pipeline('a', model='b')");
    expect(extractApiCall("<<<api_call>>>: f('x'", 'tensorflowhub')).toBe("f('x");
    expect(extractApiCall("f('x')", 'huggingface')).toBe("f('x')");
    expect(extractApiCall("f('x')", 'torchhub')).toBeNull();
  });

  it('rejects a question id outside the eval set', () => {
    expect(() => astMatch({ hub: 'torchhub', questionId: 0, response: 'x' })).toThrow(RangeError);
    expect(() => astMatch({ hub: 'torchhub', questionId: 187, response: 'x' })).toThrow(/1\.\.186/);
  });
});

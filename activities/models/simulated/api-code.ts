import { apiBenchQuestion, codeOfAnswer, loadApiBenchFile, type ApiBenchQuestion } from '../../datasets/apibench';
import { extractApiCall } from '../../metrics/ast-match/extract-api-call';
import type { SeededRandom } from '../../simulation/seeded-random';

/**
 * Answers of the simulated API-code policy (role "api-code"), for APIBench questions: the
 * reference answer, the reference answer of another question that calls a different API
 * (wrong_api), the reference answer with its API replaced by an invented one (hallucination), or
 * the reference answer with its code cut so that it does not compile (broken).
 */
export type SimulatedApiOutcome = 'reference' | 'wrong_api' | 'hallucination' | 'broken';

export function simulatedQuestion(taskId: string | undefined): ApiBenchQuestion | undefined {
  return taskId === undefined ? undefined : apiBenchQuestion(taskId);
}

/** The first string literal of a call, e.g. the model name in from_pretrained('org/model'). */
function firstLiteral(call: string): string | undefined {
  return /(['"])([^'"]+)\1/.exec(call)?.[2];
}

/** Failure modes as the policy's checkpoint cannot yet avoid them: one draw picks the kind. */
export function failedAnswer(q: ApiBenchQuestion, rng: SeededRandom): { text: string; outcome: SimulatedApiOutcome } {
  const kind = rng.next();
  if (kind < 0.4) {
    const others = loadApiBenchFile(q.hub, q.source).filter((o) => o.apiCall !== q.apiCall && o.referenceOutput);
    if (others.length > 0) return { text: rng.pick(others).referenceOutput, outcome: 'wrong_api' };
  }
  if (kind < 0.8) {
    // The model name (or URL, or repo) the answer's own api_call names, else the record's.
    const literal = [extractApiCall(q.referenceOutput, q.hub) ?? '', q.apiCall].map(firstLiteral).find((l) => l !== undefined && q.referenceOutput.includes(l));
    const invented = `simulated-invented/${['nimbus', 'quartz', 'tundra', 'saffron', 'helix'][rng.int(5)]}-${rng.int(1000)}`;
    if (literal) return { text: q.referenceOutput.split(literal).join(invented), outcome: 'hallucination' };
  }
  // Broken: the code loses its last closing parenthesis, so it no longer compiles.
  const code = codeOfAnswer(q.referenceOutput);
  const cut = code?.lastIndexOf(')') ?? -1;
  if (code && cut >= 0) return { text: q.referenceOutput.replace(code, code.slice(0, cut) + code.slice(cut + 1)), outcome: 'broken' };
  return { text: `${q.referenceOutput}\n<<<code>>>: import (`, outcome: 'broken' };
}

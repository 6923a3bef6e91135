import { createHash } from 'node:crypto';
import { FakeOpenAIServer, type ScriptedAnswer } from '../models/fake-openai-server';

/**
 * An AI-feedback judge behind the real OpenAI protocol (the test double for GPT-3.5): it answers
 * the rubric's yes/no questions deterministically from the question it is asked, over HTTP, to
 * the real `openai` client.
 *  - logprobs mode: answers "Yes" or "No" with top_logprobs holding both (and a third, unrelated
 *    token), so P(Yes) is readable;
 *  - text mode: answers "Yes, ..." or "No, ..." and never returns logprobs, as servers without
 *    logprob support do;
 *  - in both, a deterministic share of questions gets a malformed answer (neither yes nor no),
 *    which must be recorded as unscorable, never as 0.
 * Every answer it gives is logged by prompt, so tests can check stored scores against it.
 */
export const JUDGE_MODEL = 'judge-large';

export interface JudgeDecision {
  kind: 'yes' | 'no' | 'malformed';
  pYes: number;
}

export interface JudgeOptions {
  logprobs: boolean;
  /** one question in this many gets a malformed answer (0: never) */
  malformedEvery?: number;
}

function unit(...parts: string[]): number {
  return createHash('sha256').update(parts.join('\0')).digest().readUInt32LE(0) / 2 ** 32;
}

/** What the judge answers to a prompt: a pure function of the prompt, so every run agrees. */
export function judgeDecision(prompt: string, malformedEvery: number): JudgeDecision {
  const noApi = prompt.includes('None: no API in the database matches');
  // Answers that call no database API rarely deserve a yes; the rest are spread out.
  const pYes = noApi ? 0.05 + 0.15 * unit('p', prompt) : 0.35 + 0.6 * unit('p', prompt);
  if (malformedEvery > 0 && Math.floor(unit('malformed', prompt) * malformedEvery) === 0) return { kind: 'malformed', pYes };
  return { kind: pYes >= 0.5 ? 'yes' : 'no', pYes };
}

export class JudgeServer {
  readonly server: FakeOpenAIServer;
  /** prompt -> what was answered */
  readonly answered = new Map<string, JudgeDecision>();

  constructor(private readonly options: JudgeOptions) {
    this.server = new FakeOpenAIServer({ models: [JUDGE_MODEL], answer: (prompt) => this.answer(prompt) });
  }

  async start(): Promise<this> {
    await this.server.start();
    return this;
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  get baseURL(): string {
    return this.server.baseURL;
  }

  /** The judge backend config a campaign names (chat API, as the rubric needs). */
  backendConfig() {
    return { backend: 'openai' as const, baseUrl: this.baseURL, model: JUDGE_MODEL, api: 'chat' as const, maxConcurrency: 8, timeoutMs: 10_000 };
  }

  private answer(prompt: string): ScriptedAnswer {
    const d = judgeDecision(prompt, this.options.malformedEvery ?? 0);
    this.answered.set(prompt, d);
    if (d.kind === 'malformed') {
      const text = 'It depends on the environment the code runs in.';
      return this.options.logprobs
        ? { text, tokens: [{ token: 'It', logprob: -0.2, top: [{ token: 'It', logprob: -0.2 }, { token: 'The', logprob: -2.1 }, { token: 'This', logprob: -3 }] }] }
        : { text };
    }
    if (!this.options.logprobs) return { text: d.kind === 'yes' ? 'Yes, it does.' : 'No, it does not.' };
    const top = [
      { token: 'Yes', logprob: Math.log(d.pYes * 0.98) },
      { token: 'No', logprob: Math.log((1 - d.pYes) * 0.98) },
      { token: 'Maybe', logprob: Math.log(0.02) },
    ].sort((a, b) => b.logprob - a.logprob);
    const chosen = d.kind === 'yes' ? top.find((t) => t.token === 'Yes')! : top.find((t) => t.token === 'No')!;
    return { text: chosen.token, tokens: [{ token: chosen.token, logprob: chosen.logprob, top }] };
  }
}

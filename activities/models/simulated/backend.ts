import type { SimulatedBackendConfig } from '../../../common/model-config';
import { badRequestFailure, unsupportedFailure } from '../failures';
import { SeededRandom } from '../../simulation/seeded-random';
import type { GenerateRequest, GenerateResult, ModelBackend, Sample, SampleMeta, ScorePair } from '../types';
import { failedAnswer, simulatedQuestion } from './api-code';
import { failedJavaProgram, isJavaTaskId, simulatedJavaReference } from './java-programs';
import { corruptProgram, goldProgram, recordedFailure, similarity } from './programs';

/**
 * A seeded, deterministic stand-in for a model, so a campaign config can be dry-run end to end
 * before spending GPU days, and chaos/load tests run fast. Every output is labelled simulated.
 *
 * Deterministic in (seed, taskId, sampleIndex, checkpoint): a retried activity draws identical
 * samples. Quality rises with the checkpoint's training examples: the pass probability closes
 * half of the gap to `quality.ceiling` every `quality.halfwayExamples` examples. Each sample's
 * uniform draw does not depend on the checkpoint, so a sample that passes at one checkpoint
 * passes at every better one.
 */
export class SimulatedBackend implements ModelBackend {
  readonly backend = 'simulated' as const;
  readonly model: string;

  constructor(private readonly config: SimulatedBackendConfig) {
    this.model = config.model;
  }

  /** pass probability of this checkpoint, before per-task difficulty */
  get passProbability(): number {
    const { initial, ceiling, halfwayExamples } = this.config.quality;
    return ceiling - (ceiling - initial) * 0.5 ** (this.config.trained.examples / halfwayExamples);
  }

  private meta(extra: Record<string, unknown>): SampleMeta {
    return { backend: 'simulated', simulated: true, model: this.model, role: this.config.role, trained: this.config.trained, ...extra };
  }

  generate(req: GenerateRequest): Promise<GenerateResult> {
    const n = req.n ?? 1;
    if (!Number.isInteger(n) || n < 1) return Promise.reject(badRequestFailure(`n must be a positive integer, got ${n}`));
    const first = req.sampleIndexStart ?? 0;
    const indices = Array.from({ length: n }, (_, i) => first + i);
    try {
      switch (this.config.role) {
        case 'program':
          return Promise.resolve({ samples: indices.map((i) => this.program(req, i)) });
        case 'api-code':
          return Promise.resolve({ samples: indices.map((i) => this.apiCode(req, i)) });
        case 'feedback':
          return Promise.resolve({ samples: indices.map((i) => this.feedback(req, i)) });
        case 'judge':
          return Promise.resolve({ samples: indices.map((i) => this.judge(req, i)) });
        case 'reward':
          throw unsupportedFailure('simulated reward', 'generate');
      }
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  score(pairs: readonly ScorePair[]): Promise<number[]> {
    if (this.config.role !== 'reward') return Promise.reject(unsupportedFailure(`simulated ${this.config.role}`, 'score'));
    try {
      return Promise.resolve(pairs.map((p) => this.reward(p)));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private reference(taskId: string | undefined, reference: string | undefined): string {
    const ref = reference ?? (taskId === undefined ? undefined : goldProgram(taskId));
    if (ref === undefined) {
      throw badRequestFailure(
        `the simulated backend needs a reference program: pass request.reference, or a taskId of MBPP (got ${taskId === undefined ? 'none' : JSON.stringify(taskId)})`,
      );
    }
    return ref;
  }

  /** Per-task difficulty: p_task = p ** (0.5 + d), d uniform in [0, 1), fixed per (seed, task). */
  private taskDraw(taskId: string, index: number): { p: number; rng: SeededRandom; passes: boolean } {
    const difficulty = 0.5 + new SeededRandom('simulated-difficulty', this.config.seed, taskId).next();
    const p = this.passProbability ** difficulty;
    const rng = new SeededRandom('simulated-program', this.config.seed, taskId, index);
    return { p, rng, passes: rng.next() < p };
  }

  private program(req: GenerateRequest, index: number): Sample {
    if (isJavaTaskId(req.taskId)) return this.javaProgram(req, index);
    const taskId = req.taskId ?? 'none';
    const gold = this.reference(req.taskId, req.reference);
    const { p, rng, passes } = this.taskDraw(taskId, index);
    let text = gold;
    let outcome = 'gold';
    let mutation: string | undefined;
    if (!passes) {
      const bad = req.taskId === undefined ? undefined : recordedFailure(req.taskId);
      if (bad && rng.next() < 0.5) {
        text = bad.badProgram;
        outcome = 'recorded-bad';
      } else {
        ({ program: text, mutation } = corruptProgram(gold, rng));
        outcome = 'corrupted';
      }
    }
    return {
      index,
      text,
      finishReason: 'stop',
      meta: this.meta({ taskId, outcome, ...(mutation ? { mutation } : {}), passProbability: p }),
    };
  }

  /** A Java program (MBJP, MathQA-Java) for RLCF: the reference, or a failure aimed at one grounding stage (java-programs.ts). */
  private javaProgram(req: GenerateRequest, index: number): Sample {
    const taskId = req.taskId!;
    const gold = simulatedJavaReference(taskId, req.prompt, req.reference);
    if (gold === undefined) throw badRequestFailure(`the simulated Java policy needs a reference program for ${taskId} (MBJP tasks with a usable reference, or MathQA-Java)`);
    const { p, rng, passes } = this.taskDraw(taskId, index);
    const failed = passes ? undefined : failedJavaProgram(gold, req.prompt, rng);
    return {
      index,
      text: failed?.program ?? gold,
      finishReason: 'stop',
      meta: this.meta({ taskId, outcome: failed?.outcome ?? 'reference', ...(failed ? { mutation: failed.mutation } : {}), passProbability: p }),
    };
  }

  /**
   * An APIBench answer in Gorilla's format for the question `taskId` names: the reference answer
   * with probability p (rising with training, per-question difficulty as for programs), else a
   * wrong API, an invented API or code that does not compile (see api-code.ts).
   */
  private apiCode(req: GenerateRequest, index: number): Sample {
    const q = simulatedQuestion(req.taskId);
    if (!q) throw badRequestFailure(`the simulated api-code policy needs the taskId of an APIBench question, e.g. "huggingface/eval/17" (got ${JSON.stringify(req.taskId ?? null)})`);
    const difficulty = 0.5 + new SeededRandom('simulated-api-difficulty', this.config.seed, q.key).next();
    const p = this.passProbability ** difficulty;
    const rng = new SeededRandom('simulated-api-code', this.config.seed, q.key, index);
    const { text, outcome } = rng.next() < p ? { text: q.referenceOutput, outcome: 'reference' as const } : failedAnswer(q, rng);
    return { index, text, finishReason: 'stop', meta: this.meta({ taskId: q.key, outcome, passProbability: p }) };
  }

  private feedback(req: GenerateRequest, index: number): Sample {
    const human = req.taskId === undefined ? undefined : recordedFailure(req.taskId)?.feedback;
    const rng = new SeededRandom('simulated-feedback', this.config.seed, req.taskId ?? promptOf(req), index);
    const generic = [
      'The function returns the wrong value for the example in the prompt: check the return expression.',
      'The loop bounds are off by one, so the last element is never considered.',
      'The comparison is inverted: the condition selects the elements it should skip.',
    ];
    const text = human ?? rng.pick(generic);
    return { index, text, finishReason: 'stop', meta: this.meta({ taskId: req.taskId, source: human ? 'ilf-human-feedback' : 'template' }) };
  }

  /** Yes/No answers with logprobs, so a loop can read P(Yes) as RLAIF does. */
  private judge(req: GenerateRequest, index: number): Sample {
    const prompt = promptOf(req);
    const pYes = 0.05 + 0.9 * new SeededRandom('simulated-judge', this.config.seed, prompt).next();
    const yes = new SeededRandom('simulated-judge-draw', this.config.seed, prompt, index).next() < pYes;
    const lpYes = Math.log(pYes);
    const lpNo = Math.log(1 - pYes);
    const token = yes ? 'Yes' : 'No';
    return {
      index,
      text: token,
      finishReason: 'stop',
      logprobs: [{ token, logprob: yes ? lpYes : lpNo, top: [{ token: 'Yes', logprob: lpYes }, { token: 'No', logprob: lpNo }] }],
      meta: this.meta({ taskId: req.taskId, pYes }),
    };
  }

  /** similarity to the reference plus noise that shrinks as the reward model "trains" */
  private reward(pair: ScorePair): number {
    const ref = this.reference(pair.taskId, pair.reference);
    const { initial, ceiling } = this.config.quality;
    const progress = ceiling > initial ? (this.passProbability - initial) / (ceiling - initial) : 1;
    const sigma = 0.3 * (1 - progress) + 0.02;
    const rng = new SeededRandom('simulated-reward', this.config.seed, pair.taskId ?? '', pair.prompt, pair.program);
    // Box-Muller on two seeded uniforms
    const gaussian = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    return similarity(pair.program, ref) + sigma * gaussian;
  }
}

function promptOf(req: GenerateRequest): string {
  return req.prompt ?? req.messages?.map((m) => `${m.role}: ${m.content}`).join('\n') ?? '';
}

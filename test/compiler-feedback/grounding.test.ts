import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCompilerFeedbackActivities, type GroundingRecord, type GroundProgramInput } from '../../loops/rlcf/activities/grounding';
import { DISCRIMINATOR_QUESTION, DISCRIMINATOR_VERSION, discriminatorRecord } from '../../loops/rlcf/activities/discriminator-rubric';
import { mbjpSplit, type JavaTask } from '../../activities/datasets/mbjp-split';
import { sampleTasks } from '../../activities/sandbox/dataset-check';
import { ModelBackendCache, parseModelBackendConfig } from '../../activities/models/index';
import { createSandboxRunner, type SandboxPoolRunner } from '../../activities/sandbox/sandbox-runner';
import type { RlcfGroundingConfigInput } from '../../loops/rlcf/activities/config';
import { FakeOpenAIServer, type ScriptedAnswer } from '../models/fake-openai-server';
import { activityEnv } from '../training/helpers';

/**
 * RLCF's grounding stages on real Java programs through the real sandbox (javac in the confined
 * compile server, one JVM per program), with the discriminator served over the OpenAI protocol
 * by a local server: P(Yes) from logprobs, parsed answers, malformed answers (unscorable).
 */
const JUDGE_MODEL = 'discriminator-large';
let sandbox: SandboxPoolRunner;
let judge: FakeOpenAIServer;
const models = new ModelBackendCache();
/** candidate-program marker -> the judge's scripted answer */
const answers = new Map<string, ScriptedAnswer>();
const FALLBACK: ScriptedAnswer = { text: 'Yes', tokens: [{ token: 'Yes', logprob: Math.log(0.9), top: [{ token: 'Yes', logprob: Math.log(0.9) }, { token: 'No', logprob: Math.log(0.1) }] }] };

function judgeAnswer(prompt: string): ScriptedAnswer {
  const candidate = prompt.slice(prompt.indexOf('Candidate program:'));
  for (const [marker, answer] of answers) if (candidate.includes(marker)) return answer;
  return FALLBACK;
}

let task: JavaTask;

beforeAll(async () => {
  sandbox = createSandboxRunner({ size: 2 });
  judge = await new FakeOpenAIServer({ models: [JUDGE_MODEL], answer: judgeAnswer }).start();
  task = mbjpSplit().sets.train!.find((t) => t.taskId === 'MBJP/634')!; // evenPowerSum(int n): int
  await sandbox.warmUp();
});

afterAll(async () => {
  await models.closeAll();
  await judge?.stop();
  await sandbox?.close();
});

const judgeConfig = () => parseModelBackendConfig({ backend: 'openai', baseUrl: judge.baseURL, model: JUDGE_MODEL, api: 'chat', maxConcurrency: 4, timeoutMs: 10_000 });

/** The task's prompt completed with `body` (the method's body and the class's closing brace). */
function item(body: string, marker: string, over: Partial<GroundProgramInput> = {}): GroundProgramInput {
  return {
    taskId: task.taskId,
    program: `${task.prompt}        // ${marker}\n${body}\n    }\n}\n`,
    prompt: task.prompt,
    tests: task.tests,
    task: { description: task.description, reference: task.reference! },
    ...over,
  };
}

const CORRECT = 'int sum = 0;\n for (int i = 1; i <= n; i++) { int j = 2 * i; sum += j * j * j * j; }\n return sum;';

async function ground(items: GroundProgramInput[], config?: RlcfGroundingConfigInput, runner: SandboxPoolRunner = sandbox): Promise<GroundingRecord[]> {
  const { run } = activityEnv();
  return run(createCompilerFeedbackActivities({ sandbox: runner, models, concurrency: 2 }).groundPrograms, { items, judge: judgeConfig(), config });
}

describe('grounding stages', () => {
  it('passes a correct program through every stage: compiled, clean, tests passed, discriminator asked', async () => {
    const [r] = await ground([item(CORRECT, 'correct')]);
    expect(r!.compile).toMatchObject({ outcome: 'compiled', errors: 0, warnings: 0 });
    expect(r!.compile.compileMs).toBeGreaterThan(0);
    expect(r!.staticChecks).toEqual({ version: 'rlcf-static-checks-v1', passed: true, lint: [], signature: { status: 'ok' } });
    expect(r!.tests).toMatchObject({ outcome: 'passed' });
    expect(r!.discriminator).toMatchObject({ question: 'equivalent', method: 'logprobs' });
    expect(r!.discriminator!.pYes).toBeCloseTo(0.9);
    expect(r!.reward.status).toBe('scored');
    expect(r!.reward.reward).toBeCloseTo(1.4); // 0.9 + 0.5 test bonus
    expect(r!.versions).toEqual({ staticChecks: 'rlcf-static-checks-v1', discriminator: DISCRIMINATOR_VERSION });
  });

  it('scores a compile error -1 with javac\'s bounded diagnostics, and asks no one else', async () => {
    const before = judge.count('POST', /chat\/completions/);
    const [r] = await ground([item('return "272";', 'compile-error')]);
    expect(r!.compile.outcome).toBe('compile_error');
    expect(r!.compile.errors).toBe(1);
    expect(r!.compile.diagnostics).toMatch(/Main\.java:\d+: error: incompatible types: (java\.lang\.)?String cannot be converted to int/);
    expect(r!.staticChecks).toBeNull();
    expect(r!.tests).toBeNull();
    expect(r!.discriminator).toBeNull();
    expect(r!.reward).toEqual({ status: 'scored', reward: -1, terms: { compile: -1 } });
    expect(judge.count('POST', /chat\/completions/)).toBe(before);
  });

  it('fails the static checks on a listed lint warning (fallthrough) even when the tests pass', async () => {
    const body = 'int sum = 0;\n for (int i = 1; i <= n; i++) { int j = 2 * i;\n switch (j % 2) { case 0: sum += j * j * j * j; default: sum += 0; } }\n return sum;';
    const [r] = await ground([item(body, 'fallthrough')]);
    expect(r!.compile.outcome).toBe('compiled');
    expect(r!.staticChecks!.passed).toBe(false);
    expect(r!.staticChecks!.lint).toEqual([expect.objectContaining({ category: 'fallthrough', message: 'possible fall-through into case' })]);
    expect(r!.tests!.outcome).toBe('passed');
    expect(r!.reward.reward).toBeCloseTo(0.9 + 0.5 - 0.5);
  });

  it('keeps a warning outside the list (a redundant cast) as evidence without failing the checks', async () => {
    const [r] = await ground([item(CORRECT.replace('return sum;', 'return (int) sum;'), 'redundant-cast')]);
    expect(r!.compile.warnings).toBe(1);
    expect(r!.compile.diagnostics).toMatch(/Main\.java:\d+: warning: (\[cast\] )?redundant cast to int/);
    expect(r!.staticChecks).toMatchObject({ passed: true, lint: [] });
    expect(r!.reward.reward).toBeCloseTo(1.4);
  });

  it('finds a wrong signature in a program written whole (a long instead of the int the prompt asks for)', async () => {
    const program = `import java.util.*;\nclass EvenPowerSum {\n    public static long evenPowerSum(int n) { // wrong-signature\n ${CORRECT.replace('int sum', 'long sum')}\n    }\n}\n`;
    const [r] = await ground([{ ...item(CORRECT, 'x'), program }]);
    expect(r!.compile.outcome).toBe('compiled');
    expect(r!.staticChecks!.signature).toMatchObject({ status: 'wrong_signature', detail: expect.stringContaining('expected static int evenPowerSum(int), found static long evenPowerSum(int)') });
    expect(r!.staticChecks!.passed).toBe(false);
    // MBXP's tests assign the result to an int: they do not compile against it
    expect(r!.tests!.outcome).toBe('compile_error');
    expect(r!.reward.reward).toBeCloseTo(Math.max(-1, 0.9 - 0.5 - 0.5));
  });

  it('tells failing tests, a runtime exception and an early System.exit(0) apart, none of them passed', async () => {
    const records = await ground([
      item(CORRECT.replace('return sum;', 'return sum + 1;'), 'off-by-one'),
      item('int[] xs = new int[n];\n return xs[n];', 'out-of-bounds'),
      item('System.exit(0);\n return 0;', 'early-exit'),
    ]);
    const [failing, throwing, exiting] = records;
    expect(failing!.tests).toMatchObject({ outcome: 'failed', detail: expect.stringContaining('test case 0 did not pass. x0 = 273') });
    expect(throwing!.tests).toMatchObject({ outcome: 'runtime_error', detail: expect.stringContaining('ArrayIndexOutOfBoundsException') });
    expect(exiting!.tests!.outcome).not.toBe('passed');
    expect(exiting!.tests!.outcome).not.toBe('infra_error');
    for (const r of records) {
      expect(r.staticChecks!.passed).toBe(true);
      expect(r.reward.reward).toBeCloseTo(0.9 - 0.5);
    }
  });

  it('grounds MBJP references (a seeded sample): compiled, clean, passed', async () => {
    const refs = sampleTasks(mbjpSplit().sets.train!, 6, 11);
    const records = await ground(refs.map((t) => ({ taskId: t.taskId, program: t.reference!, prompt: t.prompt, tests: t.tests, task: { description: t.description, reference: t.reference! } })));
    for (const r of records) {
      expect(r.compile.outcome, r.taskId).toBe('compiled');
      expect(r.staticChecks!.passed, r.taskId).toBe(true);
      expect(r.tests!.outcome, r.taskId).toBe('passed');
    }
  });
});

describe('the discriminator over the OpenAI protocol', () => {
  it('shows the task, the reference and the program, and reads P(Yes) from the top logprobs', async () => {
    answers.set('judge-logprobs', {
      text: 'No',
      tokens: [{ token: 'No', logprob: Math.log(0.6), top: [{ token: 'No', logprob: Math.log(0.6) }, { token: 'Yes', logprob: Math.log(0.3) }, { token: 'Maybe', logprob: Math.log(0.1) }] }],
    });
    const [r] = await ground([item(CORRECT, 'judge-logprobs')], { reward: { tests: 'ignore' } });
    expect(r!.discriminator).toMatchObject({ method: 'logprobs', text: 'No' });
    expect(r!.discriminator!.pYes).toBeCloseTo(0.3 / 0.9);
    expect(r!.reward).toMatchObject({ status: 'scored', terms: { discriminator: r!.discriminator!.pYes } });
    const request = judge.requests.filter((q) => q.path.endsWith('/chat/completions')).map((q) => q.body as { messages: { content: string }[]; logprobs?: boolean; top_logprobs?: number; temperature?: number }).find((b) => b.messages.at(-1)!.content.includes('judge-logprobs'))!;
    const prompt = request.messages.at(-1)!.content;
    expect(prompt).toContain(task.description);
    expect(prompt).toContain(task.reference!.trim());
    expect(prompt).toContain(`Question: ${DISCRIMINATOR_QUESTION}`);
    expect(request).toMatchObject({ logprobs: true, top_logprobs: 5, temperature: 0 });
    expect(discriminatorRecord('auto')).toMatchObject({ version: 'rlcf-discriminator-v1', question: DISCRIMINATOR_QUESTION });
  });

  it('parses a yes/no answer when the server returns no logprobs', async () => {
    answers.set('judge-parsed', { text: 'No, it adds one to the sum.' });
    const [r] = await ground([item(CORRECT.replace('return sum;', 'return sum + 1;'), 'judge-parsed')]);
    expect(r!.discriminator).toMatchObject({ method: 'parsed', pYes: 0 });
    expect(r!.reward).toMatchObject({ status: 'scored', terms: { discriminator: 0, tests: -0.5 } });
    expect(r!.reward.reward).toBeCloseTo(-0.5);
  });

  it('records a malformed answer as unscorable, never 0', async () => {
    answers.set('judge-malformed', { text: 'It depends on the input.', tokens: [{ token: 'It', logprob: -0.1, top: [{ token: 'It', logprob: -0.1 }, { token: 'The', logprob: -2.5 }] }] });
    const [r] = await ground([item(CORRECT, 'judge-malformed')]);
    expect(r!.discriminator).toMatchObject({ pYes: null, method: null, problem: 'the answer is neither yes nor no' });
    expect(r!.tests!.outcome).toBe('passed');
    expect(r!.reward).toMatchObject({ status: 'unscorable', reward: null, reason: 'discriminator_unscorable' });
  });

  it('is not asked when the test result replaces it', async () => {
    answers.set('judge-not-asked', { text: 'It depends.' });
    const before = judge.count('POST', /chat\/completions/);
    const [r] = await ground([item(CORRECT, 'judge-not-asked')], { reward: { tests: 'replace' } });
    expect(r!.discriminator).toBeNull();
    expect(r!.reward).toEqual({ status: 'scored', reward: 1, terms: { tests: 1 } });
    expect(judge.count('POST', /chat\/completions/)).toBe(before);
  });
});

describe('sandbox infrastructure failures', () => {
  it('re-runs a stage hit by an infra_error, and leaves the program unscorable when the sandbox keeps failing', async () => {
    const broken = createSandboxRunner({ size: 1, faults: { rate: 1, seed: 5 } });
    try {
      const [r] = await ground([item(CORRECT, 'infra')], { infraRetries: 1 }, broken);
      expect(r!.compile.outcome).toBe('infra_error');
      expect(r!.reward).toMatchObject({ status: 'unscorable', reward: null, reason: 'infra_error' });
      expect(r!.tests).toBeNull();
    } finally {
      await broken.close();
    }
    const flaky = createSandboxRunner({ size: 1, faults: { rate: 0.3, seed: 3 } });
    try {
      const records = await ground([item(CORRECT, 'flaky-1'), item(CORRECT, 'flaky-2')], { infraRetries: 5 }, flaky);
      for (const r of records) expect(r.reward.status).toBe('scored');
    } finally {
      await flaky.close();
    }
  });
});

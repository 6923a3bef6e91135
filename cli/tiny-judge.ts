import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { judgeMessages, FEEDBACK_QUESTION_IDS } from '../activities/feedback/ai-feedback-rubric';
import { selectQuestions, type ApiBenchQuestion } from '../activities/datasets/apibench';
import { findCalledApi } from '../activities/metrics/executability';
import { codeOfAnswer } from '../activities/datasets/apibench';
import { loadModelConfig, loadTokenizer } from '../activities/models/onnx/model-files';
import { chatPrompt, fitPrompt, startOnnxOpenAiServer, type OnnxOpenAiServer } from '../activities/models/onnx/openai-server';
import { writeJsonl } from '../activities/training/training-sets';
import { ConfigError } from '../common/config-error';
import { API_HUBS } from '../common/datasets';
import { PROJECT_ROOT } from '../infra/paths';

/**
 * RLAIF's judge on a machine with no larger model: the tiny code model, fine-tuned by the
 * reference trainer (`sft`) to answer the AI-feedback rubric's yes/no questions, served over the
 * OpenAI protocol by `startOnnxOpenAiServer`. The tiny model's 1,024-token vocabulary has no
 * "Yes"/"No" token and it never answers in words, so it cannot judge untrained.
 *
 * Its training set, from the RLAIF training questions only (never the evaluated ones): for each
 * question, its reference answer (Yes to every question) and the reference answer of another
 * question of another API (No to "is the API right" and "are its arguments right"; Yes to "will
 * it run", as it is working code). It is a weak judge, but a real model served by a real server:
 * its answers are read as text (`parsed`), and the campaign audits them as any judge's.
 */
export const JUDGE_NAME = 'tiny-judge';
/** the judge's answer budget: RLAIF's feedback.maxTokens in examples/rlaif-tiny-real.yaml */
const ANSWER_TOKENS = 4;
const QUESTIONS = 160;

const judgeDirOf = (modelDir: string) => `${modelDir.replace(/\/+$/, '')}-judge`;

async function judgeTrainingSet(modelDir: string): Promise<{ prompt: string; completion: string }[]> {
  const onnx = path.join(modelDir, 'onnx');
  const tokenizer = await loadTokenizer(onnx);
  const context = loadModelConfig(onnx).maxPositions;
  const questions = selectQuestions({ part: 'train', hubs: [...API_HUBS], heldOutFraction: 0.2 });
  // every few questions, in file order: all hubs, deterministic
  const picked = questions.filter((_, i) => i % Math.max(1, Math.floor(questions.length / QUESTIONS)) === 0).slice(0, QUESTIONS);
  const rows: { prompt: string; completion: string }[] = [];
  const example = (q: ApiBenchQuestion, response: string, question: (typeof FEEDBACK_QUESTION_IDS)[number], yes: boolean) => {
    const doc = findCalledApi(codeOfAnswer(response) ?? '', q.hub);
    const fit = fitPrompt(tokenizer, chatPrompt(judgeMessages(question, q.instruction, response, doc)), context, ANSWER_TOKENS);
    if (fit) rows.push({ prompt: fit.prompt, completion: yes ? 'Yes' : 'No' });
  };
  picked.forEach((q, i) => {
    const other = picked.slice(i + 1).concat(picked.slice(0, i)).find((o) => o.apiCall !== q.apiCall) ?? q;
    for (const question of FEEDBACK_QUESTION_IDS) {
      example(q, q.referenceOutput, question, true);
      example(q, other.referenceOutput, question, question === 'executes');
    }
  });
  return rows;
}

/** Makes the judge next to the tiny model (`<modelDir>-judge`) unless it is there. */
export async function ensureTinyJudge(modelDir: string, log: (line: string) => void = () => undefined): Promise<string> {
  const judgeDir = judgeDirOf(modelDir);
  if (fs.existsSync(path.join(judgeDir, 'onnx', 'model.onnx'))) return judgeDir;
  const work = `${judgeDir}.work`;
  fs.rmSync(work, { recursive: true, force: true });
  const rows = await judgeTrainingSet(modelDir);
  const datasetPath = path.join(work, 'judge-sft.jsonl');
  await writeJsonl(datasetPath, rows);
  log(`making the tiny judge in ${judgeDir}: sft of the tiny model on ${rows.length} rubric answers (reference trainer)`);
  const spec = {
    protocol: 1, jobId: 'tiny-judge', kind: 'sft', baseModel: path.resolve(modelDir), datasetPath, evalDatasetPath: null, outputDir: path.join(work, 'out'),
    resumeFromCheckpoint: null, resumeFromStep: 0, attempt: 1,
    hyperparameters: { max_steps: 120, batch_size: 8, learning_rate: 3e-3, checkpoint_every: 120, max_length: 512, seed: 0 },
  };
  const specPath = path.join(work, 'job-spec.json');
  fs.writeFileSync(specPath, JSON.stringify(spec));
  // stdin stays open: the trainer takes its end as its supervisor's death
  const child = spawn('bash', [path.join(PROJECT_ROOT, 'trainers', 'reference', 'run.sh'), specPath], { stdio: ['pipe', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const status = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  child.stdin.destroy();
  const events = stdout.split('\n').map((l) => {
    try {
      return JSON.parse(l) as { event?: string; modelPath?: string; message?: string };
    } catch {
      return {};
    }
  });
  const final = events.find((e) => e.event === 'done')?.modelPath;
  if (status !== 0 || !final) {
    throw new ConfigError(`making the tiny judge failed (exit ${status}): ${events.find((e) => e.event === 'error')?.message ?? 'see the lines above'}`);
  }
  fs.rmSync(judgeDir, { recursive: true, force: true });
  fs.renameSync(final, judgeDir);
  fs.rmSync(work, { recursive: true, force: true });
  return judgeDir;
}

/** Makes the judge if missing and serves it on a free local port (`model: tiny-judge`). */
export async function startTinyJudge(modelDir: string, log: (line: string) => void = () => undefined): Promise<OnnxOpenAiServer> {
  const judgeDir = await ensureTinyJudge(modelDir, log);
  const server = await startOnnxOpenAiServer({ modelDir: path.join(judgeDir, 'onnx'), name: JUDGE_NAME, intraOpThreads: 1 });
  log(`judge: ${judgeDir}/onnx served over the OpenAI protocol at ${server.baseUrl} (model ${JUDGE_NAME})`);
  return server;
}

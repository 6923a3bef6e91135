import fs from 'node:fs';
import path from 'node:path';
import { judgeMessages, FEEDBACK_QUESTION_IDS } from '../activities/feedback/ai-feedback-rubric';
import { selectQuestions, type ApiBenchQuestion } from '../activities/datasets/apibench';
import { findCalledApi } from '../activities/metrics/executability';
import { codeOfAnswer } from '../activities/datasets/apibench';
import { loadModelConfig, loadTokenizer } from '../activities/models/onnx/model-files';
import { chatPrompt, fitPrompt, startOnnxOpenAiServer, type OnnxOpenAiServer } from '../activities/models/onnx/openai-server';
import { API_HUBS } from '../common/datasets';
import { runReferenceSft } from './reference-sft';

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
  const rows = await judgeTrainingSet(modelDir);
  log(`making the tiny judge in ${judgeDir}: sft of the tiny model on ${rows.length} rubric answers (reference trainer)`);
  const final = await runReferenceSft({
    jobId: 'tiny-judge', baseModel: modelDir, rows, workDir: work, what: 'making the tiny judge',
    hyperparameters: { max_steps: 120, batch_size: 8, learning_rate: 3e-3, checkpoint_every: 120, max_length: 512, seed: 0 },
  });
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

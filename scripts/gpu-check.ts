/**
 * The GPU check (scripts/gpu-check.sh runs it): on a CUDA host, the reduced tiny-real campaigns
 * with the reference trainer on CUDA (ILF `sft`; RLAIF `reward_model` and `policy_update`), the
 * policy and the reward model through the onnx backend's CUDA execution provider, all picked up by
 * this host's GPU worker from the GPU queue; then greedy generations of the trained export on the
 * CUDA execution provider against the CPU's. Prints one line per check; exits 1 on any failure.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withPool } from '../infra/pool';
import { loadMbpp, MBPP_SPLITS, mbppPrompt } from '../activities/datasets/mbpp';
import { OnnxBackend } from '../activities/models/onnx/backend';
import { connectClient } from '../cli/evaluate';
import { startTinyJudge } from '../cli/tiny-judge';
import { ensureTinyModel, runTinyRealCampaign, type TinyRealRun } from '../cli/tiny-real';
import { isolatedEnv, downLocalServers, upLocalServers } from '../infra/local-servers';
import { createLogger } from '../infra/logger';
import { resolveWorkerOptions } from '../workers/options';
import { hostQueue, startWorkers } from '../workers/run-workers';

type Job = { id: string; status: string; weights: string; workerTaskQueue: string | null; checkpoint: string | null; learningSignal: { policyAfter: string } | null };
const failures: string[] = [];
const check = (ok: boolean, what: string) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};

/** The trainer says which device it trained on in its log (trainers/reference/feedloop_trainer/loop.py). */
function trainedOnCuda(checkpoint: string | null): boolean {
  if (!checkpoint) return false;
  const logs = path.join(path.dirname(checkpoint), 'logs');
  return fs.existsSync(logs) && fs.readdirSync(logs).some((f) => /on device cuda/.test(fs.readFileSync(path.join(logs, f), 'utf8')));
}

async function greedyEqual(modelDir: string): Promise<void> {
  const prompts = loadMbpp().filter((t) => t.taskId >= MBPP_SPLITS.test[0]).slice(0, 5).map(mbppPrompt);
  const base = { backend: 'onnx' as const, task: 'causal-lm' as const, modelDir, modelFile: 'model.onnx', deviceId: 0, batchSize: 8, maxLength: 1024, rewardLabel: 0, scoreTransform: 'logit' as const };
  const cpu = await OnnxBackend.load({ ...base, executionProvider: 'cpu' });
  const cuda = await OnnxBackend.load({ ...base, executionProvider: 'cuda' });
  try {
    let same = 0;
    let maxDiff = 0;
    for (const prompt of prompts) {
      const req = { prompt, temperature: 0, maxTokens: 48, logprobs: true };
      const [a] = (await cpu.generate(req)).samples;
      const [b] = (await cuda.generate(req)).samples;
      if (a!.text === b!.text) same++;
      a!.logprobs!.forEach((t, i) => (maxDiff = Math.max(maxDiff, Math.abs(t.logprob - (b!.logprobs![i]?.logprob ?? Infinity)))));
    }
    check(same === prompts.length, `onnx CUDA EP greedy generations equal the CPU's on ${modelDir} (${same}/${prompts.length} prompts; max |logprob diff| ${maxDiff.toExponential(2)})`);
  } finally {
    await cpu.close();
    await cuda.close();
  }
}

async function main(): Promise<number> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'feedloop-gpu-check-'));
  const env = await isolatedEnv(home);
  const modelDir = ensureTinyModel(path.join(home, 'tiny-code'), (l) => console.log(l), 40);
  const servers = await upLocalServers(env);
  const opts = resolveWorkerOptions({ temporalAddress: servers.temporalAddress, databaseUrl: servers.databaseUrl });
  check(opts.gpus >= 1, `the GPU worker sees ${opts.gpus} GPU(s)`);
  const workers = await startWorkers(['workflow', 'cpu', 'gpu'], opts, { log: createLogger('gpu-check', 'warn') });
  const { client, close } = await connectClient(servers.temporalAddress, env.TEMPORAL_NAMESPACE);
  const judge = await startTinyJudge(modelDir, (l) => console.log(l));
  const runs: TinyRealRun[] = [];
  try {
    await withPool(servers.databaseUrl, async (pool) => {
      for (const loop of ['ilf', 'rlaif'] as const) {
        const run = await runTinyRealCampaign(client, pool, loop, `gpu-check-${loop}`, { reduced: true, modelDir, judgeBaseUrl: judge.baseUrl, device: 'cuda', iterations: loop === 'ilf' ? 2 : 1 });
        runs.push(run);
        check(run.status === 'completed', `${loop} tiny-real (reduced, CUDA) ${run.status} in ${(run.wallMs / 1000).toFixed(0)} s`);
      }
    });
    const gpuQueue = hostQueue(opts);
    for (const run of runs) {
      const its = (run.audit as { iterations: { training?: Job; policyUpdate?: Job; rewardModel?: { job: Job | null } }[] }).iterations;
      for (const job of its.flatMap((it) => [it.training, it.policyUpdate, it.rewardModel?.job]).filter((j): j is Job => !!j)) {
        check(job.status === 'completed' && job.weights === 'trained', `${job.id}: trained (${job.status})`);
        check(trainedOnCuda(job.checkpoint), `${job.id}: the reference trainer trained on CUDA`);
        check(job.workerTaskQueue === gpuQueue, `${job.id}: run by this host's GPU worker (${job.workerTaskQueue} = ${gpuQueue})`);
      }
    }
    const exported = (runs[0]?.audit as { iterations: { training: Job }[] } | undefined)?.iterations[0]?.training.learningSignal?.policyAfter;
    check(!!exported, 'the ILF sft job wrote an ONNX export');
    if (exported) await greedyEqual(exported);
  } finally {
    await judge.close();
    workers.shutdown();
    await workers.done;
    await close();
    await downLocalServers(env);
  }
  if (failures.length === 0) fs.rmSync(home, { recursive: true, force: true });
  else console.log(`kept ${home} for inspection`);
  console.log(failures.length ? `gpu-check: ${failures.length} check(s) FAILED` : 'gpu-check: all checks passed');
  return failures.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`gpu-check: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);

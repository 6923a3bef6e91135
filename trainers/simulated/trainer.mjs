#!/usr/bin/env node
// A trainer that follows feedloop's trainer protocol (trainers/PROTOCOL.md) without training
// anything: it "trains" for a number of steps, saving real checkpoint directories atomically,
// and writes a final model directory labelled simulated. It is what dry-run campaigns and
// chaos tests run, and what the protocol tests drive.
//
// Hyperparameters it reads (all optional):
//   totalSteps (100), checkpointEvery (10), stepMs (20), examplesPerStep (8)
//   simulate.crashAtStep      exit 1 at that step, on a fresh start only (a resumed run goes on)
//   simulate.failWith         emit an error event with this errorClass (non-retryable) and exit 2
//   simulate.ignoreSigterm    keep running on SIGTERM (to test SIGKILL escalation)
//   simulate.keepRunningOnStdinEof  do not exit when stdin closes (an orphan, to test lock takeover)
//   simulate.rewardModelFrom  (kind reward_model) the ONNX model directory copied to final/onnx/
//                             (default: the tiny committed test fixture test/fixtures/onnx/reward-model)
// Every trained step is appended to <outputDir>/ledger.jsonl as {"pid", "step", "t"} (t: epoch ms), so
// tests can check that resumed runs add up, and ledgers of one job on several hosts can be merged in time.
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const specPath = process.env.FEEDLOOP_JOB_SPEC ?? process.argv[process.argv.length - 1];
const spec = JSON.parse(fs.readFileSync(specPath, 'utf8'));
const hp = spec.hyperparameters ?? {};
const sim = hp.simulate ?? {};

function emit(event) {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function fail(errorClass, message) {
  emit({ event: 'error', errorClass, message, retryable: false });
  process.stderr.write(`${errorClass}: ${message}\n`);
  process.exit(2);
}

const totalSteps = hp.totalSteps ?? 100;
const checkpointEvery = hp.checkpointEvery ?? 10;
const stepMs = hp.stepMs ?? 20;
const examplesPerStep = hp.examplesPerStep ?? 8;
if (!Number.isInteger(totalSteps) || totalSteps < 1) fail('BadConfig', `hyperparameters.totalSteps must be a positive integer, got ${JSON.stringify(totalSteps)}`);
if (!Number.isInteger(checkpointEvery) || checkpointEvery < 1) fail('BadConfig', `hyperparameters.checkpointEvery must be a positive integer`);
if (sim.failWith) fail(sim.failWith, 'simulated configuration error');
if (!fs.existsSync(spec.datasetPath)) fail('BadConfig', `dataset not found: ${spec.datasetPath}`);
const datasetExamples = fs.readFileSync(spec.datasetPath, 'utf8').split('\n').filter((l) => l.trim()).length;
// A reward model must be one the onnx backend can score with: the final model of a reward_model
// job carries a real ONNX model in onnx/ (as the reference trainer's export does). It is a FIXED
// model copied from rewardModelFrom, not trained on the dataset; the marker file says so.
const rewardModelFrom =
  spec.kind === 'reward_model'
    ? path.resolve(sim.rewardModelFrom ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'onnx', 'reward-model'))
    : undefined;
if (rewardModelFrom && !fs.existsSync(path.join(rewardModelFrom, 'model.onnx'))) fail('BadConfig', `no model.onnx in ${rewardModelFrom} (hyperparameters.simulate.rewardModelFrom)`);

process.on('SIGTERM', () => {
  if (sim.ignoreSigterm) {
    process.stderr.write('simulated trainer ignores SIGTERM\n');
    return;
  }
  process.stderr.write('simulated trainer stopping on SIGTERM\n');
  process.exit(143);
});
// The worker holds our stdin open; EOF means it died, so stop rather than train unsupervised.
process.stdin.on('end', () => {
  if (!sim.keepRunningOnStdinEof) process.exit(0);
});
process.stdin.resume();

let step = 0;
if (spec.resumeFromCheckpoint) {
  const state = JSON.parse(fs.readFileSync(path.join(spec.resumeFromCheckpoint, 'state.json'), 'utf8'));
  step = state.step;
  process.stderr.write(`resuming from ${spec.resumeFromCheckpoint} at step ${step}\n`);
}
const resumed = step > 0;
const ledger = path.join(spec.outputDir, 'ledger.jsonl');
const loss = (s) => 2 * Math.exp((-2 * s) / totalSteps);

function saveDir(name, files, copies = {}) {
  const tmp = path.join(spec.outputDir, `.tmp-${name}-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  for (const [file, value] of Object.entries(files)) fs.writeFileSync(path.join(tmp, file), JSON.stringify(value));
  for (const [dir, from] of Object.entries(copies)) fs.cpSync(from, path.join(tmp, dir), { recursive: true });
  const final = path.join(spec.outputDir, name);
  fs.rmSync(final, { recursive: true, force: true });
  fs.renameSync(tmp, final);
  return final;
}

while (step < totalSteps) {
  await delay(stepMs);
  step++;
  fs.appendFileSync(ledger, `${JSON.stringify({ pid: process.pid, step, t: Date.now() })}\n`);
  if (sim.crashAtStep === step && !resumed) {
    process.stderr.write(`simulated crash at step ${step}: CUDA error: an illegal memory access was encountered\n`);
    process.exit(1);
  }
  emit({ event: 'progress', step, totalSteps, loss: loss(step) });
  if (step % checkpointEvery === 0 || step === totalSteps) {
    // The marker is written with the rest, inside the temp dir, so the rename publishes a complete checkpoint.
    const dir = saveDir(`checkpoint-${step}`, {
      'state.json': { step, examplesSeen: step * examplesPerStep },
      'feedloop-checkpoint.json': { step },
    });
    emit({ event: 'checkpoint', step, path: dir });
  }
}
const modelPath = saveDir(
  'final',
  {
    'feedloop-simulated-model.json': {
      simulated: true,
      kind: spec.kind,
      baseModel: spec.baseModel,
      steps: step,
      examples: step * examplesPerStep,
      datasetExamples,
      ...(rewardModelFrom ? { onnx: `a fixed model copied from ${rewardModelFrom}; not trained on the dataset` } : {}),
    },
  },
  rewardModelFrom ? { onnx: rewardModelFrom } : {},
);
emit({ event: 'metrics', step, metrics: { train_examples: step * examplesPerStep, dataset_examples: datasetExamples } });
emit({ event: 'done', modelPath, step, metrics: { loss: loss(step) } });
process.exit(0);

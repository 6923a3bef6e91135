import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { learningSignalAudit } from '../../audit/core';
import { heldOutPairs } from '../../activities/training/learning-signal';
import { appendLossPoint, LOSS_CURVE_FILE, readLossCurve } from '../../activities/training/loss-curve';
import { tempDir } from '../helpers/temp-dir';

/** The learning signal's parts that need no trainer: the loss curve file, the held-out set, the audit's flags. */
describe('learning signal', () => {
  it('the loss curve survives a resumed job: a step trained again counts its last attempt; a torn line is skipped', () => {
    const dir = tempDir('loss-curve');
    expect(readLossCurve(dir)).toEqual([]);
    appendLossPoint(dir, 1, 1, 2.5);
    appendLossPoint(dir, 1, 2, 2.0);
    appendLossPoint(dir, 1, 3, 1.9);
    fs.appendFileSync(path.join(dir, LOSS_CURVE_FILE), '{"step": 4, "lo'); // the worker died mid-write
    fs.appendFileSync(path.join(dir, LOSS_CURVE_FILE), '\n');
    appendLossPoint(dir, 2, 3, 1.8); // resumed from the checkpoint at step 2
    appendLossPoint(dir, 2, 4, 1.5);
    expect(readLossCurve(dir)).toEqual([[1, 2.5], [2, 2.0], [3, 1.8], [4, 1.5]]);
  });

  it('the held-out set is the gold programs of the first 20 MBPP_Test tasks (11-30), never a training task', () => {
    const pairs = heldOutPairs();
    expect(pairs).toHaveLength(20);
    expect(pairs[0]!.prompt).toContain('>>> Example:');
    expect(pairs.every((p) => p.program.length > 0 && !p.program.includes('\r'))).toBe(true);
  });

  const row = (over: Record<string, unknown>) => ({
    job_id: 'c/iteration-1/sft', kind: 'sft', policy_before: '/m/onnx', policy_after: '/out/final/onnx', loss_curve: [[1, 3], [2, 2]],
    held_out_set: 'mbpp-test-gold-20', held_out_pairs: 20, held_out_tokens: 900, held_out_before: -2.4, held_out_after: -2.6,
    train_pairs: 5, train_tokens: 400, train_before: -3.5, train_after: -0.7, note: null, ...over,
  });

  it('the audit: perplexities from the log-likelihoods; an sft step that did not fit its own set is flagged', () => {
    const ok = learningSignalAudit(row({}), null)!;
    expect(ok.heldOut!.before.perplexity).toBeCloseTo(Math.exp(2.4), 9);
    expect(ok.trainingSet!.after.perplexity).toBeCloseTo(Math.exp(0.7), 9);
    expect([ok.lossFirst, ok.lossLast, ok.flags]).toEqual([3, 2, []]);
    const stuck = learningSignalAudit(row({ train_after: -3.6, loss_curve: [[1, 2], [2, 2.1]] }), 'c/iteration-0/sft')!;
    expect(stuck.policyBeforeFrom).toBe('c/iteration-0/sft');
    expect(stuck.flags).toEqual([expect.stringMatching(/did not lower the loss on its own training set \(perplexity 33\.115 -> 36\.598\)/)]);
    // A short sft job whose minibatch loss ends above its first step, but whose training set it
    // fitted (measured before and after), is not flagged: the measurement is the test.
    expect(learningSignalAudit(row({ loss_curve: [[1, 4.52], [2, 3.9], [3, 4.1], [4, 4.72]] }), null)!.flags).toEqual([]);
    // Without that measurement the curve judges, by the means of its first and last quarters.
    const unmeasured = (curve: Array<[number, number]>) => learningSignalAudit(row({ train_before: null, train_after: null, loss_curve: curve }), null)!.flags;
    expect(unmeasured([[1, 2], [2, 2.1]])).toEqual(['the training loss did not fall (2.0000 at step 1 -> 2.1000 at step 2)']);
    expect(unmeasured([[1, 3], [2, 3.4], [3, 2.0], [4, 2.4], [5, 1.5], [6, 1.0], [7, 1.2], [8, 3.2]])).toEqual([]);
    expect(unmeasured([[1, 1], [2, 1.2], [3, 2.0], [4, 2.4], [5, 1.5], [6, 1.0], [7, 1.2], [8, 3.2]])).toEqual(['the training loss did not fall (1.1000 at steps 1-2 -> 2.2000 at steps 7-8)']);
    // a policy update maximises reward, not likelihood: only its loss curve is judged
    expect(learningSignalAudit(row({ kind: 'policy_update', train_after: -3.6 }), null)!.flags).toEqual([]);
    expect(learningSignalAudit(row({ kind: 'policy_update', loss_curve: [[1, 2], [2, 2.5]] }), null)!.flags).toEqual([expect.stringMatching(/training loss did not fall/)]);
    expect(learningSignalAudit(null, null)).toBeNull();
  });
});

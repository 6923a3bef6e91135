import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createIlfFineTuneActivities } from '../../loops/ilf/activities/fine-tune';
import { parseIlfCampaignConfig } from '../../loops/ilf/config';
import { tempDir } from '../helpers/temp-dir';
import { campaignId } from './helpers';

/**
 * An iteration whose filter kept no refinement: the fine-tune skips the trainer (no job would
 * learn anything from an empty set), hands back the policy unchanged and records why.
 */
describe('ILF fine-tune with no refinement kept', () => {
  let pool: pg.Pool;
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  });
  afterAll(async () => {
    await pool.end();
  });

  it('skips the update with a recorded reason, and the campaign keeps its policy', async () => {
    const blobDir = tempDir('ilf-nothing-kept');
    const id = campaignId('ilf-nothing-kept');
    const config = parseIlfCampaignConfig({
      algorithm: 'ilf',
      iterations: 1,
      models: { policy: { backend: 'onnx', task: 'causal-lm', modelDir: '/nowhere/onnx' } },
      feedback: { source: 'dataset' },
      refiner: { kind: 'dataset' },
      trainer: { kind: 'command', command: ['false'], baseModel: '/nowhere' },
    });
    const acts = createIlfFineTuneActivities({
      pool,
      blobDir,
      hostTaskQueue: 'host-a',
      training: {
        runTrainingJob: () => {
          throw new Error('the trainer must not run on an empty set');
        },
      },
    });
    try {
      const out = await acts.ilfFineTune({ campaignId: id, iteration: 1, trainer: config.trainer, policy: config.models.policy });
      expect(out).toMatchObject({ examples: 0, trained: false, steps: 0, nextPolicy: config.models.policy });
      const { rows } = await pool.query<{ status: string; note: string }>('select status, note from training_jobs where campaign_id = $1', [id]);
      expect(rows).toEqual([{ status: 'skipped', note: expect.stringMatching(/no refinement was kept.*policy is unchanged/) }]);
    } finally {
      await pool.query('delete from training_jobs where campaign_id = $1', [id]);
    }
  });
});

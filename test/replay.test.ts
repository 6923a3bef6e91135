import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { HISTORY_FIXTURES_DIR } from './helpers/history';
import { workflowBundle } from './helpers/temporal';

/**
 * Replays every recorded history in test/fixtures/histories against today's workflow code.
 * A change that alters the commands an old history recorded (without patched()) fails here.
 */
const fixtures = fs.readdirSync(HISTORY_FIXTURES_DIR).filter((f) => f.endsWith('.json')).sort();

describe('recorded histories replay', () => {
  it('has fixtures to replay', () => {
    expect(fixtures.length).toBeGreaterThan(0);
  });

  it('replays every fixture without non-determinism', async () => {
    const histories = fixtures.map((f) => ({
      workflowId: path.basename(f, '.json'),
      history: historyFromJSON(JSON.parse(fs.readFileSync(path.join(HISTORY_FIXTURES_DIR, f), 'utf8'))),
    }));
    const results = [];
    for await (const r of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) results.push(r);
    expect(results).toHaveLength(fixtures.length);
    for (const r of results) expect(r.error, `${r.workflowId}: ${String(r.error)}`).toBeUndefined();
  });
});

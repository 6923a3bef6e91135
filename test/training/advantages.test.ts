import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/paths';
import { ensureTrainerPython } from '../../infra/trainer-env';

/**
 * The reference trainer's advantage estimators (trainers/reference/feedloop_trainer/advantages.py),
 * run in its venv on small reward tables whose advantages are worked out by hand here.
 */
type Row = { prompt: string; reward: number | null; group?: string };
type Case = [Row[], Record<string, unknown>];
/** every case the tests ask for, computed in one trainer process (importing torch takes seconds) */
const results = new Map<string, number[] | { error: string }>();
function advantages(rows: Row[], hp: Record<string, unknown>): number[] {
  const r = results.get(JSON.stringify([rows, hp]));
  if (!r) throw new Error(`case not computed: ${JSON.stringify(hp)}`);
  if ('error' in r) throw new Error(r.error);
  return r;
}

const rows: Row[] = [
  { prompt: 'a', reward: 1 },
  { prompt: 'a', reward: 0 },
  { prompt: 'a', reward: 0 },
  { prompt: 'a', reward: null },
  { prompt: 'b', reward: 1 },
  { prompt: 'b', reward: 1 },
  { prompt: 'c', reward: 0 },
];

const grouped: Row[] = [{ prompt: 'x', reward: 1, group: 'g' }, { prompt: 'y', reward: 0, group: 'g' }];
const CASES: Case[] = [
  [rows, { advantage: 'grpo' }],
  [rows, { advantage: 'grpo', scale_rewards: false }],
  [rows, { advantage: 'rloo' }],
  [rows, {}],
  [grouped, { advantage: 'rloo' }],
  [rows, { advantage: 'ppo2' }],
];

beforeAll(() => {
  const script = [
    'import json, sys',
    'from feedloop_trainer.advantages import advantages_for',
    'out = []',
    'for rows, hp in json.load(sys.stdin):',
    '    try:',
    '        out.append([round(float(a), 6) for a in advantages_for(rows, hp)])',
    '    except Exception as e:',
    '        out.append({"error": str(e)})',
    'print(json.dumps(out))',
  ].join('\n');
  const out = execFileSync(ensureTrainerPython(), ['-c', script], {
    cwd: path.join(PROJECT_ROOT, 'trainers', 'reference'),
    input: JSON.stringify(CASES),
    encoding: 'utf8',
  });
  (JSON.parse(out) as (number[] | { error: string })[]).forEach((r, i) => results.set(JSON.stringify(CASES[i]), r));
}, 600_000);

describe('policy_update advantages', () => {
  it('grpo: per-prompt mean and std; an unscorable rollout is left out of its group with advantage 0; a group of equal rewards or of one gets 0', () => {
    // group a's scored rewards 1,0,0: mean 1/3, population std sqrt(2)/3
    const sd = Math.sqrt(2) / 3;
    const adv = advantages(rows, { advantage: 'grpo' });
    expect(adv.map((x) => Number(x.toFixed(4)))).toEqual([(2 / 3) / sd, (-1 / 3) / sd, (-1 / 3) / sd, 0, 0, 0, 0].map((x) => Number(x.toFixed(4))));
  });

  it('grpo without scaling (Dr. GRPO) only centres', () => {
    expect(advantages(rows, { advantage: 'grpo', scale_rewards: false }).slice(0, 4).map((x) => Number(x.toFixed(4)))).toEqual([0.6667, -0.3333, -0.3333, 0]);
  });

  it('rloo: each reward minus the mean of the others in its group', () => {
    expect(advantages(rows, { advantage: 'rloo' })).toEqual([1, -0.5, -0.5, 0, 0, 0, 0]);
  });

  it('batch (the default): normalised over every scored rollout; groups can be named explicitly', () => {
    const adv = advantages(rows, {});
    expect(adv[3]).toBe(0);
    const scored = adv.filter((_, i) => i !== 3);
    expect(Math.abs(scored.reduce((a, b) => a + b, 0))).toBeLessThan(1e-5);
    // with explicit groups the prompt no longer decides: one group of all three b/c rollouts
    expect(advantages(grouped, { advantage: 'rloo' })).toEqual([1, -1]);
  });

  it('an unknown estimator is a BadConfig error naming the choices', () => {
    expect(() => advantages(rows, { advantage: 'ppo2' })).toThrow(/advantage must be one of batch, grpo, rloo/);
  });
});

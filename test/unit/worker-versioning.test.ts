import { describe, expect, it } from 'vitest';
import { formatVersionSpread } from '../../audit/text';
import { formatWorkerVersion } from '../../common/worker-version';
import { resolveWorkerOptions } from '../../workers/options';
import { defaultBuildId, deploymentOptions, resolveVersion } from '../../workers/versioning';

describe('worker versioning options', () => {
  it('is off unless a deployment or a build id is configured', () => {
    expect(resolveWorkerOptions({}, {}).versioning).toBeUndefined();
    expect(resolveWorkerOptions({}, { FEEDLOOP_DEPLOYMENT: '', FEEDLOOP_BUILD_ID: '' }).versioning).toBeUndefined();
    expect(resolveWorkerOptions({}, { FEEDLOOP_BUILD_ID: '2026-12-01.1' }).versioning).toEqual({ deploymentName: 'feedloop', buildId: '2026-12-01.1' });
    expect(resolveWorkerOptions({}, { FEEDLOOP_DEPLOYMENT: 'trainers' }).versioning).toEqual({ deploymentName: 'trainers' });
    // flags over environment
    expect(resolveWorkerOptions({ deploymentName: 'a', buildId: 'b1' }, { FEEDLOOP_DEPLOYMENT: 'x', FEEDLOOP_BUILD_ID: 'y' }).versioning).toEqual({ deploymentName: 'a', buildId: 'b1' });
  });

  it('names the flag of a bad deployment name or build id', () => {
    expect(() => resolveWorkerOptions({}, { FEEDLOOP_DEPLOYMENT: 'has.dot' })).toThrow(/--deployment-name \/ FEEDLOOP_DEPLOYMENT: letters, digits/);
    expect(() => resolveWorkerOptions({ buildId: 'a b' }, {})).toThrow(/--build-id \/ FEEDLOOP_BUILD_ID: letters, digits/);
  });

  it('derives the build id from the workflow bundle: same code, same id; other code, another', async () => {
    const a = defaultBuildId({ code: 'workflow code A' });
    expect(a).toMatch(/^\d+\.\d+\.\d+-[0-9a-f]{12}$/);
    expect(defaultBuildId({ code: 'workflow code A' })).toBe(a);
    expect(defaultBuildId({ code: 'workflow code B' })).not.toBe(a);
    // A given build id is taken as is, and no bundle is built for it.
    expect(await resolveVersion({ deploymentName: 'feedloop', buildId: 'v7' }, undefined)).toEqual({ deploymentName: 'feedloop', buildId: 'v7' });
    expect((await resolveVersion({ deploymentName: 'feedloop' }, { code: 'workflow code A' })).buildId).toBe(a);
  });

  it('pins workflows by default on a versioned worker', () => {
    expect(deploymentOptions({ deploymentName: 'feedloop', buildId: 'v7' })).toEqual({ version: { deploymentName: 'feedloop', buildId: 'v7' }, useWorkerVersioning: true, defaultVersioningBehavior: 'PINNED' });
  });
});

describe('the audit\'s version lines', () => {
  it('groups consecutive iterations by the version they ran on', () => {
    const v = (buildId: string) => ({ deploymentName: 'feedloop', buildId });
    expect(formatVersionSpread([{ iteration: 1, workerVersion: null }])).toBeUndefined();
    expect(formatVersionSpread([1, 2, 3].map((iteration) => ({ iteration, workerVersion: iteration === 1 ? v('a') : v('b') })))).toBe('feedloop/a: iteration 1; feedloop/b: iterations 2-3');
    expect(formatVersionSpread([{ iteration: 1, workerVersion: null }, { iteration: 2, workerVersion: v('b') }])).toBe('unversioned: iteration 1; feedloop/b: iteration 2');
    expect(formatWorkerVersion(undefined)).toBe('unversioned');
  });
});

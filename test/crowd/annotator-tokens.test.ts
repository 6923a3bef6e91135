import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { annotatorNames, csrfTokenOf, isWellFormedSecret, newInviteToken, newSessionSecret, sameSecret, secretHash, tokenStore } from '../../cli/web/tokens';
import { splitHighlightedLines, highlightLines } from '../../cli/web/highlight';
import { ConfigError } from '../../common/config-error';

/** The annotator web app's credentials, on the suite's real PostgreSQL (migration 007). */
describe('annotator tokens (pure parts)', () => {
  it('makes 256-bit secrets of the two kinds and tells them apart', () => {
    const t = newInviteToken();
    const s = newSessionSecret();
    expect(isWellFormedSecret(t, 'token')).toBe(true);
    expect(isWellFormedSecret(t, 'session')).toBe(false);
    expect(isWellFormedSecret(s, 'session')).toBe(true);
    expect(Buffer.from(t.slice(4), 'base64url')).toHaveLength(32);
    expect(newInviteToken()).not.toBe(t);
    for (const bad of ['', 'flt_short', `${t}x`, t.replace('flt_', 'xyz_'), 42, null]) expect(isWellFormedSecret(bad, 'token')).toBe(false);
  });

  it('stores SHA-256 of a secret, and derives a CSRF token that differs per session', () => {
    const t = newInviteToken();
    expect(secretHash(t)).toHaveLength(32);
    expect(secretHash(t).equals(secretHash(t))).toBe(true);
    const a = newSessionSecret();
    const b = newSessionSecret();
    expect(csrfTokenOf(a)).toBe(csrfTokenOf(a));
    expect(csrfTokenOf(a)).not.toBe(csrfTokenOf(b));
    expect(sameSecret(csrfTokenOf(a), csrfTokenOf(a))).toBe(true);
    expect(sameSecret(csrfTokenOf(a), csrfTokenOf(b))).toBe(false);
    expect(sameSecret('abc', 'abcd')).toBe(false);
  });

  it('reads annotator names from a crowd config, plain or as objects', () => {
    expect(annotatorNames(['alice', { name: 'bob', reliability: 0.9 }, 3])).toEqual(['alice', 'bob']);
    expect(annotatorNames(undefined)).toEqual([]);
  });
});

describe('line highlighting', () => {
  it('closes and reopens spans across lines, and escapes the program', () => {
    expect(splitHighlightedLines('<span class="a">x\ny</span> z')).toEqual(['<span class="a">x</span>', '<span class="a">y</span> z']);
    const lines = highlightLines('def f():\n    """doc\n    <b>"""\n    return 1\n', 'python');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toContain('&lt;b&gt;');
    expect(lines[2]).not.toContain('<b>');
    expect(lines[1]).toMatch(/^ {4}<span class="hljs-string">.*<\/span>$/);
    expect(lines[2]).toMatch(/^<span class="hljs-string">/);
  });
});

describe('annotator token store', () => {
  let pool: pg.Pool;
  const campaignId = `tokens-${randomUUID().slice(0, 8)}`;
  let now = new Date('2026-12-01T10:00:00Z');
  const clock = () => now;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
    await pool.query(`insert into campaigns (id, algorithm, config, workflow_id) values ($1, 'crlhf', $2, $1)`, [campaignId, JSON.stringify({ crowd: { annotators: ['alice', 'bob'] } })]);
  });
  afterAll(async () => {
    await pool.query('delete from campaigns where id = $1', [campaignId]);
    await pool.end();
  });

  it('invites only the campaign annotators it names (owners by any name), and stores no secret', async () => {
    const store = tokenStore(pool, clock);
    await expect(store.invite({ campaignId, annotator: 'mallory', role: 'annotator', expiresInMs: 3_600_000 })).rejects.toThrow(ConfigError);
    await expect(store.invite({ campaignId: 'no-such-campaign', annotator: 'alice', role: 'annotator', expiresInMs: 3_600_000 })).rejects.toThrow(/no campaign/);
    await expect(store.invite({ campaignId, annotator: 'alice', role: 'annotator', expiresInMs: 0 })).rejects.toThrow(/positive/);
    const invite = await store.invite({ campaignId, annotator: 'alice', role: 'annotator', expiresInMs: 3_600_000 });
    const owner = await store.invite({ campaignId, annotator: 'olga', role: 'owner', expiresInMs: 3_600_000 });
    const { rows } = await pool.query<{ row: string }>(`select row_to_json(t)::text as row from annotator_tokens t where campaign_id = $1`, [campaignId]);
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(r.row).not.toContain(invite.token.slice(4));
      expect(r.row).not.toContain(owner.token.slice(4));
    }
    const ok = await store.authenticateToken(invite.token);
    expect(ok).toMatchObject({ ok: true, principal: { campaignId, annotator: 'alice', role: 'annotator', tokenId: invite.tokenId } });
    expect(await store.authenticateToken(owner.token)).toMatchObject({ ok: true, principal: { annotator: 'olga', role: 'owner' } });
  });

  it('refuses forged tokens (401), expired ones (401) and revoked ones (403)', async () => {
    const store = tokenStore(pool, clock);
    expect(await store.authenticateToken(newInviteToken())).toEqual({ ok: false, refusal: { status: 401, reason: 'unknown token' } });
    expect(await store.authenticateToken('not a token')).toMatchObject({ ok: false, refusal: { status: 401 } });
    const short = await store.invite({ campaignId, annotator: 'bob', role: 'annotator', expiresInMs: 60_000 });
    now = new Date(now.getTime() + 61_000);
    expect(await store.authenticateToken(short.token)).toEqual({ ok: false, refusal: { status: 401, reason: 'token expired' } });
    const bob = await store.invite({ campaignId, annotator: 'bob', role: 'annotator', expiresInMs: 3_600_000 });
    expect(await store.revoke({ campaignId, tokenId: bob.tokenId })).toEqual([bob.tokenId]);
    expect(await store.authenticateToken(bob.token)).toEqual({ ok: false, refusal: { status: 403, reason: 'token revoked' } });
    await expect(store.revoke({ campaignId })).rejects.toThrow(/--name or --token-id/);
  });

  it('opens sessions that end with their token: at its expiry, their own, or its revocation', async () => {
    const store = tokenStore(pool, clock);
    const invite = await store.invite({ campaignId, annotator: 'alice', role: 'annotator', expiresInMs: 2 * 3_600_000 });
    const principal = (await store.authenticateToken(invite.token)) as { ok: true; principal: Parameters<typeof store.openSession>[0] };
    // a session asked for longer than its token lives ends with the token
    const long = await store.openSession(principal.principal, 10 * 3_600_000);
    expect(long.expiresAt.getTime()).toBe(invite.expiresAt.getTime());
    const s = await store.openSession(principal.principal, 3_600_000);
    expect(await store.authenticateSession(s.session)).toMatchObject({ ok: true, principal: { annotator: 'alice' } });
    expect(await store.authenticateSession(newSessionSecret())).toMatchObject({ ok: false, refusal: { status: 401, reason: 'unknown session' } });
    expect(await store.authenticateSession(undefined)).toMatchObject({ ok: false, refusal: { status: 401 } });
    const saved = now;
    now = new Date(now.getTime() + 3_600_001);
    expect(await store.authenticateSession(s.session)).toMatchObject({ ok: false, refusal: { status: 401, reason: expect.stringMatching(/session expired/) } });
    now = saved;
    const listed = await store.list(campaignId);
    expect(listed.find((t) => t.tokenId === invite.tokenId)).toMatchObject({ annotator: 'alice', role: 'annotator', revokedAt: null });
    expect(await store.revoke({ campaignId, annotator: 'alice' })).toContain(invite.tokenId);
    expect(await store.authenticateSession(long.session)).toEqual({ ok: false, refusal: { status: 403, reason: 'token revoked' } });
    await store.closeSession(s.session);
    expect(await store.authenticateSession(s.session)).toMatchObject({ ok: false, refusal: { status: 401 } });
  });
});

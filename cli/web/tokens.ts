import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type pg from 'pg';
import { ConfigError } from '../../common/config-error';

/**
 * Annotator credentials. An invite token is 32 random bytes, shown once inside the invite link
 * and stored only as its SHA-256 (infra/migrations/007_annotator_tokens.sql); a session, made
 * when the link is opened, is the same kind of secret, also stored only hashed. Nothing here
 * logs a secret: callers get principals and reasons, never tokens back.
 */
export const ROLES = ['annotator', 'owner'] as const;
export type Role = (typeof ROLES)[number];

/** Who a valid token or session speaks for. */
export interface Principal {
  tokenId: string;
  campaignId: string;
  annotator: string;
  role: Role;
  expiresAt: Date;
}

/** Why a credential was refused: 401 for one we do not know or that ran out, 403 for a revoked one. */
export interface AuthRefusal {
  status: 401 | 403;
  reason: string;
}
export type AuthResult = { ok: true; principal: Principal } | { ok: false; refusal: AuthRefusal };

const TOKEN_PREFIX = 'flt_';
const SESSION_PREFIX = 'fls_';
// base64url of 32 bytes is 43 characters
const SECRET_PATTERN = /^(flt|fls)_[A-Za-z0-9_-]{43}$/;

export function newInviteToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function newSessionSecret(): string {
  return SESSION_PREFIX + randomBytes(32).toString('base64url');
}

/** A short public id for a token: not derived from the secret, safe to print and log. */
export function newTokenId(): string {
  return `tok-${randomBytes(6).toString('hex')}`;
}

/** What the database stores for a secret. */
export function secretHash(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** Whether a string is shaped like one of our secrets of the given kind (cheap pre-check before any lookup). */
export function isWellFormedSecret(secret: unknown, kind: 'token' | 'session'): secret is string {
  return typeof secret === 'string' && SECRET_PATTERN.test(secret) && secret.startsWith(kind === 'token' ? TOKEN_PREFIX : SESSION_PREFIX);
}

/** Constant-time string comparison (for CSRF tokens). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The CSRF token of a session: derived from its secret, so nothing more is stored. */
export function csrfTokenOf(sessionSecret: string): string {
  return createHash('sha256').update(`csrf:${sessionSecret}`, 'utf8').digest('base64url');
}

interface TokenRow {
  token_id: string;
  campaign_id: string;
  annotator: string;
  role: Role;
  expires_at: Date;
  revoked_at: Date | null;
}

function judge(row: TokenRow | undefined, now: Date, what: string): AuthResult {
  if (!row) return { ok: false, refusal: { status: 401, reason: `unknown ${what}` } };
  if (row.revoked_at) return { ok: false, refusal: { status: 403, reason: `${what} revoked` } };
  if (row.expires_at.getTime() <= now.getTime()) return { ok: false, refusal: { status: 401, reason: `${what} expired` } };
  return { ok: true, principal: { tokenId: row.token_id, campaignId: row.campaign_id, annotator: row.annotator, role: row.role, expiresAt: row.expires_at } };
}

export interface InviteInput {
  campaignId: string;
  annotator: string;
  role: Role;
  expiresInMs: number;
}

export interface Invite {
  tokenId: string;
  /** the secret: shown once, in the link; never stored */
  token: string;
  expiresAt: Date;
}

/** The token store: invites, revocations and the lookups the server does on every request. */
export function tokenStore(pool: pg.Pool, clock: () => Date = () => new Date()) {
  return {
    /**
     * Makes a token for an annotator of a campaign, or for its owner. An annotator must be one the
     * campaign's config names (`crowd.annotators`), so a typo cannot make a login nobody is assigned.
     */
    async invite(input: InviteInput): Promise<Invite> {
      if (!(input.expiresInMs > 0)) throw new ConfigError('--expires: must be a positive duration, e.g. 7d');
      const { rows } = await pool.query<{ annotators: unknown }>(`select config->'crowd'->'annotators' as annotators from campaigns where id = $1`, [input.campaignId]);
      if (rows.length === 0) throw new ConfigError(`--campaign: no campaign ${input.campaignId} (start it first)`);
      if (input.role === 'annotator') {
        const names = annotatorNames(rows[0]!.annotators);
        if (!names.includes(input.annotator)) {
          throw new ConfigError(`--name: ${input.annotator} is not an annotator of campaign ${input.campaignId} (its crowd.annotators: ${names.join(', ') || 'none'})`);
        }
      }
      const token = newInviteToken();
      const tokenId = newTokenId();
      const now = clock();
      const expiresAt = new Date(now.getTime() + input.expiresInMs);
      await pool.query(
        `insert into annotator_tokens (token_id, token_hash, campaign_id, annotator, role, created_at, expires_at) values ($1, $2, $3, $4, $5, $6, $7)`,
        [tokenId, secretHash(token), input.campaignId, input.annotator, input.role, now, expiresAt],
      );
      return { tokenId, token, expiresAt };
    },

    /** Revokes one token (by id) or every live token of a name; returns the ids revoked. */
    async revoke(input: { campaignId: string; annotator?: string; tokenId?: string }): Promise<string[]> {
      if (!input.annotator && !input.tokenId) throw new ConfigError('revoke: give --name or --token-id');
      const { rows } = await pool.query<{ token_id: string }>(
        `update annotator_tokens set revoked_at = $4
         where campaign_id = $1 and revoked_at is null and ($2::text is null or annotator = $2) and ($3::text is null or token_id = $3)
         returning token_id`,
        [input.campaignId, input.annotator ?? null, input.tokenId ?? null, clock()],
      );
      return rows.map((r) => r.token_id).sort();
    },

    async list(campaignId: string): Promise<Array<{ tokenId: string; annotator: string; role: Role; createdAt: Date; expiresAt: Date; revokedAt: Date | null }>> {
      const { rows } = await pool.query<TokenRow & { created_at: Date }>(
        `select token_id, campaign_id, annotator, role, created_at, expires_at, revoked_at from annotator_tokens where campaign_id = $1 order by created_at, token_id`,
        [campaignId],
      );
      return rows.map((r) => ({ tokenId: r.token_id, annotator: r.annotator, role: r.role, createdAt: r.created_at, expiresAt: r.expires_at, revokedAt: r.revoked_at }));
    },

    /** Checks an invite token. */
    async authenticateToken(token: unknown): Promise<AuthResult> {
      if (!isWellFormedSecret(token, 'token')) return { ok: false, refusal: { status: 401, reason: 'unknown token' } };
      const { rows } = await pool.query<TokenRow>(
        `select token_id, campaign_id, annotator, role, expires_at, revoked_at from annotator_tokens where token_hash = $1`,
        [secretHash(token)],
      );
      return judge(rows[0], clock(), 'token');
    },

    /** Exchanges a valid invite token for a session, which lives at most `maxAgeMs` and never past its token. */
    async openSession(principal: Principal, maxAgeMs: number): Promise<{ session: string; expiresAt: Date }> {
      const session = newSessionSecret();
      const now = clock();
      const expiresAt = new Date(Math.min(now.getTime() + maxAgeMs, principal.expiresAt.getTime()));
      await pool.query(`insert into annotator_sessions (session_hash, token_id, created_at, expires_at) values ($1, $2, $3, $4)`, [secretHash(session), principal.tokenId, now, expiresAt]);
      return { session, expiresAt };
    },

    /** Checks a session cookie; the token behind it is checked too, so a revocation ends it at once. */
    async authenticateSession(session: unknown): Promise<AuthResult> {
      if (!isWellFormedSecret(session, 'session')) return { ok: false, refusal: { status: 401, reason: 'not signed in' } };
      const { rows } = await pool.query<TokenRow & { session_expires_at: Date }>(
        `select t.token_id, t.campaign_id, t.annotator, t.role, t.expires_at, t.revoked_at, s.expires_at as session_expires_at
         from annotator_sessions s join annotator_tokens t using (token_id) where s.session_hash = $1`,
        [secretHash(session)],
      );
      const row = rows[0];
      if (row && row.session_expires_at.getTime() <= clock().getTime()) return { ok: false, refusal: { status: 401, reason: 'session expired' } };
      return judge(row, clock(), row ? 'token' : 'session');
    },

    async closeSession(session: string): Promise<void> {
      await pool.query(`delete from annotator_sessions where session_hash = $1`, [secretHash(session)]);
    },
  };
}
export type TokenStore = ReturnType<typeof tokenStore>;

/** `crowd.annotators` of a campaign config: names, or objects with a `name` (simulated ones carry more). */
export function annotatorNames(annotators: unknown): string[] {
  if (!Array.isArray(annotators)) return [];
  return annotators.flatMap((a: unknown) => (typeof a === 'string' ? [a] : a && typeof a === 'object' && typeof (a as { name?: unknown }).name === 'string' ? [(a as { name: string }).name] : []));
}

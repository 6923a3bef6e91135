import type { Command } from 'commander';
import { listenAnnotatorServer, DEFAULT_MAX_BODY_BYTES } from './web/server';
import { ROLES, tokenStore, type Role } from './web/tokens';
import { migrate } from '../infra/migrate';
import { createPool, withPool } from '../infra/pool';
import { ConfigError } from '../common/config-error';
import { durationMs } from '../common/duration';
import { readEnv } from '../infra/env';
import { createLogger } from '../infra/logger';
import { databaseUrlOf } from '../infra/postgres';
import { connectClient } from './evaluate';

/**
 * `feedloop annotate invite|revoke|tokens|serve`: the cRLHF annotator web app and its
 * credentials. `invite` prints a link holding a fresh token (shown only there, stored only as a
 * hash); `serve` runs the web app, on loopback unless told otherwise. They hang off the same
 * `annotate` command as the CLI's `submit`, `progress`, `extend` and `close` (cli/annotate.ts).
 */
export const DEFAULT_ANNOTATE_PORT = 8377;

function parseRole(v: string): Role {
  if (!(ROLES as readonly string[]).includes(v)) throw new ConfigError(`--role: must be one of ${ROLES.join(', ')}`);
  return v as Role;
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`--port: ${v} is not a port number`);
  return n;
}

function parseExpiry(v: string): number {
  try {
    return durationMs(v);
  } catch {
    throw new ConfigError(`--expires: ${v} is not a duration (e.g. 7d, 12h)`);
  }
}

function parseBaseUrl(v: string): string {
  try {
    const u = new URL(v);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
    return u.origin;
  } catch {
    throw new ConfigError(`--base-url: ${v} is not an http(s) URL`);
  }
}

/** The link an invite prints: the token rides in the fragment, which no browser sends to a server. */
export function inviteLink(baseUrl: string, token: string): string {
  return `${baseUrl}/join#token=${token}`;
}

export function registerAnnotateWebCommands(annotate: Command): void {
  annotate
    .command('invite')
    .description('make a token for an annotator (or the owner) and print their invite link')
    .requiredOption('--campaign <id>', 'campaign id')
    .requiredOption('--name <name>', "the annotator's name in the campaign's crowd.annotators (or the owner's name)")
    .option('--role <role>', `${ROLES.join(' | ')}`, parseRole, 'annotator' as Role)
    .option('--expires <duration>', 'how long the token is valid, e.g. 7d, 12h', parseExpiry, durationMs('7d'))
    .option('--base-url <url>', 'where annotators reach the web app', parseBaseUrl, `http://127.0.0.1:${DEFAULT_ANNOTATE_PORT}`)
    .action(async (opts: { campaign: string; name: string; role: Role; expires: number; baseUrl: string }) => {
      await withPool(databaseUrlOf(readEnv()), async (pool) => {
        await migrate(pool);
        const invite = await tokenStore(pool).invite({ campaignId: opts.campaign, annotator: opts.name, role: opts.role, expiresInMs: opts.expires });
        console.log(inviteLink(opts.baseUrl, invite.token));
        console.error(`${opts.role} ${opts.name} of ${opts.campaign}: token ${invite.tokenId}, valid until ${invite.expiresAt.toISOString()}; the link is shown only now`);
      });
    });

  annotate
    .command('revoke')
    .description("revoke a token (its sessions end at once): every live token of a name, or one by id")
    .requiredOption('--campaign <id>', 'campaign id')
    .option('--name <name>', 'revoke every live token of this name')
    .option('--token-id <id>', 'revoke this token (see `annotate tokens`)')
    .action(async (opts: { campaign: string; name?: string; tokenId?: string }) => {
      await withPool(databaseUrlOf(readEnv()), async (pool) => {
        await migrate(pool);
        const revoked = await tokenStore(pool).revoke({ campaignId: opts.campaign, annotator: opts.name, tokenId: opts.tokenId });
        if (revoked.length === 0) throw new ConfigError(`no live token of ${opts.campaign} matches ${opts.tokenId ? `--token-id ${opts.tokenId}` : `--name ${opts.name}`}`);
        console.log(`revoked ${revoked.join(', ')}`);
      });
    });

  annotate
    .command('tokens')
    .description("list a campaign's tokens (ids, names, roles, expiry; never the secrets)")
    .requiredOption('--campaign <id>', 'campaign id')
    .action(async (opts: { campaign: string }) => {
      await withPool(databaseUrlOf(readEnv()), async (pool) => {
        await migrate(pool);
        const rows = await tokenStore(pool).list(opts.campaign);
        if (rows.length === 0) return console.log(`no tokens for ${opts.campaign}`);
        const now = Date.now();
        for (const t of rows) {
          const state = t.revokedAt ? `revoked ${t.revokedAt.toISOString()}` : t.expiresAt.getTime() <= now ? 'expired' : `valid until ${t.expiresAt.toISOString()}`;
          console.log(`${t.tokenId}  ${t.role.padEnd(9)} ${t.annotator.padEnd(16)} ${state}`);
        }
      });
    });

  annotate
    .command('serve')
    .description('serve the annotator web app (loopback only unless --host says otherwise)')
    .option('--port <port>', 'port to listen on', parsePort, DEFAULT_ANNOTATE_PORT)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--base-url <url>', 'the public origin when behind a TLS proxy, e.g. https://label.example.org', parseBaseUrl)
    .option('--max-body <bytes>', 'largest request body accepted', (v) => Number.parseInt(v, 10), DEFAULT_MAX_BODY_BYTES)
    .action(async (opts: { port: number; host: string; baseUrl?: string; maxBody: number }) => {
      const env = readEnv();
      const log = createLogger('annotate-web', env.FEEDLOOP_LOG_LEVEL);
      const pool = createPool(databaseUrlOf(env));
      await migrate(pool);
      const temporal = await connectClient(env.TEMPORAL_ADDRESS, env.TEMPORAL_NAMESPACE).catch((err: unknown) => {
        throw new ConfigError(`cannot reach Temporal at ${env.TEMPORAL_ADDRESS}: ${(err as Error).message}`);
      });
      const server = await listenAnnotatorServer({ pool, temporal: temporal.client, log, host: opts.host, port: opts.port, baseUrl: opts.baseUrl, maxBodyBytes: opts.maxBody }).catch((err: unknown) => {
        throw new ConfigError(`cannot listen on ${opts.host}:${opts.port}: ${(err as Error).message}`);
      });
      console.log(`annotator web app at ${server.url} (invite annotators with: npx feedloop annotate invite --campaign C --name N)`);
      await new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
      });
      await server.close();
      await temporal.close();
      await pool.end();
    });
}

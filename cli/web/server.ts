import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type pg from 'pg';
import { z } from 'zod';
import { campaignIds } from '../../common/campaign';
import type { Logger } from '../../infra/logger';
import {
  annotationProgressQuery,
  closeAnnotationUpdate,
  extendAnnotationDeadlineUpdate,
  LINE_LABELS,
  submitLineLabelsUpdate,
  type AnnotationProgress,
} from '../../loops/crlhf/annotation-protocol';
import { annotationReads } from './annotation-reads';
import { highlightLines } from './highlight';
import { HttpError, parseCookies, readJsonBody, SECURITY_HEADERS, send, sendJson, sessionCookie } from './http-kit';
import { csrfTokenOf, sameSecret, tokenStore, type Principal, type Role } from './tokens';

/**
 * The cRLHF annotator web app: an annotator's page (their next assigned item, its lines to mark),
 * the campaign owner's page (progress, reliability, deadline and early close) and the JSON API
 * under both. Every request is checked:
 *
 * - Host must be one this server answers to (no DNS-rebinding reach into a loopback server);
 * - the caller is a session cookie (HttpOnly, SameSite=Strict; made when an invite link is
 *   opened) or an `Authorization: Bearer` invite token for scripts; unknown or expired → 401,
 *   revoked → 403;
 * - state changes over a cookie need the session's CSRF token in `X-CSRF-Token` and a
 *   same-origin `Origin`; every body is JSON and at most `maxBodyBytes` (413 past it);
 * - an annotator reaches only their own items in the iteration that is annotating now (403 for
 *   another annotator's), and sees neither item ids, honeypot flags, known labels nor anyone
 *   else's labels; owner routes need an owner token.
 *
 * Submissions, extensions and closes are Temporal updates to the iteration workflow, the same
 * ones the CLI sends, so the iteration's validator decides and its reason is shown as given.
 */
export interface AnnotatorServerOptions {
  pool: pg.Pool;
  temporal: Client;
  log: Logger;
  /** the origin browsers reach this server at, e.g. http://127.0.0.1:8377 or https://label.example.org */
  publicOrigin: string;
  /** more origins that reach the same server (e.g. http://localhost:8377 beside http://127.0.0.1:8377) */
  extraOrigins?: string[];
  maxBodyBytes?: number;
  sessionMaxAgeMs?: number;
  clock?: () => Date;
}

export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;
const DEFAULT_SESSION_MAX_AGE_MS = 12 * 3_600_000;
const PAGES_DIR = path.join(__dirname, 'pages');
const HLJS_THEME = require.resolve('highlight.js/styles/github.css');

/** The files the server hands out, by URL path: nothing else on disk is reachable. */
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: path.join(PAGES_DIR, 'annotate.html'), type: 'text/html; charset=utf-8' },
  '/owner': { file: path.join(PAGES_DIR, 'owner.html'), type: 'text/html; charset=utf-8' },
  '/join': { file: path.join(PAGES_DIR, 'join.html'), type: 'text/html; charset=utf-8' },
  '/assets/annotate.js': { file: path.join(PAGES_DIR, 'annotate.js'), type: 'text/javascript; charset=utf-8' },
  '/assets/owner.js': { file: path.join(PAGES_DIR, 'owner.js'), type: 'text/javascript; charset=utf-8' },
  '/assets/join.js': { file: path.join(PAGES_DIR, 'join.js'), type: 'text/javascript; charset=utf-8' },
  '/assets/api.js': { file: path.join(PAGES_DIR, 'api.js'), type: 'text/javascript; charset=utf-8' },
  '/assets/style.css': { file: path.join(PAGES_DIR, 'style.css'), type: 'text/css; charset=utf-8' },
  '/assets/highlight.css': { file: HLJS_THEME, type: 'text/css; charset=utf-8' },
};

const submissionBody = z.strictObject({
  labels: z.array(z.enum(LINE_LABELS)).max(10_000),
  notes: z.record(z.string().max(12), z.string()).optional(),
});
const extendBody = z.strictObject({ deadline: z.iso.datetime({ offset: true }), reason: z.string().trim().min(1).max(500) });
const closeBody = z.strictObject({ reason: z.string().trim().min(1).max(500) });
const sessionBody = z.strictObject({ token: z.string().max(200) });
const REF_PATTERN = /^[A-Za-z0-9_-]{22}$/;

function bodyOf<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new HttpError(400, `${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return parsed.data;
}

function isNotFound(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError || (err instanceof Error && /not found|already completed/i.test(err.message));
}

/** The server's request handler (attach it to an http or https server). */
export function annotatorRequestHandler(o: AnnotatorServerOptions): http.RequestListener {
  const clock = o.clock ?? (() => new Date());
  const tokens = tokenStore(o.pool, clock);
  const reads = annotationReads(o.pool);
  const maxBody = o.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const secure = o.publicOrigin.startsWith('https:');
  // The __Host- prefix pins a secure cookie to this host and path; browsers accept it only over HTTPS.
  const cookieName = secure ? '__Host-feedloop_session' : 'feedloop_session';
  const origins = new Set([o.publicOrigin, ...(o.extraOrigins ?? [])].map((u) => new URL(u).origin));
  const hosts = new Set([...origins].map((u) => new URL(u).host));

  interface Caller {
    principal: Principal;
    /** the session secret, when the caller came with a cookie (its CSRF token derives from it) */
    session?: string;
  }

  async function authenticate(req: http.IncomingMessage): Promise<Caller> {
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      const m = /^Bearer (\S+)$/.exec(auth);
      const result = await tokens.authenticateToken(m?.[1]);
      if (!result.ok) throw new HttpError(result.refusal.status, result.refusal.reason);
      return { principal: result.principal };
    }
    const session = parseCookies(req.headers.cookie).get(cookieName);
    const result = await tokens.authenticateSession(session);
    if (!result.ok) throw new HttpError(result.refusal.status, result.refusal.reason);
    return { principal: result.principal, session };
  }

  /** A state-changing request from a browser must come from our own pages. */
  function checkOrigin(req: http.IncomingMessage): void {
    const origin = req.headers.origin;
    if (origin === undefined || !origins.has(origin)) throw new HttpError(403, 'cross-origin request refused');
  }

  function checkCsrf(req: http.IncomingMessage, caller: Caller): void {
    if (caller.session === undefined) return; // bearer tokens are not ambient credentials
    checkOrigin(req);
    const sent = req.headers['x-csrf-token'];
    if (typeof sent !== 'string' || !sameSecret(sent, csrfTokenOf(caller.session))) throw new HttpError(403, 'missing or wrong CSRF token: reload the page');
  }

  function requireRole(caller: Caller, role: Role): Principal {
    if (caller.principal.role !== role) throw new HttpError(403, role === 'owner' ? 'this page is for the campaign owner' : 'owner tokens do not annotate: use an annotator invite');
    return caller.principal;
  }

  async function liveProgress(campaignId: string, iteration: number): Promise<AnnotationProgress | undefined> {
    try {
      return await o.temporal.workflow.getHandle(campaignIds.iterationWorkflow(campaignId, iteration)).query(annotationProgressQuery);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Sends an update to the iteration; a rejection becomes 409 with the iteration's own reason. */
  async function update<R, A>(campaignId: string, iteration: number, def: UpdateDefinition<R, [A]>, arg: A): Promise<R> {
    try {
      return await o.temporal.workflow.getHandle(campaignIds.iterationWorkflow(campaignId, iteration)).executeUpdate(def, { args: [arg] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw new HttpError(409, err.cause?.message ?? err.message);
      if (isNotFound(err)) throw new HttpError(409, `annotation of iteration ${iteration} is closed`);
      throw err;
    }
  }

  async function openIteration(campaignId: string): Promise<number> {
    const n = await reads.currentAnnotateIteration(campaignId);
    if (n === undefined) throw new HttpError(409, 'no iteration of this campaign is taking annotations now');
    return n;
  }

  async function ownItem(p: Principal, ref: string) {
    if (!REF_PATTERN.test(ref)) throw new HttpError(404, 'no such item');
    // A page may still show an item of an iteration that closed meanwhile: its submission goes
    // to that iteration, whose validator says it is closed, and why.
    const iteration = (await reads.currentAnnotateIteration(p.campaignId)) ?? (await reads.latestAnnotatedIteration(p.campaignId));
    if (iteration === undefined) throw new HttpError(409, 'no iteration of this campaign is taking annotations now');
    const hit = await reads.resolveRef(p.campaignId, iteration, p.annotator, ref);
    if (!hit) throw new HttpError(404, 'no such item in the open annotation (reload the page)');
    if ('other' in hit) throw new HttpError(403, 'this item is not assigned to you');
    return { iteration, item: hit.own };
  }

  async function itemPayload(p: Principal, iteration: number, item: Awaited<ReturnType<typeof ownItem>>['item']) {
    const view = (await reads.campaignView(p.campaignId)) ?? { showTestOutput: false, language: 'python' };
    const v = await reads.itemView(p.campaignId, iteration, p.annotator, item, view.showTestOutput, view.language);
    return { ...v, linesHtml: highlightLines(v.program, v.language) };
  }

  async function annotatorState(p: Principal) {
    const iteration = await reads.currentAnnotateIteration(p.campaignId);
    if (iteration === undefined) return { campaignId: p.campaignId, annotator: p.annotator, open: false };
    const [assigned, progress] = await Promise.all([reads.assignedTo(p.campaignId, iteration, p.annotator), liveProgress(p.campaignId, iteration)]);
    const answered = assigned.filter((a) => a.answered).length;
    return {
      campaignId: p.campaignId,
      annotator: p.annotator,
      iteration,
      open: progress?.open ?? false,
      deadline: progress?.deadline ?? null,
      assigned: assigned.length,
      answered,
      remaining: assigned.length - answered,
      next: assigned.find((a) => !a.answered),
    };
  }

  type Handler = (req: http.IncomingMessage, res: http.ServerResponse, caller: Caller, params: string[]) => Promise<void>;
  const routes: Array<{ method: 'GET' | 'POST'; pattern: RegExp; handler: Handler }> = [
    {
      method: 'GET',
      pattern: /^\/api\/me$/,
      handler: async (_req, res, c) => {
        const p = c.principal;
        sendJson(res, 200, { campaignId: p.campaignId, annotator: p.annotator, role: p.role, expiresAt: p.expiresAt.toISOString(), ...(c.session ? { csrfToken: csrfTokenOf(c.session) } : {}) });
      },
    },
    {
      method: 'POST',
      pattern: /^\/api\/logout$/,
      handler: async (req, res, c) => {
        checkCsrf(req, c);
        if (c.session) await tokens.closeSession(c.session);
        sendJson(res, 200, { loggedOut: true }, { 'Set-Cookie': sessionCookie(cookieName, '', { maxAgeS: 0, secure }) });
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/next$/,
      handler: async (_req, res, c) => {
        const p = requireRole(c, 'annotator');
        const { next, ...state } = await annotatorState(p);
        sendJson(res, 200, { ...state, item: next && state.iteration !== undefined ? await itemPayload(p, state.iteration, next) : null });
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/items\/([^/]+)$/,
      handler: async (_req, res, c, [ref]) => {
        const p = requireRole(c, 'annotator');
        const { iteration, item } = await ownItem(p, ref!);
        sendJson(res, 200, await itemPayload(p, iteration, item));
      },
    },
    {
      method: 'POST',
      pattern: /^\/api\/items\/([^/]+)\/labels$/,
      handler: async (req, res, c, [ref]) => {
        checkCsrf(req, c);
        const p = requireRole(c, 'annotator');
        const body = bodyOf(submissionBody, await readJsonBody(req, maxBody));
        const { iteration, item } = await ownItem(p, ref!);
        // The annotator is who the credential says, never what the body says.
        const receipt = await update(p.campaignId, iteration, submitLineLabelsUpdate, { annotator: p.annotator, itemId: item.itemId, labels: body.labels, ...(body.notes ? { notes: body.notes } : {}) });
        o.log.info({ campaignId: p.campaignId, iteration, annotator: p.annotator, lines: body.labels.length }, 'line labels accepted');
        sendJson(res, 200, { accepted: true, remaining: receipt.remaining });
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/owner\/progress$/,
      handler: async (_req, res, c) => {
        const p = requireRole(c, 'owner');
        const [iterations, current] = await Promise.all([reads.overview(p.campaignId), reads.currentAnnotateIteration(p.campaignId)]);
        const live = current === undefined ? undefined : await liveProgress(p.campaignId, current);
        sendJson(res, 200, { campaignId: p.campaignId, owner: p.annotator, annotating: current === undefined ? null : { iteration: current, ...(live ?? { open: false }) }, iterations });
      },
    },
    {
      method: 'POST',
      pattern: /^\/api\/owner\/extend$/,
      handler: async (req, res, c) => {
        checkCsrf(req, c);
        const p = requireRole(c, 'owner');
        const body = bodyOf(extendBody, await readJsonBody(req, maxBody));
        const iteration = await openIteration(p.campaignId);
        const progress = await update(p.campaignId, iteration, extendAnnotationDeadlineUpdate, { deadline: new Date(body.deadline).toISOString(), reason: `${body.reason} (by ${p.annotator})` });
        o.log.info({ campaignId: p.campaignId, iteration, owner: p.annotator, deadline: progress.deadline }, 'annotation deadline extended');
        sendJson(res, 200, { iteration, ...progress });
      },
    },
    {
      method: 'POST',
      pattern: /^\/api\/owner\/close$/,
      handler: async (req, res, c) => {
        checkCsrf(req, c);
        const p = requireRole(c, 'owner');
        const body = bodyOf(closeBody, await readJsonBody(req, maxBody));
        const iteration = await openIteration(p.campaignId);
        const progress = await update(p.campaignId, iteration, closeAnnotationUpdate, { reason: `${body.reason} (by ${p.annotator})` });
        o.log.info({ campaignId: p.campaignId, iteration, owner: p.annotator }, 'annotation closed early');
        sendJson(res, 200, { iteration, ...progress });
      },
    },
  ];

  /** Opening an invite link: the page posts the token from the link's fragment; the reply sets the session cookie. */
  async function openSession(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    checkOrigin(req);
    const { token } = bodyOf(sessionBody, await readJsonBody(req, maxBody));
    const result = await tokens.authenticateToken(token);
    if (!result.ok) throw new HttpError(result.refusal.status, result.refusal.reason);
    const { session, expiresAt } = await tokens.openSession(result.principal, o.sessionMaxAgeMs ?? DEFAULT_SESSION_MAX_AGE_MS);
    const p = result.principal;
    o.log.info({ campaignId: p.campaignId, annotator: p.annotator, role: p.role, tokenId: p.tokenId }, 'session opened');
    sendJson(res, 200, { campaignId: p.campaignId, annotator: p.annotator, role: p.role, next: p.role === 'owner' ? '/owner' : '/' }, {
      'Set-Cookie': sessionCookie(cookieName, session, { maxAgeS: (expiresAt.getTime() - clock().getTime()) / 1000, secure }),
    });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<number> {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    if (!hosts.has(req.headers.host ?? '')) throw new HttpError(421, 'this server does not answer to that host name');
    const method = req.method ?? 'GET';
    const page = STATIC[url.pathname];
    if (page && (method === 'GET' || method === 'HEAD')) {
      send(res, 200, fs.readFileSync(page.file), page.type);
      return 200;
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204, SECURITY_HEADERS).end();
      return 204;
    }
    if (url.pathname === '/api/session' && method === 'POST') {
      await openSession(req, res);
      return 200;
    }
    for (const r of routes) {
      const m = r.pattern.exec(url.pathname);
      if (!m) continue;
      if (r.method !== method) throw new HttpError(405, `${method} not allowed here`);
      const caller = await authenticate(req);
      await r.handler(req, res, caller, m.slice(1).map(decodeURIComponent));
      return 200;
    }
    throw new HttpError(404, 'not found');
  }

  return (req, res) => {
    const started = Date.now();
    // Only the method, the path and the outcome are logged: never headers, query strings or bodies.
    const pathname = (req.url ?? '/').split('?')[0];
    handle(req, res)
      .then((status) => o.log.debug({ method: req.method, path: pathname, status, ms: Date.now() - started }, 'request'))
      .catch((err: unknown) => {
        const status = err instanceof HttpError ? err.status : 500;
        if (status === 500) o.log.error({ method: req.method, path: pathname, err: err instanceof Error ? err.message : String(err) }, 'request failed');
        else o.log.info({ method: req.method, path: pathname, status }, 'request refused');
        if (res.headersSent) return res.destroy();
        // After a refused body the rest of it is not read: close the connection instead.
        sendJson(res, status, { error: status === 500 ? 'internal error (see the server log)' : (err as Error).message }, status === 413 ? { Connection: 'close' } : {});
      });
  };
}

/** The origins a server on host:port is reached at: the public one, plus loopback aliases when it listens on loopback. */
export function serverOrigins(host: string, port: number, baseUrl?: string): { publicOrigin: string; extraOrigins: string[] } {
  const loopback = ['127.0.0.1', 'localhost', '::1'].includes(host);
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const publicOrigin = baseUrl ? new URL(baseUrl).origin : `http://${hostPart}:${port}`;
  const extraOrigins = loopback ? [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`] : [];
  return { publicOrigin, extraOrigins: extraOrigins.filter((x) => x !== publicOrigin) };
}

export interface RunningAnnotatorServer {
  /** the origin it listens at, e.g. http://127.0.0.1:8377 */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Starts the server on host:port (port 0: any free one) and resolves once it listens. */
export async function listenAnnotatorServer(o: Omit<AnnotatorServerOptions, 'publicOrigin' | 'extraOrigins'> & { host: string; port: number; baseUrl?: string }): Promise<RunningAnnotatorServer> {
  const server = http.createServer();
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  // The allowed origins name the port, known only now when port was 0.
  const port = (server.address() as { port: number }).port;
  const origins = serverOrigins(o.host, port, o.baseUrl);
  server.on('request', annotatorRequestHandler({ ...o, ...origins }));
  return {
    url: origins.publicOrigin,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import pg from 'pg';
import { parse } from 'yaml';
import type { Browser, Page } from 'puppeteer-core' with { 'resolution-mode': 'import' };
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { newInviteToken, tokenStore } from '../../cli/web/tokens';
import { inviteLink } from '../../cli/annotate-web';
import { startCampaignFromConfig } from '../../cli/campaign';
import { campaignIds } from '../../common/campaign';
import { PROJECT_ROOT } from '../../infra/paths';
import { annotationProgressQuery } from '../../loops/crlhf/annotation-protocol';
import { loopNamed } from '../../loops/registry';
import { launchBrowser } from '../helpers/browser';
import { withWorkers } from '../helpers/temporal';

/**
 * The annotator web app in a real headless Chromium, against the suite's real Temporal and
 * PostgreSQL and a real cRLHF iteration waiting for people: an annotator opens the invite link,
 * marks lines by keyboard and click, submits through the iteration's update and gets the next
 * item; a second annotator cannot reach the first's items or labels; forged, expired and revoked
 * tokens, CSRF-less and cross-origin posts and oversized bodies are refused; the owner extends
 * the deadline and closes annotation early, after which a submission's rejection is shown.
 * Screenshots go to .feedloop/screenshots/.
 */
// What the page callbacks below touch of the DOM (the project's type check has no DOM lib).
declare const document: { getElementById(id: string): { textContent: string | null; hidden: boolean } | null };
type PageElement = { textContent: string | null; dataset: Record<string, string | undefined>; value: string; hidden: boolean };

const ctx = withWorkers('crlhf-web');
const SCREENSHOTS = path.join(PROJECT_ROOT, '.feedloop', 'screenshots');
const campaignId = `web-${Date.now().toString(36)}`;

let pool: pg.Pool;
let server: ServeProcess;
let browser: Browser;

function feedloopCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli', 'main.ts'), ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), DATABASE_URL: inject('databaseUrl'), FEEDLOOP_LOG_LEVEL: 'warn' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

interface ServeProcess {
  url: string;
  port: number;
  /** everything the server wrote: checked for secrets at the end */
  output(): string;
  close(): Promise<void>;
}

/** `feedloop annotate serve --port 0`, as a process of its own; resolves once it listens. */
function startServe(): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli', 'main.ts'), 'annotate', 'serve', '--port', '0'], {
    cwd: PROJECT_ROOT,
    // debug: every request is logged, so the secrets check below sees all the server logs
    env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), DATABASE_URL: inject('databaseUrl'), FEEDLOOP_LOG_LEVEL: 'debug' },
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /annotator web app at (http:\/\/127\.0\.0\.1:(\d+))/.exec(output);
      if (m) resolve({ url: m[1]!, port: Number(m[2]), output: () => output, close: () => (child.kill('SIGTERM'), exited) });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => reject(new Error(`annotate serve exited before listening:\n${output}`)));
  });
}

/** A small human-crowd campaign: 2 programs and 2 honeypots, each for both annotators. */
function humanCrowdConfig() {
  const raw = parse(fs.readFileSync(path.join(PROJECT_ROOT, 'examples', 'crlhf-dry-run.yaml'), 'utf8')) as Record<string, unknown>;
  return loopNamed('crlhf').parseConfig({
    ...raw,
    dataset: { train: { dataset: 'mbpp', split: 'train', maxTasks: 2 }, eval: { humaneval: { maxTasks: 1 }, mbpp: { maxTasks: 1 } } },
    sampling: { rollout: { n: 1 }, eval: { n: 1, ks: [1] } },
    honeypots: { dataset: 'mbpp', split: 'refine', mutants: 1, gold: 1, maxChangedLines: 1 },
    crowd: { annotators: ['alice', 'bob'], k: 2, deadline: '1h', quorum: 0.5, showTestOutput: true },
    iterations: 1,
    evaluateStart: false,
    taskQueues: ctx.queues,
  });
}

/** Waits until the iteration takes annotations: its items are stored and its workflow says open. */
async function waitForAnnotation(): Promise<void> {
  const iteration = ctx.client.workflow.getHandle(campaignIds.iterationWorkflow(campaignId, 1));
  for (let i = 0; i < 1200; i++) {
    const open = await iteration.query(annotationProgressQuery).then((p) => p.open, () => false);
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the iteration never opened annotation');
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SCREENSHOTS, name), fullPage: true });
const textOf = (page: Page, selector: string) => page.$eval(selector, (e) => e.textContent ?? '');

/** fetch from inside a page: same origin, the page's cookies; optionally the page's CSRF token. */
function pageFetch(page: Page, url: string, init: { method?: string; body?: unknown; csrf?: boolean } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  return page.evaluate(
    async (u, method, body, csrf) => {
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (csrf) headers['X-CSRF-Token'] = ((await (await fetch('/api/me')).json()) as { csrfToken: string }).csrfToken;
      const res = await fetch(u, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    url,
    init.method ?? 'GET',
    init.body,
    init.csrf ?? false,
  );
}

/** fetch from outside any browser, with whatever headers an attacker or a script would send. */
async function rawFetch(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${url}`, { method: init.method ?? 'GET', headers: init.headers, body: init.body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Waits until the annotator page shows an item; if it shows a message or an error instead, fails with it. */
async function waitForItem(page: Page): Promise<void> {
  await page.waitForFunction(() => !document.getElementById('item')!.hidden || !document.getElementById('message')!.hidden || !document.getElementById('error')!.hidden);
  const shown = await page.evaluate(() => ({ item: !document.getElementById('item')!.hidden, message: document.getElementById('message')!.textContent, error: document.getElementById('error')!.textContent }));
  expect(shown.item && !shown.error ? 'an item' : `no item: ${shown.message} ${shown.error}`).toBe('an item');
}

async function signedIn(link: string): Promise<Page> {
  const page = await (await browser.createBrowserContext()).newPage();
  await page.goto(link);
  return page;
}

beforeAll(async () => {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 4 });
  [browser, server] = await Promise.all([
    launchBrowser(),
    startServe(),
    (async () => {
      await startCampaignFromConfig(ctx.client, campaignId, humanCrowdConfig());
      await waitForAnnotation();
    })(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await ctx.client.workflow.getHandle(campaignId).terminate('test over').catch(() => undefined);
  await ctx.client.workflow.getHandle(campaignIds.iterationWorkflow(campaignId, 1)).terminate('test over').catch(() => undefined);
  await pool?.query('delete from campaigns where id = $1', [campaignId]);
  await pool?.end();
});

describe('the annotator web app in a real browser', () => {
  it('runs an annotator session end to end and refuses everyone who should be refused', async () => {
    const tokens = tokenStore(pool);
    // The CLI's invite prints the link (stdout) and the token's id (stderr), never storing the secret.
    const invited = await feedloopCli(['annotate', 'invite', '--campaign', campaignId, '--name', 'alice', '--base-url', server.url]);
    expect(invited.stderr).toMatch(/annotator alice of .*: token tok-[0-9a-f]{12}, valid until/);
    expect(invited.code).toBe(0);
    const aliceLink = invited.stdout.trim();
    expect(aliceLink).toMatch(new RegExp(`^${server.url}/join#token=flt_[A-Za-z0-9_-]{43}$`));
    const aliceToken = aliceLink.split('token=')[1]!;
    const bob = await tokens.invite({ campaignId, annotator: 'bob', role: 'annotator', expiresInMs: 3_600_000 });
    const owner = await tokens.invite({ campaignId, annotator: 'olga', role: 'owner', expiresInMs: 3_600_000 });

    // Alice opens her link: the token is exchanged for a cookie and wiped from the address bar.
    const alice = await signedIn(aliceLink);
    await waitForItem(alice);
    expect(alice.url()).toBe(`${server.url}/`);
    expect(await textOf(alice, '#progress')).toContain('0 of 4 answered · 4 remaining');
    expect(await textOf(alice, '#who')).toContain(`alice · ${campaignId} · iteration 1`);
    expect((await textOf(alice, '#prompt')).length).toBeGreaterThan(10);
    const lineCount = await alice.$$eval('#lines tr', (rows) => rows.length);
    expect(lineCount).toBeGreaterThanOrEqual(2);
    expect(await alice.$$eval('#lines tr td.no', (cells) => cells.map((c) => c.textContent))).toEqual(Array.from({ length: lineCount }, (_, i) => String(i + 1)));
    expect(await alice.$$eval('#lines code span[class^="hljs-"]', (spans) => spans.length)).toBeGreaterThan(0);
    const first = (await pageFetch(alice, '/api/next')).body.item as Record<string, unknown>;
    // What the browser gets of an item: no id, no honeypot flag, no known labels, nobody's labels.
    expect(Object.keys(first).sort()).toEqual(['answered', 'iteration', 'language', 'lineCount', 'linesHtml', 'program', 'prompt', 'ref', 'testOutput']);
    await shot(alice, 'annotator-item.png');

    // Keyboard: j moves to line 2, x marks it wrong; a click marks line 1 wrong; n writes a note on it.
    await alice.keyboard.press('j');
    await alice.keyboard.press('x');
    await alice.click('#lines tr[data-line="1"] td.code');
    await alice.keyboard.press('n');
    await alice.keyboard.type('off by one: should be <=');
    await alice.keyboard.press('Escape');
    const marked = await alice.$$eval('#lines tr', (rows) => rows.map((r) => (r as unknown as PageElement).dataset.label));
    expect(marked).toEqual(['wrong', 'wrong', ...Array.from({ length: lineCount - 2 }, () => 'correct')]);
    expect(await textOf(alice, '#summary')).toBe(`${lineCount} lines: ${lineCount - 2} correct, 2 wrong`);
    await shot(alice, 'annotator-labelled.png');
    await alice.keyboard.press('Enter');
    await alice.waitForFunction(() => document.getElementById('message')?.textContent?.includes('Labels accepted'));
    expect(await textOf(alice, '#message')).toBe('Labels accepted. 3 remaining.');
    expect(await textOf(alice, '#progress')).toContain('1 of 4 answered · 3 remaining');
    const second = (await pageFetch(alice, '/api/next')).body.item as Record<string, unknown>;
    expect(second.ref).not.toBe(first.ref);
    await shot(alice, 'annotator-next.png');
    // The iteration recorded exactly what she marked, under her name.
    const { rows: stored } = await pool.query<{ labels: string[]; notes: Record<string, string> }>(`select labels, notes from crowd_labels where campaign_id = $1 and annotator = 'alice'`, [campaignId]);
    expect(stored).toEqual([{ labels: marked, notes: { '1': 'off by one: should be <=' } }]);

    // The iteration's validator decides, and its reason reaches the caller.
    const again = await pageFetch(alice, `/api/items/${first.ref as string}/labels`, { method: 'POST', body: { labels: marked }, csrf: true });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatch(/already answered/);
    const short = await pageFetch(alice, `/api/items/${second.ref as string}/labels`, { method: 'POST', body: { labels: ['correct'] }, csrf: true });
    expect(short.status).toBe(409);
    expect(String(short.body.error)).toMatch(/line/);

    // Bob, in his own browser context, sees his own item and nothing of Alice's.
    const bobPage = await signedIn(inviteLink(server.url, bob.token));
    await waitForItem(bobPage);
    const bobNext = await pageFetch(bobPage, '/api/next');
    expect(bobNext.body.annotator).toBe('bob');
    expect(JSON.stringify(bobNext.body)).not.toContain('off by one');
    expect((bobNext.body.item as Record<string, unknown>).ownLabels).toBeUndefined();
    await shot(bobPage, 'annotator-bob.png');
    // Alice's references are hers: Bob can neither read nor answer them (403), though the items are his too.
    expect((await pageFetch(bobPage, `/api/items/${second.ref as string}`)).status).toBe(403);
    const foreign = await pageFetch(bobPage, `/api/items/${second.ref as string}/labels`, { method: 'POST', body: { labels: Array(second.lineCount).fill('correct') }, csrf: true });
    expect(foreign).toEqual({ status: 403, body: { error: 'this item is not assigned to you' } });
    expect((await rawFetch(`/api/items/${first.ref as string}`, { headers: { Authorization: `Bearer ${bob.token}` } })).status).toBe(403);
    expect((await rawFetch('/api/items/AAAAAAAAAAAAAAAAAAAAAA', { headers: { Authorization: `Bearer ${bob.token}` } })).status).toBe(404);

    // Forged, expired and revoked tokens.
    expect(await rawFetch('/api/next', { headers: { Authorization: `Bearer ${newInviteToken()}` } })).toEqual({ status: 401, body: { error: 'unknown token' } });
    expect((await rawFetch('/api/next')).status).toBe(401);
    const forgedPage = await signedIn(inviteLink(server.url, newInviteToken()));
    await forgedPage.waitForFunction(() => document.getElementById('status')?.textContent?.includes('cannot be used'));
    expect(await textOf(forgedPage, '#status')).toBe('This invite cannot be used: unknown token.');
    const expiring = await tokens.invite({ campaignId, annotator: 'bob', role: 'annotator', expiresInMs: 1 });
    await new Promise((r) => setTimeout(r, 20));
    expect(await rawFetch('/api/next', { headers: { Authorization: `Bearer ${expiring.token}` } })).toEqual({ status: 401, body: { error: 'token expired' } });
    const spare = await tokens.invite({ campaignId, annotator: 'bob', role: 'annotator', expiresInMs: 3_600_000 });
    const origin = { Origin: server.url, 'Content-Type': 'application/json' };
    const opened = await fetch(`${server.url}/api/session`, { method: 'POST', headers: origin, body: JSON.stringify({ token: spare.token }) });
    expect(opened.status).toBe(200);
    const spareCookie = opened.headers.get('set-cookie')!.split(';')[0]!;
    expect(opened.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    expect((await rawFetch('/api/me', { headers: { Cookie: spareCookie } })).status).toBe(200);
    const revoked = await feedloopCli(['annotate', 'revoke', '--campaign', campaignId, '--token-id', spare.tokenId]);
    expect(revoked.stdout.trim()).toBe(`revoked ${spare.tokenId}`);
    expect(await rawFetch('/api/me', { headers: { Cookie: spareCookie } })).toEqual({ status: 403, body: { error: 'token revoked' } });
    expect((await rawFetch('/api/next', { headers: { Authorization: `Bearer ${spare.token}` } })).status).toBe(403);
    expect((await rawFetch('/api/session', { method: 'POST', headers: origin, body: JSON.stringify({ token: spare.token }) })).status).toBe(403);

    // CSRF: Alice's own cookie without the CSRF header, or from another origin, changes nothing.
    const noCsrf = await pageFetch(alice, `/api/items/${second.ref as string}/labels`, { method: 'POST', body: { labels: Array(second.lineCount).fill('correct') } });
    expect(noCsrf).toEqual({ status: 403, body: { error: 'missing or wrong CSRF token: reload the page' } });
    const aliceCookie = (await alice.browserContext().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const csrf = (await pageFetch(alice, '/api/me')).body.csrfToken as string;
    const body = JSON.stringify({ labels: Array(second.lineCount).fill('correct') });
    const crossSite = await rawFetch(`/api/items/${second.ref as string}/labels`, { method: 'POST', headers: { Cookie: aliceCookie, 'X-CSRF-Token': csrf, Origin: 'http://evil.example', 'Content-Type': 'application/json' }, body });
    expect(crossSite).toEqual({ status: 403, body: { error: 'cross-origin request refused' } });
    const noOrigin = await rawFetch(`/api/items/${second.ref as string}/labels`, { method: 'POST', headers: { Cookie: aliceCookie, 'X-CSRF-Token': csrf, 'Content-Type': 'application/json' }, body });
    expect(noOrigin.status).toBe(403);
    // Oversized bodies are refused before they are read; other hosts are not answered.
    const huge = await rawFetch(`/api/items/${second.ref as string}/labels`, { method: 'POST', headers: { Authorization: `Bearer ${aliceToken}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ labels: Array(60_000).fill('correct') }) });
    expect(huge.status).toBe(413);
    // (fetch may not set Host: a plain request does, as a rebinding page's would arrive)
    const otherHost = await new Promise<number>((resolve, reject) => {
      http.get(`${server.url}/api/me`, { headers: { Host: `evil.example:${server.port}`, Authorization: `Bearer ${aliceToken}` } }, (res) => resolve(res.resume().statusCode!)).on('error', reject);
    });
    expect(otherHost).toBe(421);
    const page = await fetch(`${server.url}/`);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await pool.query(`select count(*)::int as n from crowd_labels where campaign_id = $1`, [campaignId]).then((r) => r.rows[0].n)).toBe(1);

    // Roles: an annotator has no owner page, an owner does not annotate.
    expect((await rawFetch('/api/owner/progress', { headers: { Authorization: `Bearer ${aliceToken}` } })).status).toBe(403);
    expect((await rawFetch('/api/next', { headers: { Authorization: `Bearer ${owner.token}` } })).status).toBe(403);

    // The owner: per-annotator counts, then a later deadline, then annotation closed early.
    const ownerPage = await signedIn(inviteLink(server.url, owner.token));
    await ownerPage.waitForSelector('section.iteration tr[data-annotator="alice"]');
    expect(ownerPage.url()).toBe(`${server.url}/owner`);
    const aliceRow = await ownerPage.$$eval('tr[data-annotator="alice"] td', (cells) => cells.map((c) => c.textContent));
    expect(aliceRow.slice(0, 3)).toEqual(['alice', '4', '1']);
    expect(await textOf(ownerPage, '#annotating-state')).toMatch(/^Iteration 1: annotation open, deadline /);
    const iteration = ctx.client.workflow.getHandle(campaignIds.iterationWorkflow(campaignId, 1));
    const before = await iteration.query(annotationProgressQuery);
    const later = new Date(new Date(before.deadline).getTime() + 24 * 3_600_000).toISOString();
    expect(await ownerPage.$eval('#extend-deadline', (e) => (e as unknown as PageElement).value)).toBe(later);
    await ownerPage.click('#extend');
    await ownerPage.waitForFunction(() => document.getElementById('message')?.textContent?.startsWith('Deadline extended'));
    expect((await iteration.query(annotationProgressQuery)).deadline).toBe(later);
    await shot(ownerPage, 'owner-extended.png');
    await ownerPage.click('#close');
    await ownerPage.waitForFunction(() => document.getElementById('message')?.textContent?.startsWith('Annotation closed'));
    expect(await textOf(ownerPage, '#message')).toBe('Annotation closed: iteration 1 goes on with the labels it has.');
    expect(await ownerPage.$eval('#close-form', (e) => (e as unknown as PageElement).hidden)).toBe(true);
    expect((await iteration.query(annotationProgressQuery)).open).toBe(false);
    await shot(ownerPage, 'owner-closed.png');

    // Alice, still on her second item, submits: the rejection and its reason are shown to her.
    await alice.keyboard.press('Enter');
    await alice.waitForFunction(() => !document.getElementById('error')!.hidden);
    // (the iteration's own reason while it runs on, the server's once it has finished)
    expect(await textOf(alice, '#error')).toMatch(/^Not accepted: annotation .*closed/);
    expect(await textOf(alice, '#message')).toBe('');
    await shot(alice, 'annotator-rejected.png');
    expect(await pool.query(`select count(*)::int as n from crowd_labels where campaign_id = $1`, [campaignId]).then((r) => r.rows[0].n)).toBe(1);

    // Once the iteration has estimated reliabilities, the owner's page shows them.
    for (let i = 0; i < 300; i++) {
      const { rows } = await pool.query(`select 1 from crowd_reliability where campaign_id = $1 and annotator = 'alice'`, [campaignId]);
      if (rows.length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await ownerPage.reload();
    await ownerPage.waitForSelector('tr[data-annotator="alice"]');
    const withReliability = await ownerPage.$$eval('tr[data-annotator="alice"] td', (cells) => cells.map((c) => c.textContent));
    expect(withReliability[3]).toMatch(/^\d+\.\d%$/);
    await shot(ownerPage, 'owner-reliability.png');

    // No secret reached the server's logs or the iteration's history: tokens, sessions, CSRF tokens.
    const secrets = [aliceToken, bob.token, owner.token, spare.token, spareCookie.split('=')[1]!, aliceCookie.split('=')[1]!, csrf];
    const logs = server.output();
    expect(logs).toContain('line labels accepted');
    // payload data comes base64-encoded: read it as the text it encodes
    const history = JSON.stringify(await iteration.fetchHistory(), (k, v: unknown) => (k === 'data' && typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : v));
    expect(history.includes('off by one: should be <=')).toBe(true);
    for (const secret of secrets) {
      expect(logs.includes(secret), 'a secret in the server log').toBe(false);
      expect(history.includes(secret), 'a secret in the history').toBe(false);
    }
  });
});

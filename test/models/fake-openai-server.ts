import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local HTTP server that speaks the OpenAI REST API (plus vLLM's runtime LoRA endpoint) to the
 * real `openai` client: chat completions, completions, models, files, fine-tuning jobs. It is the
 * test double for a remote LLM API, so everything goes over real HTTP and JSON, with faults
 * injected per route (status codes with Retry-After, slow responses).
 *
 * Generations are deterministic: sample i of a request answers "<seed>/<i>: <prompt>", split
 * into whitespace tokens whose logprobs are -0.1, -0.2, ... so tests can assert exact values;
 * or, with the `answer` option, what the test scripts (e.g. a judge's yes/no answers).
 */

export type Fault =
  | { status: number; message?: string; headers?: Record<string, string> }
  | { delayMs: number };

interface Rule {
  method: string;
  path: RegExp;
  fault: Fault;
  remaining: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
  authorization?: string;
}

export interface FineTuningJob {
  id: string;
  object: 'fine_tuning.job';
  created_at: number;
  model: string;
  training_file: string;
  validation_file: string | null;
  status: 'validating_files' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  fine_tuned_model: string | null;
  finished_at: number | null;
  hyperparameters: Record<string, unknown>;
  metadata: Record<string, string> | null;
  suffix: string | null;
  seed: number;
  trained_tokens: number | null;
  error: { code: string; message: string; param: string | null } | null;
  organization_id: string;
  result_files: string[];
  estimated_finish: number | null;
  integrations: null;
  method: { type: 'supervised' };
  /** polls left before the job completes (test knob) */
  pollsLeft: number;
  failWith?: string;
}

/**
 * An answer a test scripts for a chat request (e.g. an AI-feedback judge). With `tokens`, the
 * server returns them as logprobs when the request asks for logprobs; without, it returns no
 * logprobs at all, as servers that do not support them do.
 */
export interface ScriptedAnswer {
  text: string;
  tokens?: Array<{ token: string; logprob: number; top?: Array<{ token: string; logprob: number }> }>;
  finishReason?: 'stop' | 'length' | 'content_filter';
}

export interface FakeOpenAIOptions {
  /** when set, requests must carry `Authorization: Bearer <apiKey>` */
  apiKey?: string;
  /** models served (adapters loaded at runtime are added) */
  models?: string[];
  /** retrieve calls before a fine-tuning job succeeds */
  fineTunePolls?: number;
  /** scripts chat answers: return undefined to fall back to the echo answer */
  answer?: (prompt: string, sampleIndex: number, body: Record<string, unknown>) => ScriptedAnswer | undefined;
}

export class FakeOpenAIServer {
  readonly requests: RecordedRequest[] = [];
  readonly files = new Map<string, { id: string; filename: string; purpose: string; bytes: number; content: string }>();
  readonly jobs = new Map<string, FineTuningJob>();
  fineTuneCreations = 0;
  /** when set, the next fine-tuning job created fails with this message */
  nextJobFailure?: string;
  /** requests being answered now, and the most at once: checks client-side concurrency bounds */
  inFlight = 0;
  maxInFlight = 0;
  private readonly rules: Rule[] = [];
  private readonly models: Set<string>;
  private readonly server: http.Server;
  private nextId = 1;
  baseURL = '';

  constructor(private readonly options: FakeOpenAIOptions = {}) {
    this.models = new Set(options.models ?? ['tiny-base']);
    this.server = http.createServer((req, res) => {
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      res.once('close', () => this.inFlight--);
      this.handle(req, res).catch((err: unknown) => this.send(res, 500, { error: { message: String(err), type: 'server_error' } }));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.baseURL = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The next `times` requests matching method and path get `fault` instead of (or before) the normal answer. */
  inject(method: string, path: RegExp, fault: Fault, times = 1): void {
    this.rules.push({ method, path, fault, remaining: times });
  }

  count(method: string, path: RegExp): number {
    return this.requests.filter((r) => r.method === method && path.test(r.path)).length;
  }

  private send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.headersSent || res.destroyed) return;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
      'x-request-id': `req_${this.nextId++}`,
      ...headers,
    });
    res.end(text);
  }

  private error(res: http.ServerResponse, status: number, message: string, type: string, headers?: Record<string, string>): void {
    this.send(res, status, { error: { message, type, param: null, code: null } }, headers);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const contentType = req.headers['content-type'] ?? '';
    let body: unknown;
    if (contentType.startsWith('application/json') && raw.length) body = JSON.parse(raw.toString('utf8'));
    this.requests.push({ method, path: url.pathname, body, authorization: req.headers.authorization });

    const rule = this.rules.find((r) => r.remaining > 0 && r.method === method && r.path.test(url.pathname));
    if (rule) {
      rule.remaining--;
      if ('delayMs' in rule.fault) {
        await new Promise((r) => setTimeout(r, (rule.fault as { delayMs: number }).delayMs));
      } else {
        return this.error(res, rule.fault.status, rule.fault.message ?? `injected ${rule.fault.status}`, 'injected', rule.fault.headers);
      }
    }
    if (this.options.apiKey !== undefined && req.headers.authorization !== `Bearer ${this.options.apiKey}`) {
      // Like OpenAI, echo (part of) the key it got: the client must keep it out of failures.
      const got = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      return this.error(res, 401, `Incorrect API key provided: ${got}. You can find your API key at the dashboard.`, 'invalid_request_error');
    }

    const p = url.pathname;
    if (method === 'GET' && p === '/v1/models') {
      return this.send(res, 200, { object: 'list', data: [...this.models].map((id) => ({ id, object: 'model', created: 0, owned_by: 'fake' })) });
    }
    if (method === 'POST' && p === '/v1/chat/completions') return this.chat(res, body as Record<string, unknown>);
    if (method === 'POST' && p === '/v1/completions') return this.completions(res, body as Record<string, unknown>);
    if (method === 'POST' && p === '/v1/load_lora_adapter') {
      const { lora_name: name, lora_path: path } = body as { lora_name?: string; lora_path?: string };
      if (!name || !path) return this.error(res, 400, 'lora_name and lora_path are required', 'BadRequestError');
      if (this.models.has(name)) return this.error(res, 400, `The lora adapter '${name}' has already been loaded.`, 'InvalidUserInput');
      this.models.add(name);
      return this.send(res, 200, `Success: LoRA adapter '${name}' added successfully.`);
    }
    if (method === 'POST' && p === '/v1/files') return this.uploadFile(res, raw, contentType);
    if (p === '/v1/fine_tuning/jobs') {
      if (method === 'POST') return this.createJob(res, body as Record<string, unknown>);
      if (method === 'GET') return this.listJobs(res, url);
    }
    const job = /^\/v1\/fine_tuning\/jobs\/([^/]+)(\/cancel)?$/.exec(p);
    if (job) {
      const found = this.jobs.get(job[1] ?? '');
      if (!found) return this.error(res, 404, `No such fine-tuning job: ${job[1]}`, 'invalid_request_error');
      if (method === 'POST' && job[2]) {
        found.status = 'cancelled';
        return this.send(res, 200, publicJob(found));
      }
      if (method === 'GET' && !job[2]) return this.send(res, 200, publicJob(advance(found)));
    }
    return this.error(res, 404, `no route ${method} ${p}`, 'invalid_request_error');
  }

  private checkModel(res: http.ServerResponse, model: unknown): model is string {
    if (typeof model !== 'string' || !this.models.has(model)) {
      this.error(res, 404, `The model \`${String(model)}\` does not exist.`, 'NotFoundError');
      return false;
    }
    return true;
  }

  private texts(body: Record<string, unknown>, prompt: string): { text: string; tokens: string[]; finish: string }[] {
    const n = typeof body.n === 'number' ? body.n : 1;
    const seed = typeof body.seed === 'number' ? String(body.seed) : 'none';
    const maxTokens = (body.max_tokens ?? body.max_completion_tokens) as number | undefined;
    const stop = Array.isArray(body.stop) ? (body.stop as string[]) : typeof body.stop === 'string' ? [body.stop] : [];
    return Array.from({ length: n }, (_, i) => {
      let tokens = `${seed}/${i}: ${prompt}`.split(/(?<=\s)/);
      let finish = 'stop';
      if (maxTokens !== undefined && tokens.length > maxTokens) {
        tokens = tokens.slice(0, maxTokens);
        finish = 'length';
      }
      let text = tokens.join('');
      for (const s of stop) {
        const at = text.indexOf(s);
        if (at >= 0) {
          text = text.slice(0, at);
          tokens = text.split(/(?<=\s)/).filter(Boolean);
          finish = 'stop';
        }
      }
      return { text, tokens, finish };
    });
  }

  private chat(res: http.ServerResponse, body: Record<string, unknown>): void {
    if (!this.checkModel(res, body.model)) return;
    const messages = body.messages as { role: string; content: string }[] | undefined;
    if (!Array.isArray(messages) || messages.length === 0) return this.error(res, 400, "'messages' must be a non-empty array", 'invalid_request_error');
    const prompt = messages[messages.length - 1]?.content ?? '';
    const top = typeof body.top_logprobs === 'number' ? body.top_logprobs : 0;
    const echo = this.texts(body, prompt);
    const choices = echo.map((t, index) => {
      const scripted = this.options.answer?.(prompt, index, body);
      if (scripted) {
        return {
          index,
          message: { role: 'assistant', content: scripted.text, refusal: null },
          finish_reason: scripted.finishReason ?? 'stop',
          logprobs:
            body.logprobs && scripted.tokens
              ? {
                  content: scripted.tokens.map((tok) => ({
                    token: tok.token,
                    logprob: tok.logprob,
                    bytes: null,
                    top_logprobs: (tok.top ?? []).slice(0, top).map((a) => ({ token: a.token, logprob: a.logprob, bytes: null })),
                  })),
                  refusal: null,
                }
              : null,
        };
      }
      return {
        index,
        message: { role: 'assistant', content: t.text, refusal: null },
        finish_reason: t.finish,
        logprobs: body.logprobs
          ? {
              content: t.tokens.map((token, k) => ({
                token,
                logprob: -0.1 * (k + 1),
                bytes: null,
                top_logprobs: Array.from({ length: top }, (_, a) => ({ token: a === 0 ? token : `alt${a}`, logprob: -0.1 * (k + 1) - a, bytes: null })),
              })),
              refusal: null,
            }
          : null,
      };
    });
    this.send(res, 200, {
      id: `chatcmpl-${this.nextId++}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      system_fingerprint: 'fp_fake',
      choices,
      usage: { prompt_tokens: prompt.split(/\s+/).length, completion_tokens: choices.length * 3, total_tokens: 0 },
    });
  }

  private completions(res: http.ServerResponse, body: Record<string, unknown>): void {
    if (!this.checkModel(res, body.model)) return;
    if (typeof body.prompt !== 'string') return this.error(res, 400, "'prompt' must be a string", 'invalid_request_error');
    const top = typeof body.logprobs === 'number' ? body.logprobs : undefined;
    const choices = this.texts(body, body.prompt).map((t, index) => ({
      index,
      text: t.text,
      finish_reason: t.finish,
      logprobs:
        top === undefined
          ? null
          : {
              tokens: t.tokens,
              token_logprobs: t.tokens.map((_, k) => -0.1 * (k + 1)),
              top_logprobs: t.tokens.map((token, k) => Object.fromEntries(Array.from({ length: top }, (_, a) => [a === 0 ? token : `alt${a}`, -0.1 * (k + 1) - a]))),
              text_offset: [],
            },
    }));
    this.send(res, 200, {
      id: `cmpl-${this.nextId++}`,
      object: 'text_completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices,
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    });
  }

  private async uploadFile(res: http.ServerResponse, raw: Buffer, contentType: string): Promise<void> {
    if (!contentType.startsWith('multipart/form-data')) return this.error(res, 400, 'expected multipart/form-data', 'invalid_request_error');
    const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
    const file = form.get('file');
    const purpose = form.get('purpose');
    if (!(file instanceof Blob) || typeof purpose !== 'string') return this.error(res, 400, "'file' and 'purpose' are required", 'invalid_request_error');
    const id = `file-${this.nextId++}`;
    const content = await file.text();
    const filename = 'name' in file ? String(file.name) : 'upload';
    this.files.set(id, { id, filename, purpose, bytes: Buffer.byteLength(content), content });
    this.send(res, 200, { id, object: 'file', bytes: Buffer.byteLength(content), created_at: Math.floor(Date.now() / 1000), filename, purpose, status: 'processed' });
  }

  private createJob(res: http.ServerResponse, body: Record<string, unknown>): void {
    if (!this.checkModel(res, body.model)) return;
    const fileId = body.training_file as string;
    if (!this.files.has(fileId)) return this.error(res, 400, `invalid training_file: ${fileId}`, 'invalid_request_error');
    this.fineTuneCreations++;
    const id = `ftjob-${this.nextId++}`;
    const job: FineTuningJob = {
      id,
      object: 'fine_tuning.job',
      created_at: Math.floor(Date.now() / 1000) + this.fineTuneCreations, // strictly increasing, for list order
      model: body.model as string,
      training_file: fileId,
      validation_file: null,
      status: 'validating_files',
      fine_tuned_model: null,
      finished_at: null,
      hyperparameters: (body.hyperparameters as Record<string, unknown>) ?? {},
      metadata: (body.metadata as Record<string, string>) ?? null,
      suffix: (body.suffix as string) ?? null,
      seed: (body.seed as number) ?? 42,
      trained_tokens: null,
      error: null,
      organization_id: 'org-fake',
      result_files: [],
      estimated_finish: null,
      integrations: null,
      method: { type: 'supervised' },
      pollsLeft: this.options.fineTunePolls ?? 3,
      failWith: this.nextJobFailure,
    };
    this.nextJobFailure = undefined;
    this.jobs.set(id, job);
    this.send(res, 200, publicJob(job));
  }

  private listJobs(res: http.ServerResponse, url: URL): void {
    const limit = Number(url.searchParams.get('limit') ?? '20');
    const after = url.searchParams.get('after');
    const all = [...this.jobs.values()].sort((a, b) => b.created_at - a.created_at);
    const start = after ? all.findIndex((j) => j.id === after) + 1 : 0;
    const page = all.slice(start, start + limit);
    this.send(res, 200, { object: 'list', data: page.map(publicJob), has_more: start + limit < all.length });
  }
}

function advance(job: FineTuningJob): FineTuningJob {
  if (job.status === 'cancelled' || job.status === 'succeeded' || job.status === 'failed') return job;
  job.pollsLeft--;
  if (job.pollsLeft > 0) {
    job.status = job.pollsLeft > 1 ? 'queued' : 'running';
    return job;
  }
  if (job.failWith) {
    job.status = 'failed';
    job.error = { code: 'invalid_training_file', message: job.failWith, param: 'training_file' };
  } else {
    job.status = 'succeeded';
    job.fine_tuned_model = `ft:${job.model}:${job.suffix ?? 'x'}:${job.id}`;
    job.trained_tokens = 1234;
  }
  job.finished_at = Math.floor(Date.now() / 1000);
  return job;
}

function publicJob(job: FineTuningJob): Omit<FineTuningJob, 'pollsLeft' | 'failWith'> {
  const { pollsLeft: _polls, failWith: _fail, ...rest } = job;
  return rest;
}

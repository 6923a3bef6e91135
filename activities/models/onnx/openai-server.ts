import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { ChatMessage, GenerateRequest, Sample } from '../types';
import { OnnxBackend } from './backend';
import { loadModelConfig, loadTokenizer, type LoadedTokenizer } from './model-files';

/**
 * A small OpenAI-compatible HTTP server over the `onnx` backend: `GET /v1/models`,
 * `POST /v1/completions` and `POST /v1/chat/completions` (n, temperature, top_p, max_tokens, stop,
 * seed, logprobs / top_logprobs), so a local causal LM such as the tiny code model can be any
 * role's `openai` backend, e.g. RLAIF's judge, on a machine without vLLM (`feedloop model serve`).
 * No streaming, no tools. Requests run one at a time on one ONNX session.
 *
 * Chat messages are rendered with a plain template (`chatPrompt`), and a prompt longer than the
 * model's context leaves room for the answer by dropping its oldest tokens, as a judge's question
 * comes last.
 */
export interface OnnxOpenAiServerOptions {
  modelDir: string;
  /** the model id clients send (and /v1/models lists) */
  name: string;
  host?: string;
  /** 0: any free port */
  port?: number;
  intraOpThreads?: number;
}

export interface OnnxOpenAiServer {
  /** e.g. http://127.0.0.1:8765/v1 */
  baseUrl: string;
  close(): Promise<void>;
}

/** The plain chat template: each message under its role's heading, then the assistant's. */
export function chatPrompt(messages: readonly ChatMessage[]): string {
  const heading = (role: string) => `### ${role[0]!.toUpperCase()}${role.slice(1)}`;
  return `${messages.map((m) => `${heading(m.role)}\n${m.content}\n\n`).join('')}${heading('assistant')}\nAnswer: `;
}

/**
 * Drops the prompt's oldest tokens so that prompt + answer fit the model's context (with a margin
 * for re-tokenisation at the cut); undefined when maxTokens alone fills it.
 */
export function fitPrompt(tokenizer: LoadedTokenizer, prompt: string, context: number | undefined, maxTokens: number): { prompt: string; tokens: number } | undefined {
  const ids = tokenizer.encode(prompt);
  if (!context) return { prompt, tokens: ids.length };
  const room = context - maxTokens - 8;
  if (room < 1) return undefined;
  if (ids.length <= room) return { prompt, tokens: ids.length };
  return { prompt: tokenizer.decode(ids.slice(ids.length - room)), tokens: room };
}

class BadRequest extends Error {}

interface CommonBody {
  model?: unknown;
  n?: unknown;
  temperature?: unknown;
  top_p?: unknown;
  max_tokens?: unknown;
  max_completion_tokens?: unknown;
  stop?: unknown;
  seed?: unknown;
}

function num(body: Record<string, unknown>, field: string, check: (v: number) => boolean): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !check(v)) throw new BadRequest(`${field}: invalid value ${JSON.stringify(v)}`);
  return v;
}

function stops(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v;
  throw new BadRequest('stop: must be a string or an array of strings');
}

export async function startOnnxOpenAiServer(options: OnnxOpenAiServerOptions): Promise<OnnxOpenAiServer> {
  const dir = path.resolve(options.modelDir);
  const backend = await OnnxBackend.load({
    backend: 'onnx', task: 'causal-lm', modelDir: dir, modelFile: 'model.onnx', executionProvider: 'cpu', deviceId: 0,
    intraOpThreads: options.intraOpThreads, batchSize: 8, maxLength: 1024, rewardLabel: 0, scoreTransform: 'logit',
  });
  const tokenizer: LoadedTokenizer = await loadTokenizer(dir);
  const context = loadModelConfig(dir).maxPositions;
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(run: () => Promise<T>): Promise<T> => {
    const next = queue.then(run, run);
    queue = next.catch(() => undefined);
    return next;
  };

  const fitted = (prompt: string, maxTokens: number) => {
    const fit = fitPrompt(tokenizer, prompt, context, maxTokens);
    if (!fit) throw new BadRequest(`max_tokens ${maxTokens} leaves no room for a prompt in the model's context of ${context} tokens`);
    return fit;
  };

  const generate = async (body: CommonBody & Record<string, unknown>, prompt: string, topLogprobs: number | undefined, logprobs: boolean) => {
    const maxTokens = num(body, 'max_completion_tokens', (v) => Number.isInteger(v) && v >= 1) ?? num(body, 'max_tokens', (v) => Number.isInteger(v) && v >= 1) ?? 16;
    const fit = fitted(prompt, maxTokens);
    const request: GenerateRequest = {
      prompt: fit.prompt,
      n: num(body, 'n', (v) => Number.isInteger(v) && v >= 1 && v <= 64) ?? 1,
      temperature: num(body, 'temperature', (v) => v >= 0 && v <= 2) ?? 1,
      topP: num(body, 'top_p', (v) => v > 0 && v <= 1) ?? 1,
      maxTokens,
      stop: stops(body.stop),
      seed: num(body, 'seed', Number.isInteger),
      logprobs,
      topLogprobs,
    };
    const { samples } = await serially(() => backend.generate(request));
    const completionTokens = samples.reduce((a, s) => a + (Number(s.meta.tokens) || 0), 0);
    return { samples, usage: { prompt_tokens: fit.tokens, completion_tokens: completionTokens, total_tokens: fit.tokens + completionTokens } };
  };

  const finish = (s: Sample) => (s.finishReason === 'other' ? 'stop' : s.finishReason);
  const created = () => Math.floor(Date.now() / 1000);
  let served = 0;
  const id = (prefix: string) => `${prefix}-feedloop-${++served}`;

  const routes: Record<string, (body: Record<string, unknown>) => Promise<object>> = {
    '/v1/completions': async (body) => {
      if (typeof body.prompt !== 'string') throw new BadRequest('prompt: a string is required (one prompt per request)');
      const top = num(body, 'logprobs', (v) => Number.isInteger(v) && v >= 0 && v <= 20);
      const { samples, usage } = await generate(body, body.prompt, top || undefined, top !== undefined);
      return {
        id: id('cmpl'), object: 'text_completion', created: created(), model: options.name, usage,
        choices: samples.map((s, index) => ({
          index, text: s.text, finish_reason: finish(s),
          logprobs: top === undefined ? null : {
            tokens: s.logprobs!.map((t) => t.token),
            token_logprobs: s.logprobs!.map((t) => t.logprob),
            top_logprobs: top ? s.logprobs!.map((t) => Object.fromEntries((t.top ?? []).map((a) => [a.token, a.logprob]))) : null,
            text_offset: null,
          },
        })),
      };
    },
    '/v1/chat/completions': async (body) => {
      const messages = body.messages;
      if (!Array.isArray(messages) || messages.length === 0 || !messages.every((m) => m && typeof m.role === 'string' && typeof m.content === 'string')) {
        throw new BadRequest('messages: a non-empty array of {role, content} with string content is required');
      }
      const logprobs = body.logprobs === true;
      const top = num(body, 'top_logprobs', (v) => Number.isInteger(v) && v >= 0 && v <= 20);
      const { samples, usage } = await generate(body, chatPrompt(messages as ChatMessage[]), logprobs ? top || undefined : undefined, logprobs);
      return {
        id: id('chatcmpl'), object: 'chat.completion', created: created(), model: options.name, usage,
        choices: samples.map((s, index) => ({
          index, finish_reason: finish(s),
          message: { role: 'assistant', content: s.text },
          logprobs: logprobs ? { content: s.logprobs!.map((t) => ({ token: t.token, logprob: t.logprob, bytes: null, top_logprobs: (t.top ?? []).map((a) => ({ token: a.token, logprob: a.logprob, bytes: null })) })) } : null,
        })),
      };
    },
  };

  const send = (res: http.ServerResponse, status: number, body: object) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '').split('?')[0]!;
    if (req.method === 'GET' && url === '/v1/models') {
      send(res, 200, { object: 'list', data: [{ id: options.name, object: 'model', created: 0, owned_by: 'feedloop' }] });
      return;
    }
    const route = req.method === 'POST' ? routes[url] : undefined;
    if (!route) {
      send(res, 404, { error: { message: `no route ${req.method} ${url}`, type: 'invalid_request_error' } });
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        if (!body || typeof body !== 'object') throw new Error('not an object');
      } catch {
        send(res, 400, { error: { message: 'the body must be a JSON object', type: 'invalid_request_error' } });
        return;
      }
      if (body.stream === true) {
        send(res, 400, { error: { message: 'stream: not supported by this server', type: 'invalid_request_error' } });
        return;
      }
      if (body.model !== undefined && body.model !== options.name) {
        send(res, 404, { error: { message: `model ${JSON.stringify(body.model)} not found (this server serves ${options.name})`, type: 'invalid_request_error' } });
        return;
      }
      route(body).then(
        (out) => send(res, 200, out),
        (err: unknown) =>
          err instanceof BadRequest
            ? send(res, 400, { error: { message: err.message, type: 'invalid_request_error' } })
            : send(res, 500, { error: { message: (err as Error).message, type: 'server_error' } }),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://${address.includes(':') ? `[${address}]` : address}:${port}/v1`,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await backend.close();
    },
  };
}

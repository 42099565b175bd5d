/**
 * A deterministic fake of an OpenAI-compatible inference server, for tests and benchmarks.
 * It owns the wire format of `POST /v1/chat/completions`, `POST /v1/completions` and
 * `GET /v1/models` (plain JSON and Server-Sent Events), and one rule: the same request always
 * gets the same answer, token split, logprobs and token counts, so a test can compute what an
 * evaluation runner must report. Built on bare `node:http` with a synchronous fast path, so a
 * benchmark at concurrency 64 measures the client and not the fake.
 *
 * What the model "says" is decided from the last `user` message (or `prompt` for
 * /v1/completions), in this order:
 *   1. `[[judge:X]]` in the content: the answer is X verbatim (X runs to the LAST `]]` of the
 *      content, so JSON with brackets works; put this control last);
 *   2. `opts.answers[content]` (exact), then `opts.answers[content without controls]`;
 *   3. `ANSWER: <text>` in the content: the rest of that line, trimmed;
 *   4. otherwise the content itself (controls removed, trimmed).
 *
 * Behaviour controls, embedded in that same content so one server serves a mixed suite:
 *   [[fail:N]]   the first N requests with this exact content get 500 + OpenAI error JSON;
 *                later ones succeed. One attempt counter per distinct content string.
 *   [[429:N]]    the same with 429 and `Retry-After: 0` (seconds). With both in one content
 *                they share the counter: first the 500s, then the 429s, then success.
 *   [[error]]    always 400 + OpenAI error JSON (not transient).
 *   [[nonjson]]  200 with `content-type: text/html` and a small HTML page.
 *   [[slow:MS]]  wait MS ms before answering (after the server-wide delay of mode 'slow').
 *   [[hang]]     never answer; the request stays open until the client gives up or close().
 *   [[reset]]    destroy the socket without any response.
 *   [[cut]]      streamed: send the head and half the token frames, then destroy the socket.
 *   [[nostream]] answer plain JSON even when `stream: true` was asked.
 * `POST /v1/embeddings` answers a deterministic unit vector (8 dimensions) per input string
 * (float32 base64 with `encoding_format: "base64"`, as the official client asks), with
 * prompt_tokens the word count of the inputs.
 * `setFailRate(r)` (or `opts.failRate`) makes a share r of generation requests (chat and
 * completions) answer 500 from then on, spread evenly and deterministically (request k fails when
 * floor(k·r) moves), so "20% failing" is exactly one in five: a fault injected mid-test.
 * Server-wide `opts.mode` applies to every request after the API-key check: 'error500' (500
 * JSON), 'nonjson' (HTML), 'slow' (wait `opts.delayMs`, default 1000, then behave normally).
 * Order: API key, server mode, then the request itself (so a 'slow' server delays 400s too).
 * `opts.apiKey` makes requests without `Authorization: Bearer <key>` get 401. Bodies that are
 * not JSON, or lack `messages` / a string `prompt`, get 400; unknown routes 404.
 *
 * Tokens are the whitespace-separated words of the answer, each with the whitespace that
 * follows it (`fakeTokens`); a token's logprob is a hash of its text in (-3, 0)
 * (`fakeLogprob`); prompt_tokens is the word count of all message contents (or the prompt).
 * Streaming sends a role chunk (`delta: {role, content: ''}`), waits `firstTokenDelayMs`, then
 * one chunk per token `tokenDelayMs` apart, a chunk with `finish_reason: 'stop'`, the usage
 * chunk (`choices: []`) when `stream_options.include_usage`, and `data: [DONE]`. A
 * non-streaming answer waits as long as streaming it would (firstTokenDelayMs + (n-1) ×
 * tokenDelayMs), so latency benchmarks see the same model speed either way.
 *
 * No module-level mutable state: every call to `startFakeOpenAI` is independent, and close()
 * clears every pending timer and destroys every open socket (hanging requests included).
 */
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeOpenAIMode = 'ok' | 'error500' | 'nonjson' | 'slow';

export interface FakeOpenAIOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Exact content → answer. */
  answers?: Record<string, string>;
  /** Server-wide behaviour for every request; default 'ok'. */
  mode?: FakeOpenAIMode;
  /** Delay of mode 'slow'; default 1000 ms. */
  delayMs?: number;
  /** Pause between token chunks when streaming; default 0. */
  tokenDelayMs?: number;
  /** Pause before the first token chunk when streaming; default 0. */
  firstTokenDelayMs?: number;
  /** When set, requests must carry `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Ids listed by GET /v1/models; default ['fake-model']. */
  models?: string[];
  /** How many requests received() keeps (the most recent); default 10,000. */
  maxRecorded?: number;
  /** Share of generation requests that answer 500 (see setFailRate); default 0. */
  failRate?: number;
}

export interface RecordedRequest {
  method: string;
  /** URL path without the query string. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; the raw text when it is not JSON; undefined when empty. */
  body: unknown;
  /** Date.now() when the body had been read. */
  at: number;
}

export interface FakeOpenAI {
  /** Base URL including `/v1`, e.g. http://127.0.0.1:41234/v1. */
  url: string;
  port: number;
  /** HTTP requests received since start or reset(), of any route and outcome. */
  readonly requests: number;
  /** The most recent requests (at most maxRecorded), oldest first. */
  received(): RecordedRequest[];
  /** Clears the request count, the recorded requests and the fail/429 attempt counters. */
  reset(): void;
  /** From now on a share `rate` (0..1) of generation requests answer 500; 0 heals it. */
  setFailRate(rate: number): void;
  close(): Promise<void>;
}

/** Deterministic logprob of a token: FNV-1a of its text mapped into the open interval (-3, 0). */
export function fakeLogprob(token: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < token.length; i++) {
    h ^= token.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (-3 * ((h >>> 0) + 1)) / 4294967297;
}

/** The fake's tokenizer: each word with the whitespace after it; leading whitespace joins the first token. Concatenates back to `text`. */
export function fakeTokens(text: string): string[] {
  const tokens = text.match(/\S+\s*/g) ?? [];
  const lead = /^\s+/.exec(text);
  if (lead && tokens.length > 0) tokens[0] = lead[0] + tokens[0];
  return tokens;
}

/** Number of whitespace-separated words: the fake's token count. */
export function fakeWordCount(text: string): number {
  return text.match(/\S+/g)?.length ?? 0;
}

/** Perplexity a client should compute from the fake's logprobs for `answer`: exp(-mean logprob). */
export function fakePerplexity(answer: string): number {
  const tokens = fakeTokens(answer);
  if (tokens.length === 0) return 1;
  let sum = 0;
  for (const t of tokens) sum += fakeLogprob(t);
  return Math.exp(-sum / tokens.length);
}

interface Controls {
  fail: number;
  rate: number;
  error: boolean;
  nonjson: boolean;
  hang: boolean;
  reset: boolean;
  cut: boolean;
  nostream: boolean;
  slowMs: number;
  judge: string | undefined;
  /** The content with every control removed, trimmed. */
  stripped: string;
}

const CONTROL_RE = /\[\[(?:(fail|429):(\d+)|(error|nonjson|hang|reset|cut|nostream)|slow:(\d+))\]\]/g;
const JUDGE_OPEN = '[[judge:';

function parseControls(content: string): Controls {
  const c: Controls = { fail: 0, rate: 0, error: false, nonjson: false, hang: false, reset: false, cut: false, nostream: false, slowMs: 0, judge: undefined, stripped: content };
  let rest = content;
  const open = content.indexOf(JUDGE_OPEN);
  const close = content.lastIndexOf(']]');
  if (open >= 0 && close > open) {
    c.judge = content.slice(open + JUDGE_OPEN.length, close);
    rest = content.slice(0, open) + content.slice(close + 2);
  }
  c.stripped = rest
    .replace(CONTROL_RE, (_m, kind?: string, n?: string, flag?: string, slow?: string) => {
      if (kind === 'fail') c.fail = Number(n);
      else if (kind === '429') c.rate = Number(n);
      else if (flag === 'error') c.error = true;
      else if (flag === 'nonjson') c.nonjson = true;
      else if (flag === 'hang') c.hang = true;
      else if (flag === 'reset') c.reset = true;
      else if (flag === 'cut') c.cut = true;
      else if (flag === 'nostream') c.nostream = true;
      else if (slow !== undefined) c.slowMs = Number(slow);
      return '';
    })
    .trim();
  return c;
}

const NO_CONTROLS: Controls = { fail: 0, rate: 0, error: false, nonjson: false, hang: false, reset: false, cut: false, nostream: false, slowMs: 0, judge: undefined, stripped: '' };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Text of a message content: a string, or the `text` parts of a content-part array. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const parts: string[] = [];
  for (const p of content) if (isRecord(p) && p.type === 'text' && typeof p.text === 'string') parts.push(p.text);
  return parts.join('\n');
}

interface OpenAIErrorSpec {
  status: number;
  type: string;
  code: string | null;
  message: string;
  headers?: Record<string, string>;
}

const JSON_HEADERS = { 'content-type': 'application/json' } as const;
const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' } as const;
const HTML_BODY = '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><p>fake upstream page, not JSON</p></body></html>';
const DONE_FRAME = 'data: [DONE]\n\n';

function sendJson(res: ServerResponse, status: number, payload: unknown, extra?: Record<string, string>): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, { ...JSON_HEADERS, 'content-length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

function sendError(res: ServerResponse, e: OpenAIErrorSpec): void {
  sendJson(res, e.status, { error: { message: e.message, type: e.type, param: null, code: e.code } }, e.headers);
}

function sendHtml(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(HTML_BODY) });
  res.end(HTML_BODY);
}

function frame(chunk: unknown): string {
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

type Endpoint = 'chat' | 'completions';

/** A parsed generation request: what the controls and the answer are decided from. */
interface Generation {
  endpoint: Endpoint;
  model: string;
  /** The last user message content, or the prompt. */
  content: string;
  promptTokens: number;
  stream: boolean;
  includeUsage: boolean;
  logprobs: boolean;
}

function parseGeneration(endpoint: Endpoint, body: Record<string, unknown>, defaultModel: string): Generation | string {
  const model = typeof body.model === 'string' ? body.model : defaultModel;
  const stream = body.stream === true;
  const includeUsage = stream && isRecord(body.stream_options) && body.stream_options.include_usage === true;
  if (endpoint === 'chat') {
    if (!Array.isArray(body.messages)) return "'messages' must be an array of messages";
    let content = '';
    let promptTokens = 0;
    for (const m of body.messages) {
      if (!isRecord(m)) return "each of 'messages' must be an object";
      const text = textOf(m.content);
      promptTokens += fakeWordCount(text);
      if (m.role === 'user') content = text;
    }
    return { endpoint, model, content, promptTokens, stream, includeUsage, logprobs: body.logprobs === true };
  }
  if (typeof body.prompt !== 'string') return "'prompt' must be a string";
  const logprobs = (typeof body.logprobs === 'number' && body.logprobs >= 0) || body.logprobs === true;
  return { endpoint, model, content: body.prompt, promptTokens: fakeWordCount(body.prompt), stream, includeUsage, logprobs };
}

function decideAnswer(content: string, controls: Controls, answers: Record<string, string> | undefined): string {
  if (controls.judge !== undefined) return controls.judge;
  if (answers) {
    if (Object.hasOwn(answers, content)) return answers[content] ?? '';
    if (Object.hasOwn(answers, controls.stripped)) return answers[controls.stripped] ?? '';
  }
  const m = /ANSWER:[ \t]*([^\r\n]*)/.exec(controls.stripped);
  if (m) return (m[1] ?? '').trim();
  return controls.stripped;
}

export async function startFakeOpenAI(opts: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const mode = opts.mode ?? 'ok';
  const modeDelayMs = mode === 'slow' ? (opts.delayMs ?? 1000) : 0;
  const tokenDelayMs = opts.tokenDelayMs ?? 0;
  const firstTokenDelayMs = opts.firstTokenDelayMs ?? 0;
  const models = opts.models ?? ['fake-model'];
  const defaultModel = models[0] ?? 'fake-model';
  const maxRecorded = opts.maxRecorded ?? 10_000;
  const expectedAuth = opts.apiKey === undefined ? undefined : `Bearer ${opts.apiKey}`;

  let count = 0;
  let seq = 0;
  // Ring buffer: bounded memory however long a benchmark runs.
  let recorded: RecordedRequest[] = [];
  let recordedNext = 0;
  const attempts = new Map<string, number>();
  let failRate = opts.failRate ?? 0;
  let generations = 0;
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  function record(r: RecordedRequest): void {
    if (maxRecorded <= 0) return;
    if (recorded.length < maxRecorded) recorded.push(r);
    else recorded[recordedNext] = r;
    recordedNext = (recordedNext + 1) % maxRecorded;
  }

  /** A timer tied to one response: cleared when the client goes away or on close(). */
  function scheduler(res: ServerResponse): (ms: number, fn: () => void) => void {
    let current: NodeJS.Timeout | undefined;
    res.once('close', () => {
      if (current !== undefined) {
        clearTimeout(current);
        timers.delete(current);
        current = undefined;
      }
    });
    return (ms, fn) => {
      const t = setTimeout(() => {
        timers.delete(t);
        current = undefined;
        if (!res.destroyed) fn();
      }, ms);
      current = t;
      timers.add(t);
    };
  }

  function streamGeneration(res: ServerResponse, g: Generation, answer: string, later: (ms: number, fn: () => void) => void): void {
    const id = `${g.endpoint === 'chat' ? 'chatcmpl' : 'cmpl'}-fake-${++seq}`;
    const created = Math.floor(Date.now() / 1000);
    const tokens = fakeTokens(answer);
    const usage = { prompt_tokens: g.promptTokens, completion_tokens: tokens.length, total_tokens: g.promptTokens + tokens.length };
    // With include_usage every chunk but the last carries `usage: null` (OpenAI reference).
    const usageField = g.includeUsage ? { usage: null } : undefined;
    const frames: string[] = [];
    let head = '';
    let tail: string;
    if (g.endpoint === 'chat') {
      const object = 'chat.completion.chunk';
      head = frame({ id, object, created, model: g.model, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }], ...usageField });
      for (const t of tokens) {
        const logprobs = g.logprobs ? { content: [{ token: t, logprob: fakeLogprob(t), bytes: null, top_logprobs: [] }] } : null;
        frames.push(frame({ id, object, created, model: g.model, choices: [{ index: 0, delta: { content: t }, logprobs, finish_reason: null }], ...usageField }));
      }
      tail = frame({ id, object, created, model: g.model, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }], ...usageField });
      if (g.includeUsage) tail += frame({ id, object, created, model: g.model, choices: [], usage });
    } else {
      const object = 'text_completion';
      let offset = g.content.length;
      for (const t of tokens) {
        const logprobs = g.logprobs ? { tokens: [t], token_logprobs: [fakeLogprob(t)], top_logprobs: [{ [t]: fakeLogprob(t) }], text_offset: [offset] } : null;
        offset += t.length;
        frames.push(frame({ id, object, created, model: g.model, choices: [{ index: 0, text: t, logprobs, finish_reason: null }], ...usageField }));
      }
      tail = frame({ id, object, created, model: g.model, choices: [{ index: 0, text: '', logprobs: null, finish_reason: 'stop' }], ...usageField });
      if (g.includeUsage) tail += frame({ id, object, created, model: g.model, choices: [], usage });
    }
    tail += DONE_FRAME;

    res.writeHead(200, SSE_HEADERS);
    if (firstTokenDelayMs <= 0 && tokenDelayMs <= 0) {
      res.end(head + frames.join('') + tail);
      return;
    }
    if (head) res.write(head);
    let i = 0;
    const step = (): void => {
      if (tokenDelayMs <= 0) {
        res.end(frames.slice(i).join('') + tail);
        return;
      }
      const f = frames[i++];
      if (f === undefined) {
        res.end(tail);
        return;
      }
      res.write(f);
      if (i < frames.length) later(tokenDelayMs, step);
      else res.end(tail);
    };
    if (firstTokenDelayMs > 0) later(firstTokenDelayMs, step);
    else step();
  }

  function sendGeneration(res: ServerResponse, g: Generation, answer: string): void {
    const created = Math.floor(Date.now() / 1000);
    const completionTokens = fakeWordCount(answer);
    const usage = { prompt_tokens: g.promptTokens, completion_tokens: completionTokens, total_tokens: g.promptTokens + completionTokens };
    if (g.endpoint === 'chat') {
      const logprobs = g.logprobs ? { content: fakeTokens(answer).map((t) => ({ token: t, logprob: fakeLogprob(t), bytes: null, top_logprobs: [] })) } : null;
      sendJson(res, 200, {
        id: `chatcmpl-fake-${++seq}`,
        object: 'chat.completion',
        created,
        model: g.model,
        choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop', logprobs }],
        usage,
      });
      return;
    }
    let logprobs = null;
    if (g.logprobs) {
      const tokens = fakeTokens(answer);
      const lps = tokens.map(fakeLogprob);
      const textOffset: number[] = [];
      let offset = g.content.length;
      for (const t of tokens) {
        textOffset.push(offset);
        offset += t.length;
      }
      logprobs = { tokens, token_logprobs: lps, top_logprobs: tokens.map((t, k) => ({ [t]: lps[k] })), text_offset: textOffset };
    }
    sendJson(res, 200, {
      id: `cmpl-fake-${++seq}`,
      object: 'text_completion',
      created,
      model: g.model,
      choices: [{ index: 0, text: answer, finish_reason: 'stop', logprobs }],
      usage,
    });
  }

  function handle(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    let body: unknown = undefined;
    let badJson = false;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
        badJson = true;
      }
    }
    record({ method, path, headers: req.headers, body, at: Date.now() });

    if (expectedAuth !== undefined && req.headers.authorization !== expectedAuth) {
      sendError(res, { status: 401, type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' });
      return;
    }
    if (mode === 'error500') {
      sendError(res, { status: 500, type: 'server_error', code: 'server_error', message: 'The server had an error while processing your request (fake mode error500).' });
      return;
    }
    if (mode === 'nonjson') {
      sendHtml(res);
      return;
    }
    if (modeDelayMs > 0) scheduler(res)(modeDelayMs, () => route(req, res, method, path, body, badJson));
    else route(req, res, method, path, body, badJson);
  }

  function route(req: IncomingMessage, res: ServerResponse, method: string, path: string, body: unknown, badJson: boolean): void {
    let endpoint: Endpoint | 'models';
    if (method === 'POST' && path === '/v1/chat/completions') endpoint = 'chat';
    else if (method === 'POST' && path === '/v1/completions') endpoint = 'completions';
    else if (method === 'GET' && path === '/v1/models') endpoint = 'models';
    else if (method === 'POST' && path === '/v1/embeddings') {
      const input = isRecord(body) ? body.input : undefined;
      const inputs = typeof input === 'string' ? [input] : Array.isArray(input) && input.every((x) => typeof x === 'string') ? (input as string[]) : null;
      if (!inputs) {
        sendError(res, { status: 400, type: 'invalid_request_error', code: 'invalid_request', message: 'input must be a string or an array of strings' });
        return;
      }
      const base64 = isRecord(body) && body.encoding_format === 'base64';
      const data = inputs.map((text, index) => {
        const v = Array.from({ length: 8 }, (_, k) => fakeLogprob(`${k}:${text}`));
        const norm = Math.hypot(...v);
        const unit = v.map((x) => x / norm);
        return { object: 'embedding', index, embedding: base64 ? Buffer.from(new Float32Array(unit).buffer).toString('base64') : unit };
      });
      const tokens = inputs.reduce((n, t) => n + fakeWordCount(t), 0);
      sendJson(res, 200, { object: 'list', data, model: isRecord(body) && typeof body.model === 'string' ? body.model : defaultModel, usage: { prompt_tokens: tokens, total_tokens: tokens } });
      return;
    } else {
      sendError(res, { status: 404, type: 'invalid_request_error', code: 'unknown_url', message: `Unknown request URL: ${method} ${path}.` });
      return;
    }

    if (endpoint === 'models') {
      const payload = { object: 'list', data: models.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'steward-fake' })) };
      sendJson(res, 200, payload);
      return;
    }

    if (badJson || !isRecord(body)) {
      sendError(res, { status: 400, type: 'invalid_request_error', code: 'invalid_json', message: 'We could not parse the JSON body of your request: expected a JSON object.' });
      return;
    }
    const g = parseGeneration(endpoint, body, defaultModel);
    if (typeof g === 'string') {
      sendError(res, { status: 400, type: 'invalid_request_error', code: 'invalid_request', message: g });
      return;
    }

    const controls = g.content.includes('[[') ? parseControls(g.content) : { ...NO_CONTROLS, stripped: g.content.trim() };
    if (controls.hang) return; // never answered; the socket goes with the client or close()

    let outcome: OpenAIErrorSpec | 'reset' | 'nonjson' | undefined;
    if (controls.reset) outcome = 'reset';
    else if (controls.error) outcome = { status: 400, type: 'invalid_request_error', code: 'invalid_request', message: 'Invalid request (fake [[error]] control).' };
    else if (controls.fail > 0 || controls.rate > 0) {
      const n = (attempts.get(g.content) ?? 0) + 1;
      attempts.set(g.content, n);
      if (n <= controls.fail) outcome = { status: 500, type: 'server_error', code: 'server_error', message: `The server had an error while processing your request (fake failure ${n} of ${controls.fail}).` };
      else if (n <= controls.fail + controls.rate) {
        outcome = { status: 429, type: 'requests', code: 'rate_limit_exceeded', message: `Rate limit reached (fake 429 ${n - controls.fail} of ${controls.rate}).`, headers: { 'retry-after': '0' } };
      }
    }
    if (outcome === undefined && controls.nonjson) outcome = 'nonjson';
    if (outcome === undefined && failRate > 0) {
      generations++;
      if (Math.floor(generations * failRate) > Math.floor((generations - 1) * failRate)) {
        outcome = { status: 500, type: 'server_error', code: 'server_error', message: 'The server had an error while processing your request (fake fault injection).' };
      }
    }

    const respond = (): void => {
      if (outcome === 'reset') req.socket.destroy();
      else if (outcome === 'nonjson') sendHtml(res);
      else if (outcome !== undefined) sendError(res, outcome);
      else {
        const answer = decideAnswer(g.content, controls, opts.answers);
        if (g.stream && controls.cut) {
          const head = `data: ${JSON.stringify({ id: 'cut', object: 'chat.completion.chunk', created: 0, model: g.model, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] })}\n\n`;
          const words = fakeTokens(answer);
          const half = words.slice(0, Math.max(1, Math.floor(words.length / 2)));
          res.writeHead(200, SSE_HEADERS);
          res.write(head + half.map((t) => `data: ${JSON.stringify({ id: 'cut', object: 'chat.completion.chunk', created: 0, model: g.model, choices: [{ index: 0, delta: { content: t }, finish_reason: null }] })}\n\n`).join(''));
          setTimeout(() => req.socket.destroy(), 20);
        } else if (g.stream && !controls.nostream) streamGeneration(res, g, answer, scheduler(res));
        else {
          const n = firstTokenDelayMs > 0 || tokenDelayMs > 0 ? fakeWordCount(answer) : 0;
          const genMs = n > 0 ? firstTokenDelayMs + (n - 1) * tokenDelayMs : 0;
          if (genMs > 0) scheduler(res)(genMs, () => sendGeneration(res, g, answer));
          else sendGeneration(res, g, answer);
        }
      }
    };
    if (controls.slowMs > 0) scheduler(res)(controls.slowMs, respond);
    else respond();
  }

  const server = http.createServer({ noDelay: true }, (req, res) => {
    count++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (closed) return;
      const raw = chunks.length === 0 ? '' : chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8');
      handle(req, res, raw);
    });
  });
  // Benchmarks reuse connections: idle sockets live 65 s (longer than typical client pools),
  // and no request timeout so [[hang]] really hangs until the client gives up.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host ?? '127.0.0.1';

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/v1`,
    port,
    get requests() {
      return count;
    },
    received() {
      if (recorded.length < maxRecorded) return recorded.slice();
      return recorded.slice(recordedNext).concat(recorded.slice(0, recordedNext));
    },
    reset() {
      count = 0;
      recorded = [];
      recordedNext = 0;
      attempts.clear();
    },
    setFailRate(rate: number) {
      failRate = Math.min(1, Math.max(0, rate));
      generations = 0;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await done;
    },
  };
}

/**
 * The client an evaluation run uses to call an OpenAI-compatible endpoint: one undici pool per
 * run (keep-alive, one connection per concurrent case), chat completions streamed or not, a
 * timeout per attempt, and retries with exponential backoff and jitter on transient failures
 * (connection errors, timeouts, 408/409/429/5xx; `Retry-After` honoured). Anything else is the
 * case's final answer: a 4xx with the endpoint's own message, or a 200 that is not JSON.
 */
import type net from 'node:net';
import { Pool } from 'undici';
import type { OutcomeMessage } from './metrics/metric-types.js';

export interface EndpointTarget {
  /** Base URL (`http://host:8000/v1`) or the full chat completions URL. */
  url: string;
  apiKey?: string;
  /** The `model` field sent upstream. */
  model: string;
}

export interface CompletionRequest {
  messages: OutcomeMessage[];
  temperature?: number;
  maxTokens?: number;
  stop?: string[];
  stream: boolean;
  logprobs: boolean;
}

export interface CompletionResult {
  output: string;
  latencyMs: number;
  ttftMs: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  logprobs: number[] | null;
}

export class EndpointError extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'EndpointError';
  }
}

const TRANSIENT_STATUS = new Set([408, 409, 425, 429, 500, 502, 503, 504]);
const MAX_RETRY_AFTER_MS = 60_000;
const MAX_BACKOFF_MS = 8_000;
const SNIPPET = 200;

function snippet(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > SNIPPET ? `${t.slice(0, SNIPPET)}…` : t;
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return null;
  const secs = Number(v);
  if (Number.isFinite(secs) && secs >= 0) return Math.min(secs * 1000, MAX_RETRY_AFTER_MS);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS);
}

/** Delay before retry number `attempt` (1-based): base × 2^(attempt-1), ±50% jitter, capped. */
export function backoffMs(attempt: number, baseMs: number, random = Math.random): number {
  const exp = Math.min(baseMs * 2 ** (attempt - 1), MAX_BACKOFF_MS);
  return Math.round(exp * (0.5 + random()));
}

function chatUrl(base: string): URL {
  const u = new URL(base);
  if (!/\/chat\/completions\/?$/.test(u.pathname)) u.pathname = `${u.pathname.replace(/\/+$/, '')}/chat/completions`;
  return u;
}

/** Text of a message content that may be a string or an array of parts. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join('');
  return '';
}

function tokenLogprobs(lp: unknown): number[] {
  const content = (lp as { content?: unknown } | null | undefined)?.content;
  if (!Array.isArray(content)) return [];
  const out: number[] = [];
  for (const t of content) {
    const v = (t as { logprob?: unknown } | null)?.logprob;
    if (typeof v === 'number' && Number.isFinite(v)) out.push(v);
  }
  return out;
}

function describeTransportError(err: unknown, origin: string, timeoutMs: number): EndpointError {
  const e = err as { name?: string; code?: string; cause?: { code?: string; message?: string }; message?: string };
  const code = e.code ?? e.cause?.code;
  if (e.name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new EndpointError(`no complete answer from ${origin} within ${timeoutMs} ms (per-case timeout)`, true);
  }
  if (code === 'ECONNREFUSED') return new EndpointError(`connection refused by ${origin}: is the endpoint running and the URL right?`, true);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new EndpointError(`cannot resolve the host of ${origin}`, true);
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return new EndpointError(`${origin} closed the connection before answering`, true);
  return new EndpointError(`request to ${origin} failed: ${e.cause?.message ?? e.message ?? String(err)}`, true);
}

function errorMessageOf(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown };
    if (typeof j.error === 'string') return j.error;
    if (j.error && typeof j.error.message === 'string') return j.error.message;
    if (typeof j.message === 'string') return j.message;
    if (typeof j.detail === 'string') return j.detail;
  } catch {
    // not JSON: show the text itself
  }
  return snippet(text);
}

export interface EndpointClient {
  complete(req: CompletionRequest, signal: AbortSignal): Promise<CompletionResult>;
  close(): Promise<void>;
}

/** `lookup`: resolves the endpoint's host for every connection (the endpoint policy's, which refuses some addresses). */
export function createEndpointClient(target: EndpointTarget, opts: { connections: number; timeoutMs: number; lookup?: net.LookupFunction }): EndpointClient {
  const url = chatUrl(target.url);
  const origin = url.origin;
  const path = `${url.pathname}${url.search}`;
  const pool = new Pool(origin, {
    connections: opts.connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: 0,
    bodyTimeout: 0,
    ...(opts.lookup ? { connect: { lookup: opts.lookup } } : {}),
  });
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;

  async function complete(req: CompletionRequest, runSignal: AbortSignal): Promise<CompletionResult> {
    const body: Record<string, unknown> = { model: target.model, messages: req.messages };
    if (req.temperature !== undefined) body.temperature = req.temperature;
    if (req.maxTokens !== undefined) body.max_tokens = req.maxTokens;
    if (req.stop?.length) body.stop = req.stop;
    if (req.logprobs) body.logprobs = true;
    if (req.stream) {
      body.stream = true;
      body.stream_options = { include_usage: true };
    }
    // One controller per attempt, aborted by its own timer or by the run: cheaper than
    // AbortSignal.any + AbortSignal.timeout at thousands of requests per second.
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(new DOMException('per-case timeout', 'TimeoutError')), opts.timeoutMs);
    const onRunAbort = () => ctl.abort(runSignal.reason);
    runSignal.addEventListener('abort', onRunAbort, { once: true });
    const t0 = performance.now();
    let res;
    try {
      res = await pool.request({ path, method: 'POST', headers, body: JSON.stringify(body), signal: ctl.signal });
    } catch (err) {
      clearTimeout(timer);
      runSignal.removeEventListener('abort', onRunAbort);
      if (runSignal.aborted) throw err;
      throw describeTransportError(ctl.signal.aborted ? ctl.signal.reason : err, origin, opts.timeoutMs);
    }
    try {
      const ctype = String(res.headers['content-type'] ?? '');
      if (res.statusCode >= 400) {
        const text = await res.body.text();
        const msg = `${origin} answered ${res.statusCode}: ${errorMessageOf(text)}`;
        throw new EndpointError(msg, TRANSIENT_STATUS.has(res.statusCode), retryAfterMs(res.headers['retry-after']));
      }
      if (req.stream && ctype.includes('text/event-stream')) return await readStream(res.body, t0);
      const text = await res.body.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new EndpointError(`${origin} returned a non-JSON answer (${ctype || 'no content-type'}, status ${res.statusCode}): ${JSON.stringify(snippet(text))}`, false);
      }
      return fromCompletion(json, performance.now() - t0);
    } catch (err) {
      if (err instanceof EndpointError || runSignal.aborted) throw err;
      throw describeTransportError(ctl.signal.aborted ? ctl.signal.reason : err, origin, opts.timeoutMs);
    } finally {
      clearTimeout(timer);
      runSignal.removeEventListener('abort', onRunAbort);
    }
  }

  function fromCompletion(json: unknown, latencyMs: number): CompletionResult {
    const j = json as { choices?: { message?: { content?: unknown }; text?: unknown; logprobs?: unknown }[]; usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } };
    const choice = Array.isArray(j?.choices) ? j.choices[0] : undefined;
    if (!choice) throw new EndpointError(`${origin} returned JSON without choices: ${JSON.stringify(snippet(JSON.stringify(json)))}`, false);
    const output = choice.message ? contentText(choice.message.content) : typeof choice.text === 'string' ? choice.text : '';
    const lp = tokenLogprobs(choice.logprobs);
    return {
      output,
      latencyMs,
      ttftMs: null,
      inputTokens: typeof j.usage?.prompt_tokens === 'number' ? j.usage.prompt_tokens : null,
      outputTokens: typeof j.usage?.completion_tokens === 'number' ? j.usage.completion_tokens : null,
      logprobs: lp.length ? lp : null,
    };
  }

  async function readStream(stream: AsyncIterable<Buffer>, t0: number): Promise<CompletionResult> {
    let buf = '';
    let output = '';
    let ttftMs: number | null = null;
    let inputTokens: number | null = null;
    let outputTokens: number | null = null;
    let chunks = 0;
    let done = false;
    const logprobs: number[] = [];
    const onEvent = (data: string) => {
      if (data === '[DONE]') {
        done = true;
        return;
      }
      let j: { choices?: { delta?: { content?: unknown }; text?: unknown; logprobs?: unknown }[]; usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null; error?: { message?: string } };
      try {
        j = JSON.parse(data) as typeof j;
      } catch {
        throw new EndpointError(`${origin} streamed an event that is not JSON: ${JSON.stringify(snippet(data))}`, false);
      }
      if (j.error) throw new EndpointError(`${origin} reported an error mid-stream: ${j.error.message ?? JSON.stringify(j.error)}`, true);
      const c = j.choices?.[0];
      if (c) {
        const piece = c.delta ? contentText(c.delta.content) : typeof c.text === 'string' ? c.text : '';
        if (piece) {
          if (ttftMs === null) ttftMs = performance.now() - t0;
          output += piece;
          chunks++;
        }
        for (const v of tokenLogprobs(c.logprobs)) logprobs.push(v);
      }
      if (j.usage) {
        if (typeof j.usage.prompt_tokens === 'number') inputTokens = j.usage.prompt_tokens;
        if (typeof j.usage.completion_tokens === 'number') outputTokens = j.usage.completion_tokens;
      }
    };
    for await (const chunk of stream) {
      buf += chunk.toString('utf8');
      let sep: number;
      while ((sep = buf.search(/\r?\n\r?\n/)) >= 0) {
        const event = buf.slice(0, sep);
        buf = buf.slice(buf[sep] === '\r' ? sep + 4 : sep + 2);
        const data = event
          .split(/\r?\n/)
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trimStart())
          .join('\n');
        if (data) onEvent(data);
      }
    }
    if (buf.trim().startsWith('data:')) onEvent(buf.trim().slice(5).trimStart());
    if (!done && !chunks) throw new EndpointError(`${origin} closed the stream before sending any content`, true);
    return {
      output,
      latencyMs: performance.now() - t0,
      ttftMs,
      inputTokens,
      // Without a usage chunk, each content chunk is about one token (what most servers send).
      outputTokens: outputTokens ?? (chunks || null),
      logprobs: logprobs.length ? logprobs : null,
    };
  }

  return { complete, close: () => pool.close() };
}

export interface AttemptOutcome<T> {
  result?: T;
  error?: EndpointError;
  attempts: number;
}

/** Runs `fn` until it succeeds, fails permanently, or `retries` retries are spent. */
export async function withRetries<T>(fn: () => Promise<T>, opts: { retries: number; baseMs: number; signal: AbortSignal }): Promise<AttemptOutcome<T>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { result: await fn(), attempts: attempt };
    } catch (err) {
      if (opts.signal.aborted) throw err;
      const e = err instanceof EndpointError ? err : new EndpointError((err as Error).message ?? String(err), false);
      if (!e.transient || attempt > opts.retries) {
        const tail = attempt > 1 ? ` (after ${attempt} attempts)` : '';
        return { error: new EndpointError(`${e.message}${tail}`, e.transient), attempts: attempt };
      }
      const wait = e.retryAfterMs ?? backoffMs(attempt, opts.baseMs);
      if (wait > 0) await sleep(wait, opts.signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

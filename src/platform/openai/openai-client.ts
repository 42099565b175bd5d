/**
 * The one client for OpenAI-compatible upstreams (evaluation endpoints and judges now; the
 * gateway and deployment health checks next): one undici pool per upstream (keep-alive, one
 * connection per concurrent request), chat completions, text completions and embeddings, plain
 * or streamed (parsed chunks as an async iterator, folded into the whole answer with time to
 * first token), a timeout per request that covers the whole answer, the caller's AbortSignal,
 * and the host resolved through an injectable `lookup` (the evaluation endpoint policy's).
 *
 * Rules it enforces: every failure is an OpenAIError that says whether a retry may help
 * (`withRetries` in openai-retry-fns.ts does the retrying); an abort by the caller's signal
 * rejects with the signal's own reason; the API key lives in this closure's headers only and
 * appears in no error, log or returned object.
 */
import type net from 'node:net';
import { Pool, type Dispatcher } from 'undici';
import { OpenAIError, protocolError, snippet, statusError, transportError } from './openai-errors.js';
import { chatGeneration, completionGeneration, type Generation } from './openai-generation.js';
import { sseEvents, SseOverflowError } from './openai-sse.js';
import { answeredStream, createGenerationStream, resultOf, type GenerationStream } from './openai-stream.js';
import type {
  ChatCompletionChunk,
  ChatCompletionRequest,
  ChatResult,
  Completion,
  CompletionRequest,
  CompletionResult,
  EmbeddingRequest,
  EmbeddingResponse,
  EmbeddingResult,
  GenerationResult,
} from './openai-types.js';

export interface OpenAIClientOptions {
  /** Base URL (`http://host:8000/v1`); a URL ending in an endpoint's path (`…/v1/chat/completions`) counts as its base. Its query string goes on every call. */
  url: string;
  apiKey?: string;
  /** Connections kept open to the upstream: as many as the caller's concurrent requests. */
  connections: number;
  /** From sending a request to the last byte of its answer; a call may set its own. */
  timeoutMs: number;
  /** How the timeout is named in its error message; default 'per-request timeout'. */
  timeoutLabel?: string;
  /** Resolves the upstream's host for every new connection (e.g. refusing addresses a policy forbids). */
  lookup?: net.LookupFunction;
}

export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** `stream: true` streams the answer (and measures time to first token) but still resolves to the whole of it. */
export type Streamable<R> = R & { stream?: boolean };

export interface OpenAIClient {
  readonly origin: string;
  chat(req: Streamable<ChatCompletionRequest>, opts?: CallOptions): Promise<ChatResult>;
  streamChat(req: ChatCompletionRequest, opts?: CallOptions): Promise<GenerationStream<ChatCompletionChunk, ChatResult>>;
  completions(req: Streamable<CompletionRequest>, opts?: CallOptions): Promise<CompletionResult>;
  streamCompletions(req: CompletionRequest, opts?: CallOptions): Promise<GenerationStream<Completion, CompletionResult>>;
  embeddings(req: EmbeddingRequest, opts?: CallOptions): Promise<EmbeddingResult>;
  close(): Promise<void>;
}

/** Where calls go: origin, the base path without a trailing endpoint path, and the query string. */
export function endpointBase(raw: string): { origin: string; basePath: string; search: string } {
  const u = new URL(raw);
  const basePath = u.pathname.replace(/\/+$/, '').replace(/\/(chat\/completions|completions|embeddings)$/, '');
  return { origin: u.origin, basePath, search: u.search };
}

/** One request in flight: its answer, when it started, and how to end it. */
interface Sent {
  res: Dispatcher.ResponseData;
  t0: number;
  /** Clears the timer and the caller's abort listener; idempotent. */
  release(): void;
  /** Aborts the request (a stream cancelled before it was read). */
  abort(): void;
  /** Any failure while reading the answer, as what the caller should see. */
  translate(err: unknown): unknown;
}

export function createOpenAIClient(opts: OpenAIClientOptions): OpenAIClient {
  const { origin, basePath, search } = endpointBase(opts.url);
  const timeoutLabel = opts.timeoutLabel ?? 'per-request timeout';
  const pool = new Pool(origin, {
    connections: opts.connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    // Our own per-request timer covers headers and body together.
    headersTimeout: 0,
    bodyTimeout: 0,
    ...(opts.lookup ? { connect: { lookup: opts.lookup } } : {}),
  });
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;

  async function send(path: string, body: unknown, call: CallOptions): Promise<Sent> {
    const caller = call.signal;
    caller?.throwIfAborted();
    const ms = call.timeoutMs ?? opts.timeoutMs;
    // One controller per request, aborted by its own timer or by the caller: cheaper than
    // AbortSignal.any + AbortSignal.timeout at thousands of requests per second.
    const ctl = new AbortController();
    const onAbort = () => ctl.abort(caller!.reason);
    const release = () => {
      clearTimeout(timer);
      caller?.removeEventListener('abort', onAbort);
    };
    // Releases too: a stream nobody reads never reaches its own release.
    const timer = setTimeout(() => {
      release();
      ctl.abort(new DOMException(timeoutLabel, 'TimeoutError'));
    }, ms);
    caller?.addEventListener('abort', onAbort, { once: true });
    const translate = (err: unknown): unknown => {
      if (caller?.aborted) return caller.reason;
      if (err instanceof OpenAIError) return err;
      if (err instanceof SseOverflowError) return protocolError(`${origin} streamed ${err.message}`);
      return transportError(ctl.signal.aborted ? ctl.signal.reason : err, origin, { ms, label: timeoutLabel });
    };
    const t0 = performance.now();
    try {
      const res = await pool.request({ path: `${basePath}${path}${search}`, method: 'POST', headers, body: JSON.stringify(body), signal: ctl.signal });
      return { res, t0, release, translate, abort: () => ctl.abort(new DOMException('cancelled', 'AbortError')) };
    } catch (err) {
      release();
      throw translate(err);
    }
  }

  /** The answer's body as JSON, or the OpenAIError its status or content calls for. */
  async function answerJson(s: Sent): Promise<unknown> {
    const text = await s.res.body.text();
    if (s.res.statusCode >= 400) throw statusError(origin, s.res.statusCode, text, s.res.headers['retry-after']);
    try {
      return JSON.parse(text);
    } catch {
      const ctype = String(s.res.headers['content-type'] ?? '');
      throw protocolError(`${origin} returned a non-JSON answer (${ctype || 'no content-type'}, status ${s.res.statusCode}): ${JSON.stringify(snippet(text))}`);
    }
  }

  async function generate<C, A>(gen: Generation<C, A>, body: object, call: CallOptions): Promise<GenerationResult<A>> {
    const s = await send(gen.path, body, call);
    try {
      const answer = gen.answer(await answerJson(s), origin);
      return resultOf(gen, answer, performance.now() - s.t0, null, 0);
    } catch (err) {
      throw s.translate(err);
    } finally {
      s.release();
    }
  }

  async function* guarded<T>(events: AsyncIterable<T>, s: Sent): AsyncGenerator<T, void, undefined> {
    try {
      yield* events;
    } catch (err) {
      throw s.translate(err);
    } finally {
      s.release();
    }
  }

  async function stream<C, A>(gen: Generation<C, A>, body: object, call: CallOptions): Promise<GenerationStream<C, GenerationResult<A>>> {
    const s = await send(gen.path, { ...body, stream: true, stream_options: { include_usage: true } }, call);
    try {
      const ctype = String(s.res.headers['content-type'] ?? '');
      if (s.res.statusCode >= 400 || !ctype.includes('text/event-stream')) {
        // An error, or an upstream that ignores `stream`: its JSON answer as a one-chunk stream.
        const answer = gen.answer(await answerJson(s), origin);
        s.release();
        return answeredStream(gen, resultOf(gen, answer, performance.now() - s.t0, null, 0));
      }
    } catch (err) {
      s.release();
      throw s.translate(err);
    }
    return createGenerationStream({ batches: guarded(sseEvents(s.res.body), s), gen, origin, t0: s.t0, abort: s.abort });
  }

  return {
    origin,
    chat: ({ stream: streamed, ...req }, call = {}) => (streamed ? stream(chatGeneration, req, call).then((st) => st.result()) : generate(chatGeneration, req, call)),
    streamChat: (req, call = {}) => stream(chatGeneration, req, call),
    completions: ({ stream: streamed, ...req }, call = {}) => (streamed ? stream(completionGeneration, req, call).then((st) => st.result()) : generate(completionGeneration, req, call)),
    streamCompletions: (req, call = {}) => stream(completionGeneration, req, call),
    async embeddings(req, call = {}) {
      const s = await send('/embeddings', req, call);
      try {
        const json = (await answerJson(s)) as EmbeddingResponse;
        if (typeof json !== 'object' || json === null || !Array.isArray(json.data)) throw protocolError(`${origin} returned JSON without data: ${JSON.stringify(snippet(JSON.stringify(json) ?? ''))}`);
        return { response: json, latencyMs: performance.now() - s.t0 };
      } catch (err) {
        throw s.translate(err);
      } finally {
        s.release();
      }
    },
    close: () => pool.close(),
  };
}

/**
 * The shared client against a real HTTP server on loopback whose answers are scripted byte for
 * byte: streams written one byte at a time (so multi-byte characters and `data:` lines arrive
 * split across network reads), CRLF, comments, usage, `[DONE]` present or missing, errors before
 * and during a stream, timeouts, aborts, the injected lookup and the API key's discretion.
 */
import type dns from 'node:dns';
import { getEventListeners } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenAIClient, endpointBase, type OpenAIClientOptions } from './openai-client.js';
import { OpenAIError } from './openai-errors.js';

const KEY = 'sk-secret-never-shown';
const TEXT = 'héllo 日本 🙂';

const frame = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
const chunk = (content: string, extra: object = {}) => frame({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null, ...extra }], usage: null });
const USAGE = frame({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } });
const TOKENS = ['hé', 'llo ', '日本', ' 🙂'];
const STREAM = frame({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }) + TOKENS.map((t) => chunk(t)).join('') + USAGE + 'data: [DONE]\n\n';

/** Scripted answers, chosen by the request's `model`. */
const SCRIPTS: Record<string, { status?: number; headers?: Record<string, string>; body?: string; bytewise?: boolean; hang?: boolean; stall?: boolean }> = {
  bytewise: { body: STREAM, bytewise: true },
  plain: { body: STREAM },
  crlf: { body: (': keep-alive\n\n' + STREAM.replace('data: [DONE]', ': ping\n\ndata: [DONE]')).replaceAll('\n', '\r\n'), bytewise: true },
  'no-done': { body: TOKENS.map((t) => chunk(t)).join('') },
  'no-content': { body: frame({ id: 'c', choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] }) },
  'error-mid': { body: chunk('hé') + frame({ error: { message: 'the model is overloaded', type: 'server_error' } }) + 'data: [DONE]\n\n' },
  'event-error': { body: chunk('hé') + 'event: error\ndata: {"message":"upstream gone"}\n\n' },
  'not-json': { body: chunk('hé') + 'data: {oops\n\n' },
  logprobs: { body: chunk('a ', { logprobs: { content: [{ token: 'a ', logprob: -0.5 }] } }) + chunk('b', { logprobs: { content: [{ token: 'b', logprob: -1.5 }] } }) + 'data: [DONE]\n\n' },
  'json-for-stream': { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: TEXT }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 2 } }) },
  busy: { status: 429, headers: { 'retry-after': '2', 'content-type': 'application/json' }, body: '{"error":{"message":"slow down","type":"requests"}}' },
  refused: { status: 400, headers: { 'content-type': 'application/json' }, body: '{"error":{"message":"bad model","type":"invalid_request_error"}}' },
  html: { headers: { 'content-type': 'text/html' }, body: '<html>502</html>' },
  hang: { hang: true },
  stall: { body: chunk('hé'), stall: true },
};

let server: http.Server;
let url: string;
const seen: { path: string; auth: string | undefined; body: Record<string, unknown> }[] = [];
/** Settles when the client lets go of a stalled stream's connection. */
const stalled: Promise<unknown>[] = [];

async function answer(req: http.IncomingMessage, res: http.ServerResponse, body: Record<string, unknown>) {
  if (req.url?.startsWith('/v1/embeddings')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ object: 'list', model: 'e', data: [{ object: 'embedding', index: 0, embedding: [0.25, -1] }], usage: { prompt_tokens: 1, total_tokens: 1 } }));
  }
  if (req.url?.startsWith('/v1/completions')) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const piece = (text: string, lp: number) => frame({ id: 't', object: 'text_completion', created: 1, model: 'm', choices: [{ index: 0, text, finish_reason: null, logprobs: { tokens: [text], token_logprobs: [lp] } }] });
    return res.end(piece('日', -1) + piece('本', -2) + 'data: [DONE]\n\n');
  }
  const script = SCRIPTS[String(body.model)];
  if (!script) return res.writeHead(404).end();
  if (script.hang) return;
  res.writeHead(script.status ?? 200, script.headers ?? { 'content-type': 'text/event-stream; charset=utf-8' });
  const bytes = Buffer.from(script.body ?? '');
  if (script.stall) {
    stalled.push(new Promise((r) => res.once('close', r)));
    return res.write(bytes);
  }
  if (!script.bytewise) return res.end(bytes);
  // One byte per write, each on the next turn of the event loop: the client reads between two
  // turns, so characters of two, three and four bytes and `data:` prefixes arrive cut apart.
  for (const b of bytes) {
    if (res.destroyed) return;
    res.write(Buffer.of(b));
    await new Promise((r) => setImmediate(r));
  }
  res.end();
}

beforeAll(async () => {
  server = http.createServer({ noDelay: true }, (req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      const body = JSON.parse(raw || '{}') as Record<string, unknown>;
      seen.push({ path: req.url ?? '', auth: req.headers.authorization, body });
      void answer(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function client(extra: Partial<OpenAIClientOptions> = {}) {
  return createOpenAIClient({ url, apiKey: KEY, connections: 2, timeoutMs: 10_000, ...extra });
}

const ask = (model: string) => ({ model, messages: [{ role: 'user', content: 'hi' }] });

async function failure(p: Promise<unknown>): Promise<OpenAIError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OpenAIError);
  const e = err as OpenAIError;
  expect(inspect(e, { depth: 10 }) + JSON.stringify(e)).not.toContain(KEY);
  return e;
}

describe('OpenAI client: streamed chat completions', () => {
  it('returns the exact text when every character and data line arrives cut apart', async () => {
    const c = client();
    const r = await c.chat({ ...ask('bytewise'), stream: true });
    expect(r.text).toBe(TEXT);
    expect(r.usage).toEqual({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
    expect(r.contentChunks).toBe(4);
    expect(r.ttftMs).toBeGreaterThan(0);
    expect(r.latencyMs).toBeGreaterThanOrEqual(r.ttftMs!);
    expect(r.completion).toMatchObject({ id: 'c1', model: 'm', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: TEXT }, finish_reason: null }] });
    const sent = seen.at(-1)!;
    expect(sent).toMatchObject({ path: '/v1/chat/completions', auth: `Bearer ${KEY}`, body: { model: 'bytewise', stream: true, stream_options: { include_usage: true } } });
    await c.close();
  });

  it('reads CRLF line ends and skips comments and keep-alive lines', async () => {
    const c = client();
    const r = await c.chat({ ...ask('crlf'), stream: true });
    expect(r.text).toBe(TEXT);
    expect(r.usage?.completion_tokens).toBe(4);
    await c.close();
  });

  it('yields parsed chunks as an async iterator, and folds them into the result', async () => {
    const c = client();
    const s = await c.streamChat(ask('plain'));
    const pieces: string[] = [];
    for await (const ch of s) pieces.push(String(ch.choices[0]?.delta.content ?? ''));
    expect(pieces).toEqual(['', ...TOKENS, '']);
    expect((await s.result()).text).toBe(TEXT);
    await c.close();
  });

  it('folds the rest of the stream into result() after a partial read', async () => {
    const c = client();
    const s = await c.streamChat(ask('plain'));
    const it = s[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ choices: [{ delta: { role: 'assistant' } }] });
    expect((await it.next()).value).toMatchObject({ choices: [{ delta: { content: 'hé' } }] });
    expect(await s.result()).toMatchObject({ text: TEXT, contentChunks: 4 });
    await c.close();
  });

  it('releases the connection when the reader stops early', async () => {
    const c = client({ connections: 1 });
    const s = await c.streamChat(ask('plain'));
    for await (const ch of s) if (ch.choices[0]?.delta.content) break;
    await expect(s.result()).rejects.toThrow(/cancelled before its end/);
    // One connection: this completes only if the first stream gave it back.
    expect((await c.chat({ ...ask('no-done'), stream: true })).text).toBe(TEXT);
    await c.close();
  });

  it('accepts a stream that ends without [DONE] when it carried content, and retries one that carried none', async () => {
    const c = client();
    expect((await c.chat({ ...ask('no-done'), stream: true })).text).toBe(TEXT);
    const e = await failure(c.chat({ ...ask('no-content'), stream: true }));
    expect(e).toMatchObject({ kind: 'stream', transient: true, message: expect.stringMatching(/closed the stream before sending any content/) });
    await c.close();
  });

  it('turns an error mid-stream into a transient error with the upstream message, and a non-JSON event into a final one', async () => {
    const c = client();
    const mid = await failure(c.chat({ ...ask('error-mid'), stream: true }));
    expect(mid).toMatchObject({ kind: 'stream', transient: true, upstreamMessage: 'the model is overloaded', message: `${new URL(url).origin} reported an error mid-stream: the model is overloaded` });
    const ev = await failure(c.chat({ ...ask('event-error'), stream: true }));
    expect(ev).toMatchObject({ kind: 'stream', transient: true, upstreamMessage: 'upstream gone' });
    const bad = await failure(c.chat({ ...ask('not-json'), stream: true }));
    expect(bad).toMatchObject({ kind: 'protocol', transient: false, message: expect.stringMatching(/streamed an event that is not JSON: "\{oops"/) });
    await c.close();
  });

  it('collects token log-probabilities, and takes a JSON answer to a stream request as one chunk', async () => {
    const c = client();
    expect((await c.chat({ ...ask('logprobs'), stream: true, logprobs: true })).logprobs).toEqual([-0.5, -1.5]);
    const s = await c.streamChat(ask('json-for-stream'));
    const chunks = [];
    for await (const ch of s) chunks.push(ch);
    expect(chunks).toMatchObject([{ object: 'chat.completion.chunk', choices: [{ delta: { content: TEXT } }] }]);
    expect(await s.result()).toMatchObject({ text: TEXT, ttftMs: null, usage: { prompt_tokens: 1, completion_tokens: 2 } });
    await c.close();
  });
});

describe('OpenAI client: answers and failures', () => {
  it('reads a plain answer without asking for a stream', async () => {
    const c = client();
    const r = await c.chat(ask('json-for-stream'));
    expect(r).toMatchObject({ text: TEXT, ttftMs: null, contentChunks: 0 });
    expect(seen.at(-1)!.body).not.toHaveProperty('stream');
    await c.close();
  });

  it('classifies status errors, keeps the upstream message and Retry-After, and calls non-JSON final', async () => {
    const c = client();
    expect(await failure(c.chat(ask('busy')))).toMatchObject({ kind: 'status', status: 429, transient: true, retryAfterMs: 2000, upstreamMessage: 'slow down' });
    expect(await failure(c.chat({ ...ask('refused'), stream: true }))).toMatchObject({ kind: 'status', status: 400, transient: false, upstreamMessage: 'bad model', message: expect.stringMatching(/answered 400: bad model$/) });
    expect(await failure(c.chat(ask('html')))).toMatchObject({ kind: 'protocol', transient: false, message: expect.stringMatching(/non-JSON answer \(text\/html, status 200\): "<html>502<\/html>"/) });
    await c.close();
  });

  it('cuts a request at its timeout, and rejects with the caller\'s reason on abort', async () => {
    const c = client({ timeoutMs: 100, timeoutLabel: 'per-case timeout' });
    expect(await failure(c.chat(ask('hang')))).toMatchObject({ kind: 'timeout', transient: true, message: expect.stringMatching(/within 100 ms \(per-case timeout\)$/) });
    expect(await failure(c.chat({ ...ask('hang'), stream: true }, { timeoutMs: 50 }))).toMatchObject({ kind: 'timeout', message: expect.stringMatching(/within 50 ms/) });
    const ctl = new AbortController();
    const p = c.chat(ask('hang'), { signal: ctl.signal });
    setTimeout(() => ctl.abort(new Error('run cancelled')), 20);
    await expect(p).rejects.toThrow('run cancelled');
    await c.close();
  });

  it('cuts a stream that stalls, even one nobody reads, and lets go of the caller\'s signal', async () => {
    const c = client({ timeoutMs: 100 });
    const ctl = new AbortController();
    const unread = await c.streamChat(ask('stall'), { signal: ctl.signal });
    expect(getEventListeners(ctl.signal, 'abort')).toHaveLength(1);
    await stalled.at(-1); // the timeout cut the connection
    expect(getEventListeners(ctl.signal, 'abort')).toHaveLength(0);
    await unread.cancel();
    const read = await c.streamChat(ask('stall'));
    expect(await failure(read.result())).toMatchObject({ kind: 'timeout', transient: true });
    await c.close();
  });

  it('resolves the host through the injected lookup', async () => {
    const hosts: string[] = [];
    const refuse = ((host: string, _o: dns.LookupOptions, cb: (err: NodeJS.ErrnoException | null, a: string, f: number) => void) => {
      hosts.push(host);
      cb(Object.assign(new Error('refused by the endpoint policy'), { code: 'EACCES' }), '', 4);
    }) as unknown as NonNullable<OpenAIClientOptions['lookup']>;
    const c = createOpenAIClient({ url: url.replace('127.0.0.1', 'localhost'), apiKey: KEY, connections: 1, timeoutMs: 5_000, lookup: refuse });
    const e = await failure(c.chat(ask('json-for-stream')));
    expect(e).toMatchObject({ kind: 'transport', transient: true, message: expect.stringMatching(/refused by the endpoint policy/) });
    expect(hosts).toEqual(['localhost']);
    await c.close();
  });

  it('serves text completions and embeddings with the same shape', async () => {
    const c = client();
    const t = await c.completions({ model: 'm', prompt: 'p', stream: true, logprobs: 0 });
    expect(t).toMatchObject({ text: '日本', logprobs: [-1, -2], contentChunks: 2, completion: { object: 'text_completion', choices: [{ text: '日本', logprobs: { tokens: ['日', '本'] } }] } });
    const e = await c.embeddings({ model: 'e', input: 'x' });
    expect(e.response.data[0]!.embedding).toEqual([0.25, -1]);
    expect(seen.at(-1)!.path).toBe('/v1/embeddings');
    await c.close();
  });

  it('takes a full endpoint URL as its base and keeps the query string', () => {
    expect(endpointBase('http://h:1/v1/chat/completions?api-version=2')).toEqual({ origin: 'http://h:1', basePath: '/v1', search: '?api-version=2' });
    expect(endpointBase('http://h:1/openai/v1/')).toEqual({ origin: 'http://h:1', basePath: '/openai/v1', search: '' });
    expect(endpointBase('http://h:1/v1/embeddings').basePath).toBe('/v1');
  });

  it('never shows the API key in the client object', async () => {
    const c = client();
    expect(inspect(c, { depth: 10, showHidden: true })).not.toContain(KEY);
    await c.close();
  });
});

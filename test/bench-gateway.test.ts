/**
 * Correctness of the gateway benchmark's own pieces (bench/gateway/), nothing timed: the fake
 * upstream answers what the figures assume, the bare proxy passes every answer through unchanged
 * and SSE without buffering, and the Steward variant's snapshot satisfies the contract.
 */
import { createHash } from 'node:crypto';
import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { createBareProxy } from '../bench/gateway/bare-proxy.js';
import { createFakeUpstream, sseFrames } from '../bench/gateway/fake-upstream.js';
import { CHAT_BODY, CHAT_PATH, cpuTimeUs, rssBytes, STREAM_BODY } from '../bench/gateway/gateway-fns.js';
import { STEWARD_KEY, stewardSnapshot } from '../bench/gateway/variants.js';

const listen = (server: http.Server) =>
  new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)));
const close = (server: http.Server) => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve())));
const post = (url: string, path: string, body: string) => request(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('gateway benchmark: fake upstream and bare proxy', () => {
  const CHUNKS = 5;
  // A pause between SSE frames, so a proxy that buffered the stream would deliver it in one piece.
  const upstream = createFakeUpstream({ chunks: CHUNKS, chunkDelayMs: 100 });
  let upstreamUrl = '';
  let proxy: ReturnType<typeof createBareProxy>;
  let proxyUrl = '';
  beforeAll(async () => {
    upstreamUrl = await listen(upstream);
    proxy = createBareProxy({ upstream: upstreamUrl, connections: 4 });
    proxyUrl = await listen(proxy.server);
  });
  afterAll(async () => {
    proxy.server.closeAllConnections();
    await proxy.close();
    await close(upstream);
  });

  it('answers a non-streaming completion with usage, the same directly and through the proxy', async () => {
    const direct = await post(upstreamUrl, CHAT_PATH, CHAT_BODY);
    const proxied = await post(proxyUrl, CHAT_PATH, CHAT_BODY);
    expect(direct.statusCode).toBe(200);
    expect(proxied.statusCode).toBe(200);
    expect(proxied.headers['content-type']).toBe('application/json');
    const a = (await direct.body.json()) as { object: string; usage: { total_tokens: number } };
    expect(a.object).toBe('chat.completion');
    expect(a.usage.total_tokens).toBe(22);
    expect(await proxied.body.json()).toEqual(a);
  });

  it('streams SSE through the proxy unchanged, the first event arriving before the stream ends', async () => {
    const res = await post(proxyUrl, CHAT_PATH, STREAM_BODY);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    const pieces: string[] = [];
    for await (const chunk of res.body) pieces.push((chunk as Buffer).toString('utf8'));
    // The first piece the client read is the role event alone: the rest was still to come.
    expect(pieces[0]).toBe(sseFrames(CHUNKS)[0]!.toString('utf8'));
    expect(pieces.length).toBeGreaterThan(1);
    const body = pieces.join('');
    expect(body).toBe(Buffer.concat(sseFrames(CHUNKS)).toString('utf8'));
    const events = body.split('\n\n').filter(Boolean);
    expect(events).toHaveLength(CHUNKS + 4); // role, content × N, finish, usage, [DONE]
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse(events.at(-2)!.slice('data: '.length))).toMatchObject({ choices: [], usage: { completion_tokens: CHUNKS } });
  });

  it('aborts the upstream answer when the client goes away mid-stream', async () => {
    const upstreamClosed = new Promise<boolean>((resolve) =>
      upstream.once('request', (_req: http.IncomingMessage, res: http.ServerResponse) => res.once('close', () => resolve(res.writableFinished))),
    );
    const res = await post(proxyUrl, CHAT_PATH, STREAM_BODY);
    const reader = res.body[Symbol.asyncIterator]();
    const first = await reader.next();
    expect(String(first.value)).toContain('"role":"assistant"');
    res.body.destroy();
    // The upstream's response closed before it had written everything.
    expect(await upstreamClosed).toBe(false);
  });

  it('passes embeddings, the models list and an upstream 404 through', async () => {
    const emb = await post(proxyUrl, '/v1/embeddings', JSON.stringify({ model: 'bench', input: 'hi' }));
    expect(emb.statusCode).toBe(200);
    expect(((await emb.body.json()) as { data: { embedding: number[] }[] }).data[0]!.embedding).toHaveLength(8);
    const models = await request(`${proxyUrl}/v1/models`);
    expect(((await models.body.json()) as { data: { id: string }[] }).data.map((m) => m.id)).toEqual(['bench-upstream']);
    const missing = await post(proxyUrl, '/v1/nothing', '{}');
    expect(missing.statusCode).toBe(404);
    expect(((await missing.body.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });

  it('answers 502 in the OpenAI envelope when the upstream is unreachable', async () => {
    const dead = createBareProxy({ upstream: 'http://127.0.0.1:1', connections: 1 });
    const url = await listen(dead.server);
    try {
      const res = await post(url, CHAT_PATH, CHAT_BODY);
      expect(res.statusCode).toBe(502);
      expect(((await res.body.json()) as { error: { type: string } }).error.type).toBe('api_error');
    } finally {
      dead.server.closeAllConnections();
      await dead.close();
    }
  });
});

describe('gateway benchmark: helpers', () => {
  it('reads this process’s CPU time and resident memory from /proc', () => {
    expect(cpuTimeUs(process.pid)).toBeGreaterThan(0);
    expect(rssBytes(process.pid)).toBeGreaterThan(1024 * 1024);
  });

  it('builds a Steward snapshot the contract accepts: a 90/10 split on the upstream, the bench key by its sha256', () => {
    const s = stewardSnapshot('http://127.0.0.1:9999');
    expect(s.deployments.map((d) => d.targets[0]!.baseUrl)).toEqual(['http://127.0.0.1:9999/v1', 'http://127.0.0.1:9999/v1']);
    expect(s.traffic[0]!.arms.map((a) => a.weight)).toEqual([90, 10]);
    expect(s.keys[0]!.hash).toBe(createHash('sha256').update(STEWARD_KEY).digest('hex'));
  });
});

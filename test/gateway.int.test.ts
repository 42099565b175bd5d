// The gateway's data plane on its own port, from a route table it is handed, against
// deterministic fake upstreams, driven by the official `openai` client: the endpoints, routing,
// splits, retries, ejection, streaming, limits, budgets, metering, the cache and the bad inputs.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GatewaySnapshot, SnapshotDeployment, SnapshotKey, UsageBatch } from '../src/contracts/gateway.js';
import { hashKey } from '../src/gateway/gateway-table.js';
import { startGatewayServer, type RunningGateway } from '../src/gateway/gateway-server.js';
import type { GatewaySettings, SnapshotSource } from '../src/gateway/gateway.js';
import { createLogger } from '../src/platform/log.js';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.js';

const log = createLogger({ level: 'silent' });

/** A source the test drives: `set` hands the gateway a new snapshot at once; `down` makes it fail. */
function testSource(first: GatewaySnapshot) {
  let current = first;
  let down = false;
  const waiters = new Set<() => void>();
  const source: SnapshotSource = {
    async next(after, signal) {
      if (down) throw new Error('control plane unreachable (test)');
      if (after === null || current.version > after) return current;
      await new Promise<void>((resolve) => {
        waiters.add(resolve);
        signal.addEventListener('abort', () => resolve(), { once: true });
        setTimeout(resolve, 200);
      });
      if (down) throw new Error('control plane unreachable (test)');
      return current.version > after ? current : null;
    },
  };
  return {
    source,
    set(s: GatewaySnapshot) {
      current = s;
      for (const w of waiters) w();
      waiters.clear();
    },
    setDown(v: boolean) {
      down = v;
      for (const w of waiters) w();
    },
  };
}

const KEY = 'sk-stw-test-key-all';
const key = (secret: string, extra: Partial<SnapshotKey> = {}): SnapshotKey => ({
  id: `key_${secret.slice(-6)}`,
  hash: hashKey(secret),
  namespace: null,
  models: null,
  defaultEnvironment: 'production',
  rpm: null,
  tpm: null,
  budgetUsd: null,
  spentUsd: 0,
  expiresAt: null,
  ...extra,
});

function dep(id: string, model: string, version: string, env: string, urls: string[], extra: Partial<SnapshotDeployment> = {}): SnapshotDeployment {
  return { id, model, version, environment: env, upstreamModel: 'fake-model', apiKey: null, pricing: null, targets: urls.map((u, i) => ({ baseUrl: u, replica: i, version })), ...extra };
}

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('gateway data plane', () => {
  let a: FakeOpenAI;
  let b: FakeOpenAI;
  let slow: FakeOpenAI;
  const batches: UsageBatch[] = [];
  let gw: RunningGateway;
  let ctl: ReturnType<typeof testSource>;
  let client: OpenAI;
  let deadPort: number;
  let stateDir: string;
  let version = 10;

  const base = (): GatewaySnapshot => ({
    version: ++version,
    compiledAt: new Date().toISOString(),
    models: [
      { name: 'chat', namespace: null, environments: { production: '1.0.0', staging: '2.0.0' }, cache: null },
      { name: 'cached', namespace: null, environments: { production: '1.0.0' }, cache: { ttlSeconds: 60, maxEntries: 10 } },
      { name: 'teamb/secret', namespace: 'teamb', environments: { production: '1.0.0' }, cache: null },
      { name: 'flaky', namespace: null, environments: { production: '1.0.0' }, cache: null },
      { name: 'down', namespace: null, environments: { production: '1.0.0' }, cache: null },
      { name: 'nodep', namespace: null, environments: { production: '1.0.0' }, cache: null },
    ],
    deployments: [
      dep('dep_chat1', 'chat', '1.0.0', 'production', [a.url], { pricing: { inputPerMTok: 0, outputPerMTok: 1_000_000 } }),
      dep('dep_chat2', 'chat', '2.0.0', 'staging', [b.url]),
      dep('dep_cached', 'cached', '1.0.0', 'production', [a.url]),
      dep('dep_secret', 'teamb/secret', '1.0.0', 'production', [a.url]),
      dep('dep_flaky', 'flaky', '1.0.0', 'production', [`http://127.0.0.1:${deadPort}/v1`, b.url]),
      dep('dep_down', 'down', '1.0.0', 'production', [`http://127.0.0.1:${deadPort}/v1`]),
      dep('dep_slow', 'slow', '1.0.0', 'production', [slow.url]),
    ],
    traffic: [],
    keys: [
      key(KEY),
      key('sk-stw-test-key-teama', { namespace: 'teama' }),
      key('sk-stw-test-key-only-chat', { models: ['chat'] }),
      key('sk-stw-test-key-expired', { expiresAt: '2020-01-01T00:00:00.000Z' }),
      key('sk-stw-test-key-rpm', { rpm: 3 }),
      key('sk-stw-test-key-budget', { budgetUsd: 10 }),
    ],
  });

  async function start(settings: Partial<GatewaySettings> = {}) {
    gw = await startGatewayServer({
      host: '127.0.0.1',
      port: 0,
      source: ctl.source,
      sink: async (batch) => {
        batches.push(batch);
      },
      stateDir,
      gatewayId: 'test-gw',
      log,
      settings: { upstreamTimeoutMs: 2000, ejectBaseMs: 300, usageFlushMs: 60_000, ...settings },
    });
    await gw.gateway.whenReady(5000);
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 });
  }

  beforeAll(async () => {
    a = await startFakeOpenAI();
    b = await startFakeOpenAI();
    slow = await startFakeOpenAI({ firstTokenDelayMs: 50, tokenDelayMs: 60 });
    deadPort = await freePort();
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-state-'));
    ctl = testSource(base());
    await start();
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([a.close(), b.close(), slow.close()]);
    fs.rmSync(stateDir, { recursive: true, force: true });
  });
  afterEach(() => {
    a.reset();
    b.reset();
  });

  const post = (p: string, body: unknown, secret = KEY, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}${p}`, { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('answers chat, completions and embeddings through the official client, with the version that served', async () => {
    const chat = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'ANSWER: hello there' }] }).withResponse();
    expect(chat.data.choices[0]!.message.content).toBe('hello there');
    expect(chat.response.headers.get('x-steward-version')).toBe('1.0.0');
    expect(chat.response.headers.get('x-steward-deployment')).toBe('dep_chat1');
    // The upstream was asked for its own model name.
    expect((a.received().at(-1)!.body as { model: string }).model).toBe('fake-model');
    const staging = await client.chat.completions.create({ model: 'chat:staging', messages: [{ role: 'user', content: 'ANSWER: from b' }] });
    expect(staging.choices[0]!.message.content).toBe('from b');
    expect(b.requests).toBe(1);
    const pinned = await client.chat.completions.create({ model: 'chat@2.0.0', messages: [{ role: 'user', content: 'ANSWER: pinned' }] });
    expect(pinned.choices[0]!.message.content).toBe('pinned');
    const completion = await client.completions.create({ model: 'chat', prompt: 'ANSWER: plain' });
    expect(completion.choices[0]!.text).toBe('plain');
    const emb = await client.embeddings.create({ model: 'chat', input: ['one two', 'three'] });
    expect(emb.data).toHaveLength(2);
    expect(emb.data[0]!.embedding).toHaveLength(8);
  });

  it('streams without buffering: the first token arrives long before the stream ends; usage is metered', async () => {
    const started = Date.now();
    const stream = await client.chat.completions.create({ model: 'slow', messages: [{ role: 'user', content: 'ANSWER: one two three four five six' }], stream: true });
    let text = '';
    let firstAt = 0;
    for await (const chunk of stream) {
      const d = chunk.choices[0]?.delta?.content;
      if (d && !firstAt) firstAt = Date.now();
      text += d ?? '';
    }
    const endAt = Date.now();
    expect(text).toBe('one two three four five six');
    // Six tokens 60 ms apart: a proxy that buffered would deliver the first with the last.
    expect(endAt - firstAt).toBeGreaterThanOrEqual(200);
    expect(firstAt - started).toBeLessThan(endAt - started);
    await gw.gateway.flushUsage();
    const rec = batches.flatMap((x) => x.records).find((r) => r.model === 'slow' && r.stream);
    expect(rec).toMatchObject({ status: 200, version: '1.0.0', deployment: 'dep_slow', outputTokens: 6 });
    expect(rec!.ttftMs).not.toBeNull();
  });

  it('lists the models a key may use', async () => {
    const all = await client.models.list();
    expect(all.data.map((m) => m.id)).toEqual(expect.arrayContaining(['chat', 'chat:production', 'chat:staging', 'teamb/secret']));
    const only = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-stw-test-key-only-chat', maxRetries: 0 });
    expect((await only.models.list()).data.map((m) => m.id)).toEqual(['chat', 'chat:production', 'chat:staging']);
  });

  it('refuses bad requests with OpenAI error envelopes and statuses', async () => {
    const unknown = await post('/v1/chat/completions', { model: 'nope', messages: [] });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error).toMatchObject({ code: 'model_not_found', param: 'model', type: 'invalid_request_error' });
    // Another team's model looks the same as one that does not exist.
    const other = await post('/v1/chat/completions', { model: 'teamb/secret', messages: [] }, 'sk-stw-test-key-teama');
    expect(other.status).toBe(404);
    const bad = await post('/v1/chat/completions', '{"model": "chat", ');
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe('invalid_json');
    const noModel = await post('/v1/chat/completions', { messages: [] });
    expect(noModel.status).toBe(400);
    const big = await post('/v1/chat/completions', { model: 'chat', messages: [{ role: 'user', content: 'x'.repeat(9 * 1024 * 1024) }] });
    expect(big.status).toBe(413);
    const deep = await post('/v1/chat/completions', `{"model":"chat","x":${'['.repeat(5000)}${']'.repeat(5000)}}`);
    expect(deep.status).toBe(400);
    const missing = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', body: '{}' });
    expect(missing.status).toBe(401);
    expect((await missing.json()).error.code).toBe('missing_api_key');
    const wrong = await post('/v1/chat/completions', { model: 'chat', messages: [] }, 'sk-stw-unknown');
    expect(wrong.status).toBe(401);
    const expired = await post('/v1/chat/completions', { model: 'chat', messages: [] }, 'sk-stw-test-key-expired');
    expect(expired.status).toBe(401);
    expect((await expired.json()).error.code).toBe('expired_api_key');
    const noEnv = await post('/v1/chat/completions', { model: 'chat:qa', messages: [] });
    expect(noEnv.status).toBe(404);
    const noDep = await post('/v1/chat/completions', { model: 'nodep', messages: [] });
    expect(noDep.status).toBe(503);
    expect((await noDep.json()).error.code).toBe('no_deployment');
    expect((await fetch(`${gw.url}/v1/nothing`)).status).toBe(404);
    // The official client maps them to its error classes.
    await expect(client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    expect(a.requests).toBe(0);
  });

  it('passes an upstream 4xx through as it is, and turns garbage, hangs and cut streams into clear errors', async () => {
    const err400 = await post('/v1/chat/completions', { model: 'chat', messages: [{ role: 'user', content: 'x [[error]]' }] });
    expect(err400.status).toBe(400);
    expect((await err400.json()).error.message).toContain('[[error]]');
    const garbage = await post('/v1/chat/completions', { model: 'chat', messages: [{ role: 'user', content: 'x [[nonjson]]' }] });
    expect(garbage.status).toBe(502);
    expect((await garbage.json()).error.code).toBe('bad_gateway');
    const hang = await post('/v1/chat/completions', { model: 'chat', messages: [{ role: 'user', content: 'x [[hang]]' }] });
    expect(hang.status).toBe(504);
    expect((await hang.json()).error.code).toBe('upstream_timeout');
    // A stream asked of an upstream that answers JSON only arrives as a stream.
    const reframed = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'ANSWER: whole [[nostream]]' }], stream: true });
    let text = '';
    for await (const c of reframed) text += c.choices[0]?.delta?.content ?? '';
    expect(text).toBe('whole');
    // Cut midway: what arrived arrives, then an error event the client raises.
    const cut = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'ANSWER: a b c d e f [[cut]]' }], stream: true });
    let got = '';
    await expect(
      (async () => {
        for await (const c of cut) got += c.choices[0]?.delta?.content ?? '';
      })(),
    ).rejects.toThrow(/midway/);
    expect(got).toBe('a b c ');
  });

  it('retries a failed attempt on another target, ejects a dead one, and serves from the rest', async () => {
    // Each request starts at a random one of the two targets; one is a closed port.
    for (let i = 0; i < 20; i++) {
      const r = await client.chat.completions.create({ model: 'flaky', messages: [{ role: 'user', content: `ANSWER: ok ${i}` }] });
      expect(r.choices[0]!.message.content).toBe(`ok ${i}`);
    }
    // Every request was answered by b, and the dead target was ejected (three failures in a row).
    expect(b.requests).toBe(20);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/steward_gateway_ejections_total [1-9]/);
    expect(metrics).toMatch(/steward_gateway_retries_total [1-9]/);
    // A single 500 from the only target is retried.
    const retried = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'ANSWER: second try [[fail:1]]' }] });
    expect(retried.choices[0]!.message.content).toBe('second try');
  });

  it('answers 503 at once when every target is down, and uses a target again once it is back', async () => {
    // The first request tries the one target three times (connection refused), which ejects it.
    const first = await post('/v1/chat/completions', { model: 'down', messages: [{ role: 'user', content: 'x' }] });
    expect(first.status).toBe(502);
    expect((await first.json()).error.message).toMatch(/could not connect.*3 attempts/);
    const cooled = await post('/v1/chat/completions', { model: 'down', messages: [{ role: 'user', content: 'x' }] });
    expect(cooled.status).toBe(503);
    expect(cooled.headers.get('retry-after')).toBe('1');
    expect((await cooled.json()).error.message).toMatch(/cooling down/);
    // The replica comes back on its port; after the cool-down (300 ms here) it serves again.
    const back = await startFakeOpenAI({ port: deadPort });
    try {
      await new Promise((r) => setTimeout(r, 400));
      const ok = await client.chat.completions.create({ model: 'down', messages: [{ role: 'user', content: 'ANSWER: back' }] });
      expect(ok.choices[0]!.message.content).toBe('back');
    } finally {
      await back.close();
    }
  });

  it('splits traffic by weight, keeps a sticky user on one arm, and mirrors a share to a shadow', async () => {
    const s = base();
    s.traffic = [{ model: 'chat', environment: 'production', arms: [{ deployment: 'dep_chat1', weight: 1 }, { deployment: 'dep_chat2', weight: 3 }], sticky: 'header:x-user', shadow: null, fallbacks: [] }];
    ctl.set(s);
    await expect.poll(() => gw.gateway.table()?.version).toBe(s.version);
    const n = 200;
    await Promise.all(Array.from({ length: n }, (_, i) => post('/v1/chat/completions', { model: 'chat', messages: [{ role: 'user', content: 'x' }] }, KEY, { 'x-user': `user-${i}` }).then((r) => r.text())));
    // 1:3 → about 50 and 150 (σ ≈ 6): a wide band that a broken split still misses.
    expect(a.requests).toBeGreaterThan(25);
    expect(a.requests).toBeLessThan(80);
    expect(a.requests + b.requests).toBe(n);
    const versions = new Set<string | null>();
    for (let i = 0; i < 10; i++) versions.add((await post('/v1/chat/completions', { model: 'chat', messages: [{ role: 'user', content: 'x' }] }, KEY, { 'x-user': 'same-user' })).headers.get('x-steward-version'));
    expect(versions.size).toBe(1);

    const sh = base();
    sh.traffic = [{ model: 'chat', environment: 'production', arms: [{ deployment: 'dep_chat1', weight: 1 }], sticky: 'none', shadow: { deployment: 'dep_chat2', percent: 100 }, fallbacks: [] }];
    ctl.set(sh);
    await expect.poll(() => gw.gateway.table()?.version).toBe(sh.version);
    a.reset();
    b.reset();
    const r = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'ANSWER: primary' }] });
    expect(r.choices[0]!.message.content).toBe('primary');
    await expect.poll(() => b.requests).toBe(1);
    await gw.gateway.flushUsage();
    expect(batches.flatMap((x) => x.records).some((x) => x.shadow && x.deployment === 'dep_chat2')).toBe(true);
    ctl.set(base());
  });

  it('falls back to another model when the first cannot answer', async () => {
    const s = base();
    s.traffic = [{ model: 'down', environment: 'production', arms: [{ deployment: 'dep_down', weight: 1 }], sticky: 'none', shadow: null, fallbacks: ['chat:staging'] }];
    ctl.set(s);
    await expect.poll(() => gw.gateway.table()?.version).toBe(s.version);
    const r = await client.chat.completions.create({ model: 'down', messages: [{ role: 'user', content: 'ANSWER: rescued' }] }).withResponse();
    expect(r.data.choices[0]!.message.content).toBe('rescued');
    expect(r.response.headers.get('x-steward-deployment')).toBe('dep_chat2');
    ctl.set(base());
  });

  it('holds a key to its requests per minute', async () => {
    const limited = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-stw-test-key-rpm', maxRetries: 0 });
    for (let i = 0; i < 3; i++) await limited.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'x' }] });
    const r = await post('/v1/chat/completions', { model: 'chat', messages: [{ role: 'user', content: 'x' }] }, 'sk-stw-test-key-rpm');
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await r.json()).error).toMatchObject({ code: 'rate_limit_exceeded', type: 'requests' });
  });

  it('1,000 concurrent requests against a budget for 10 spend exactly the budget, never more', async () => {
    // dep_chat1 costs $1 per output token; each answer is one token and asks max_tokens 1.
    const results = await Promise.all(
      Array.from({ length: 1000 }, () => post('/v1/chat/completions', { model: 'chat', max_tokens: 1, messages: [{ role: 'user', content: 'ANSWER: hi' }] }, 'sk-stw-test-key-budget').then(async (r) => ({ status: r.status, body: await r.json() }))),
    );
    const ok = results.filter((r) => r.status === 200).length;
    const refused = results.filter((r) => r.status === 429);
    expect(ok).toBeLessThanOrEqual(10);
    expect(ok).toBeGreaterThan(0);
    expect(ok + refused.length, JSON.stringify(results.filter((r) => r.status !== 200 && r.status !== 429).slice(0, 3))).toBe(1000);
    expect(refused[0]!.body.error.code).toBe('insufficient_quota');
    await gw.gateway.flushUsage();
    const spent = batches.flatMap((x) => x.records).filter((r) => r.keyId === 'key_budget').reduce((n, r) => n + r.costUsd, 0);
    expect(spent).toBeLessThanOrEqual(10);
    expect(spent).toBe(ok);
  });

  it('serves a repeated deterministic request from the cache of a model that opted in', async () => {
    const body = { model: 'cached', temperature: 0, messages: [{ role: 'user', content: 'ANSWER: same' }] };
    const first = await post('/v1/chat/completions', body);
    expect(first.headers.get('x-steward-cache')).toBeNull();
    const second = await post('/v1/chat/completions', body);
    expect(second.headers.get('x-steward-cache')).toBe('hit');
    expect((await second.json()).choices[0].message.content).toBe('same');
    expect(a.requests).toBe(1);
    // Not deterministic: not cached.
    await post('/v1/chat/completions', { ...body, temperature: 1 });
    await post('/v1/chat/completions', { ...body, temperature: 1 });
    expect(a.requests).toBe(3);
  });

  it('stops the upstream request when the client goes away', async () => {
    let closed = false;
    const upstream = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"choices":[{"index":0,"delta":{"content":"x"}}]}\n\n');
      req.socket.on('close', () => (closed = true));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    const port = (upstream.address() as { port: number }).port;
    const s = base();
    s.deployments.push(dep('dep_forever', 'forever', '1.0.0', 'production', [`http://127.0.0.1:${port}/v1`]));
    s.models.push({ name: 'forever', namespace: null, environments: { production: '1.0.0' }, cache: null });
    ctl.set(s);
    await expect.poll(() => gw.gateway.table()?.version).toBe(s.version);
    const res = await post('/v1/chat/completions', { model: 'forever', stream: true, messages: [{ role: 'user', content: 'x' }] }, KEY, {});
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    await expect.poll(() => closed, { timeout: 3000 }).toBe(true);
    upstream.close();
    ctl.set(base());
  });

  it('reads a stream no faster than the client takes it (a client that stops reading stops the upstream)', async () => {
    const event = Buffer.from(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'y'.repeat(64 * 1024) } }] })}\n\n`);
    const cap = 64 * 2 ** 20;
    let written = 0;
    const upstream = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const pump = () => {
        while (written < cap) {
          written += event.length;
          if (!res.write(event)) return void res.once('drain', pump);
        }
        res.end('data: [DONE]\n\n');
      };
      pump();
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    const port = (upstream.address() as { port: number }).port;
    const s = base();
    s.deployments.push(dep('dep_firehose', 'firehose', '1.0.0', 'production', [`http://127.0.0.1:${port}/v1`]));
    s.models.push({ name: 'firehose', namespace: null, environments: { production: '1.0.0' }, cache: null });
    ctl.set(s);
    await expect.poll(() => gw.gateway.table()?.version).toBe(s.version);
    const body = JSON.stringify({ model: 'firehose', stream: true, messages: [{ role: 'user', content: 'x' }] });
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' } }, resolve);
      req.on('error', reject);
      req.end(body);
    });
    expect(res.statusCode).toBe(200);
    // The client reads nothing for a while: socket buffers fill and the upstream is held back,
    // rather than the gateway reading all 64 MiB into memory.
    res.pause();
    await new Promise((r) => setTimeout(r, 1000));
    const held = written;
    expect(held).toBeLessThan(cap / 2);
    // Reading again lets the rest through, whole.
    let received = 0;
    res.on('data', (c: Buffer) => (received += c.length));
    res.resume();
    await new Promise<void>((r) => res.once('end', () => r()));
    expect(written).toBeGreaterThanOrEqual(cap);
    expect(received).toBeGreaterThanOrEqual(cap);
    upstream.close();
    ctl.set(base());
  });

  it('meters the request id it answered with, and a refusal when the answer says so', async () => {
    const upstream = http.createServer((req, res) => {
      const refused = req.url !== undefined && (req.headers['x-request-id'] ?? '').includes('refuse');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'r', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: refused ? '' : 'ok', ...(refused ? { refusal: 'I cannot help with that.' } : {}) }, finish_reason: refused ? 'content_filter' : 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 1 } }));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    const port = (upstream.address() as { port: number }).port;
    const s = base();
    s.deployments.push(dep('dep_judge', 'judge', '1.0.0', 'production', [`http://127.0.0.1:${port}/v1`]));
    s.models.push({ name: 'judge', namespace: null, environments: { production: '1.0.0' }, cache: null });
    ctl.set(s);
    await expect.poll(() => gw.gateway.table()?.version).toBe(s.version);
    const ok = await post('/v1/chat/completions', { model: 'judge', messages: [{ role: 'user', content: 'x' }] }, KEY, { 'x-request-id': 'req-answer-1' });
    expect(ok.headers.get('x-request-id')).toBe('req-answer-1');
    const refused = await post('/v1/chat/completions', { model: 'judge', messages: [{ role: 'user', content: 'x' }] }, KEY, { 'x-request-id': 'req-refuse-1' });
    expect(refused.status).toBe(200);
    const own = await post('/v1/chat/completions', { model: 'judge', messages: [{ role: 'user', content: 'x' }] });
    const generated = own.headers.get('x-request-id');
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    await gw.gateway.flushUsage();
    const recs = batches.flatMap((x) => x.records).filter((r) => r.model === 'judge');
    expect(recs.map((r) => [r.requestId, r.refusal])).toEqual([
      ['req-answer-1', false],
      ['req-refuse-1', true],
      [generated, false],
    ]);
    upstream.close();
    ctl.set(base());
  });

  it('keeps serving and authenticating when the control plane is down, also after a restart', async () => {
    ctl.setDown(true);
    await expect.poll(async () => (await (await fetch(`${gw.url}/readyz`)).json()).controlPlane, { timeout: 5000 }).toBe('unreachable');
    const r = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'ANSWER: still here' }] });
    expect(r.choices[0]!.message.content).toBe('still here');
    // Restarted while the control plane is still down: the persisted table serves.
    await gw.close();
    await start();
    const ready = await (await fetch(`${gw.url}/readyz`)).json();
    expect(ready).toMatchObject({ status: 'ready', source: 'persisted' });
    const again = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'ANSWER: after restart' }] });
    expect(again.choices[0]!.message.content).toBe('after restart');
    expect((await post('/v1/chat/completions', { model: 'chat', messages: [] }, 'sk-stw-unknown')).status).toBe(401);
    expect(fs.statSync(path.join(stateDir, 'snapshot.json')).mode & 0o777).toBe(0o600);
    ctl.setDown(false);
    await expect.poll(async () => (await (await fetch(`${gw.url}/readyz`)).json()).controlPlane, { timeout: 5000 }).toBe('reachable');
  });
});

/**
 * The fake OpenAI-compatible server over real HTTP: wire shapes, streaming, logprobs, every
 * behaviour control and server mode, bookkeeping, the standalone process, and a throughput
 * figure (printed, not asserted) so benchmarks know the fake is not their bottleneck.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeLogprob, fakePerplexity, fakeTokens, startFakeOpenAI, type FakeOpenAI, type FakeOpenAIOptions } from './helpers/fake-openai.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

async function call(url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await request(url, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

function chat(content: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'm1', messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content }], ...extra };
}

/** The JSON payloads of an SSE body, in order, with the literal `[DONE]` kept as a string. */
function sseEvents(text: string): unknown[] {
  const blocks = text.split('\n\n');
  expect(blocks.pop()).toBe(''); // every event ends with a blank line
  return blocks.map((b) => {
    expect(b.startsWith('data: ')).toBe(true);
    const data = b.slice('data: '.length);
    return data === '[DONE]' ? data : (JSON.parse(data) as unknown);
  });
}

/** Attaches a handler at once, so a request that fails before the test awaits it is not an unhandled rejection. */
function settle(p: Promise<unknown>): Promise<'resolved' | 'rejected'> {
  return p.then(
    () => 'resolved',
    () => 'rejected',
  );
}

async function withFake<T>(opts: FakeOpenAIOptions, fn: (fake: FakeOpenAI) => Promise<T>): Promise<T> {
  const fake = await startFakeOpenAI(opts);
  try {
    return await fn(fake);
  } finally {
    await fake.close();
  }
}

describe('fake OpenAI server', () => {
  let fake: FakeOpenAI;
  let chatUrl: string;

  beforeAll(async () => {
    fake = await startFakeOpenAI({ answers: { 'What is the capital of France?': 'Paris' } });
    chatUrl = `${fake.url}/chat/completions`;
  });
  afterAll(async () => {
    await fake.close();
  });

  it('listens on 127.0.0.1 with a /v1 base url', () => {
    expect(fake.url).toBe(`http://127.0.0.1:${fake.port}/v1`);
  });

  it('answers a chat completion in the OpenAI shape with word-count usage', async () => {
    const r = await call(chatUrl, chat('What is the capital of France?'));
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    const body = JSON.parse(r.text) as Record<string, unknown>;
    expect(body).toEqual({
      id: expect.stringMatching(/^chatcmpl-/),
      object: 'chat.completion',
      created: expect.any(Number),
      model: 'm1',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Paris' }, finish_reason: 'stop', logprobs: null }],
      // 3 words of system prompt + 6 of user message
      usage: { prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 },
    });
  });

  it('decides the answer by exact lookup, then ANSWER:, then echo, from the last user message', async () => {
    const answerOf = async (body: unknown): Promise<unknown> => {
      const r = await call(chatUrl, body);
      return (JSON.parse(r.text) as { choices: { message: { content: string } }[] }).choices[0]?.message.content;
    };
    expect(await answerOf(chat('Q: 2+2?\nANSWER: four  \nignored line'))).toBe('four');
    expect(await answerOf(chat('  just echo me  '))).toBe('just echo me');
    expect(await answerOf(chat('[[slow:1]]What is the capital of France?'))).toBe('Paris');
    const multiTurn = {
      messages: [
        { role: 'user', content: 'first ANSWER: old' },
        { role: 'assistant', content: 'old' },
        { role: 'user', content: [{ type: 'text', text: 'second ANSWER: new' }] },
      ],
    };
    expect(await answerOf(multiTurn)).toBe('new');
  });

  it('serves /v1/completions with legacy logprobs and /v1/models', async () => {
    const r = await call(`${fake.url}/completions`, { model: 'm2', prompt: 'Say it. ANSWER: alpha beta', logprobs: 0 });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({
      id: expect.stringMatching(/^cmpl-/),
      object: 'text_completion',
      created: expect.any(Number),
      model: 'm2',
      choices: [
        {
          index: 0,
          text: 'alpha beta',
          finish_reason: 'stop',
          logprobs: {
            tokens: ['alpha ', 'beta'],
            token_logprobs: [fakeLogprob('alpha '), fakeLogprob('beta')],
            top_logprobs: [{ 'alpha ': fakeLogprob('alpha ') }, { beta: fakeLogprob('beta') }],
            text_offset: [26, 32],
          },
        },
      ],
      usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
    });
    const models = await call(`${fake.url}/models`);
    expect(JSON.parse(models.text)).toEqual({ object: 'list', data: [{ id: 'fake-model', object: 'model', created: expect.any(Number), owned_by: 'steward-fake' }] });
  });

  it('streams a role chunk, one chunk per token, a finish chunk, the usage chunk and [DONE]', async () => {
    const r = await call(chatUrl, chat('ANSWER: The cat sat.', { stream: true, stream_options: { include_usage: true } }));
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = sseEvents(r.text);
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1) as Record<string, unknown>[];
    const id = chunks[0]?.id;
    for (const c of chunks) {
      expect(c).toMatchObject({ id, object: 'chat.completion.chunk', model: 'm1', created: expect.any(Number) });
    }
    expect(chunks.map((c) => c.choices)).toEqual([
      [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
      [{ index: 0, delta: { content: 'The ' }, logprobs: null, finish_reason: null }],
      [{ index: 0, delta: { content: 'cat ' }, logprobs: null, finish_reason: null }],
      [{ index: 0, delta: { content: 'sat.' }, logprobs: null, finish_reason: null }],
      [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }],
      [],
    ]);
    // With include_usage, every chunk but the last has usage: null (OpenAI reference).
    expect(chunks.map((c) => c.usage)).toEqual([null, null, null, null, null, { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 }]);
  });

  it('streams without a usage chunk or usage fields unless include_usage is set', async () => {
    const events = sseEvents((await call(chatUrl, chat('ANSWER: a b', { stream: true }))).text);
    expect(events).toHaveLength(5); // role, a, b, finish, [DONE]
    for (const e of events.slice(0, -1)) expect(e).not.toHaveProperty('usage');
  });

  it('streams /v1/completions as text_completion chunks', async () => {
    const r = await call(`${fake.url}/completions`, { prompt: 'ANSWER: x y', stream: true, stream_options: { include_usage: true } });
    const events = sseEvents(r.text);
    const chunks = events.slice(0, -1) as { object: string; choices: { text: string; finish_reason: string | null }[]; usage: unknown }[];
    expect(chunks.every((c) => c.object === 'text_completion')).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.text ?? null)).toEqual(['x ', 'y', '', null]);
    expect(chunks[2]?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks[3]?.usage).toEqual({ prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
    expect(events.at(-1)).toBe('[DONE]');
  });

  it('returns deterministic per-token logprobs a client can turn into the expected perplexity', async () => {
    const answer = 'the quick brown fox jumps';
    const r = await call(chatUrl, chat(`ANSWER: ${answer}`, { logprobs: true }));
    const lp = (JSON.parse(r.text) as { choices: { logprobs: { content: { token: string; logprob: number; bytes: null; top_logprobs: [] }[] } }[] }).choices[0]?.logprobs.content ?? [];
    expect(lp.map((e) => e.token)).toEqual(fakeTokens(answer));
    expect(lp.map((e) => e.token).join('')).toBe(answer);
    for (const e of lp) {
      expect(e).toEqual({ token: e.token, logprob: fakeLogprob(e.token), bytes: null, top_logprobs: [] });
      expect(e.logprob).toBeGreaterThan(-3);
      expect(e.logprob).toBeLessThan(0);
    }
    const perplexity = Math.exp(-lp.reduce((s, e) => s + e.logprob, 0) / lp.length);
    expect(perplexity).toBeCloseTo(fakePerplexity(answer), 12);

    const again = await call(chatUrl, chat(`ANSWER: ${answer}`, { logprobs: true }));
    expect((JSON.parse(again.text) as { choices: unknown[] }).choices).toEqual((JSON.parse(r.text) as { choices: unknown[] }).choices);
  });

  it('streams logprobs with each token chunk', async () => {
    const events = sseEvents((await call(chatUrl, chat('ANSWER: one two', { stream: true, logprobs: true }))).text);
    const tokenChunks = events.slice(1, 3) as { choices: { logprobs: unknown }[] }[];
    expect(tokenChunks.map((c) => c.choices[0]?.logprobs)).toEqual([
      { content: [{ token: 'one ', logprob: fakeLogprob('one '), bytes: null, top_logprobs: [] }] },
      { content: [{ token: 'two', logprob: fakeLogprob('two'), bytes: null, top_logprobs: [] }] },
    ]);
  });

  it('[[fail:N]] fails the first N requests with this exact content with 500, then succeeds', async () => {
    const content = `flaky ${Math.random()} [[fail:2]] ANSWER: finally`;
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await call(chatUrl, chat(content));
      statuses.push(r.status);
      if (r.status === 500) {
        expect(JSON.parse(r.text)).toEqual({ error: { message: expect.any(String), type: 'server_error', param: null, code: 'server_error' } });
      } else {
        expect((JSON.parse(r.text) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe('finally');
      }
    }
    expect(statuses).toEqual([500, 500, 200]);
    // A different content string has its own counter.
    expect((await call(chatUrl, chat(`${content} (other)`))).status).toBe(500);
  });

  it('[[429:N]] rate-limits the first N with Retry-After: 0, then succeeds', async () => {
    const content = `busy ${Math.random()} [[429:1]] ANSWER: ok`;
    const first = await call(chatUrl, chat(content));
    expect(first.status).toBe(429);
    expect(first.headers['retry-after']).toBe('0');
    expect(JSON.parse(first.text)).toEqual({ error: { message: expect.any(String), type: 'requests', param: null, code: 'rate_limit_exceeded' } });
    expect((await call(chatUrl, chat(content))).status).toBe(200);
  });

  it('[[error]] always answers 400 with an OpenAI error', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await call(chatUrl, chat('bad [[error]]'));
      expect(r.status).toBe(400);
      expect(JSON.parse(r.text)).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: 'invalid_request' } });
    }
  });

  it('[[nonjson]] answers 200 with an HTML page', async () => {
    const r = await call(chatUrl, chat('[[nonjson]]'));
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.text).toMatch(/^<!DOCTYPE html>/);
    expect(() => JSON.parse(r.text) as unknown).toThrow();
  });

  it('[[slow:MS]] waits before answering', async () => {
    const t0 = performance.now();
    const r = await call(chatUrl, chat('[[slow:150]] ANSWER: late'));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    expect(r.status).toBe(200);
  });

  it('[[hang]] never answers: the client gives up', async () => {
    const pending = request(chatUrl, { method: 'POST', body: JSON.stringify(chat('[[hang]]')), signal: AbortSignal.timeout(200) });
    await expect(pending).rejects.toThrow();
  });

  it('[[reset]] destroys the socket without a response', async () => {
    await expect(call(chatUrl, chat('[[reset]]'))).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
  });

  it('[[judge:X]] answers X verbatim, brackets included', async () => {
    const reply = '{"score": 4, "reasoning": "close [but] not [[exact]]"}';
    const r = await call(chatUrl, chat(`Grade this answer.\n[[judge:${reply}]]`));
    expect((JSON.parse(r.text) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe(reply);
  });

  it('answers embeddings deterministically, as floats or as the base64 the official client asks for', async () => {
    const floats = JSON.parse((await call(`${fake.url}/embeddings`, { model: 'm', input: ['a b', 'c'] })).text);
    expect(floats.data).toHaveLength(2);
    expect(floats.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    const v = floats.data[0].embedding as number[];
    expect(Math.hypot(...v)).toBeCloseTo(1, 6);
    const b64 = JSON.parse((await call(`${fake.url}/embeddings`, { model: 'm', input: 'a b', encoding_format: 'base64' })).text);
    const raw = Buffer.from(b64.data[0].embedding as string, 'base64');
    expect([...new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4)].map((x) => x.toFixed(5))).toEqual(v.map((x) => x.toFixed(5)));
    expect((await call(`${fake.url}/embeddings`, { model: 'm', input: 3 })).status).toBe(400);
  });

  it('rejects bodies that are not JSON, lack messages or a prompt, and unknown routes', async () => {
    const bad = await call(chatUrl, '{"messages": [');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({ error: { type: 'invalid_request_error', code: 'invalid_json' } });
    expect((await call(chatUrl, { model: 'm' })).status).toBe(400);
    expect((await call(`${fake.url}/completions`, { prompt: 7 })).status).toBe(400);
    const missing = await call(`${fake.url}/moderations`, { input: 'x' });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.text)).toMatchObject({ error: { code: 'unknown_url' } });
  });

  it('counts and records requests, bounded, and reset() clears them and the fail counters', async () => {
    await withFake({ maxRecorded: 3 }, async (f) => {
      const url = `${f.url}/chat/completions`;
      for (let i = 0; i < 5; i++) await call(url, chat(`n${i}`), { 'x-case': String(i) });
      expect(f.requests).toBe(5);
      const got = f.received();
      expect(got.map((r) => (r.body as { messages: { content: string }[] }).messages[1]?.content)).toEqual(['n2', 'n3', 'n4']);
      expect(got[0]).toMatchObject({ method: 'POST', path: '/v1/chat/completions', headers: { 'x-case': '2' }, at: expect.any(Number) });

      expect((await call(url, chat('[[fail:1]]'))).status).toBe(500);
      expect((await call(url, chat('[[fail:1]]'))).status).toBe(200);
      f.reset();
      expect(f.requests).toBe(0);
      expect(f.received()).toEqual([]);
      expect((await call(url, chat('[[fail:1]]'))).status).toBe(500);
      expect(f.requests).toBe(1);
    });
  });

  it('requires the API key when one is configured', async () => {
    await withFake({ apiKey: 'sk-test' }, async (f) => {
      const url = `${f.url}/chat/completions`;
      const none = await call(url, chat('hi'));
      expect(none.status).toBe(401);
      expect(JSON.parse(none.text)).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
      expect((await call(url, chat('hi'), { authorization: 'Bearer wrong' })).status).toBe(401);
      expect((await call(url, chat('hi'), { authorization: 'Bearer sk-test' })).status).toBe(200);
    });
  });

  it('applies server-wide modes to every request', async () => {
    await withFake({ mode: 'error500' }, async (f) => {
      expect((await call(`${f.url}/chat/completions`, chat('hi'))).status).toBe(500);
      expect((await call(`${f.url}/models`)).status).toBe(500);
    });
    await withFake({ mode: 'nonjson' }, async (f) => {
      const r = await call(`${f.url}/chat/completions`, chat('hi'));
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toMatch(/^text\/html/);
    });
    await withFake({ mode: 'slow', delayMs: 120 }, async (f) => {
      const t0 = performance.now();
      expect((await call(`${f.url}/chat/completions`, chat('hi'))).status).toBe(200);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(110);
    });
  });

  it('paces streamed tokens by firstTokenDelayMs and tokenDelayMs, and non-streamed answers alike', async () => {
    await withFake({ firstTokenDelayMs: 60, tokenDelayMs: 30 }, async (f) => {
      const url = `${f.url}/chat/completions`;
      const res = await request(url, { method: 'POST', body: JSON.stringify(chat('ANSWER: a b c', { stream: true })) });
      const t0 = performance.now();
      const arrivals: number[] = [];
      let text = '';
      for await (const piece of res.body) {
        text += String(piece);
        arrivals.push(performance.now() - t0);
      }
      expect(sseEvents(text)).toHaveLength(6);
      expect(arrivals.length).toBeGreaterThanOrEqual(3); // not one burst
      expect(arrivals.at(-1)).toBeGreaterThanOrEqual(100); // 60 + 2 × 30, minus timer slack

      const t1 = performance.now();
      await call(url, chat('ANSWER: a b c'));
      expect(performance.now() - t1).toBeGreaterThanOrEqual(110);
    });
  });

  it('close() ends hanging, slow and mid-stream requests and clears their timers', async () => {
    const f = await startFakeOpenAI({ tokenDelayMs: 60_000 });
    const url = `${f.url}/chat/completions`;
    const hanging = settle(call(url, chat('[[hang]]')));
    const slow = settle(call(url, chat('[[slow:60000]]')));
    // Headers and the first token arrive; the second token is 60 s away.
    const streaming = settle(request(url, { method: 'POST', body: JSON.stringify(chat('ANSWER: a b', { stream: true })) }).then((res) => res.body.text()));
    while (f.received().length < 3) await new Promise((r) => setTimeout(r, 5));
    const t0 = performance.now();
    await f.close();
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(await Promise.all([hanging, slow, streaming])).toEqual(['rejected', 'rejected', 'rejected']);
  });

  it('runs standalone: prints its url and pid, and exits promptly on SIGTERM with requests in flight', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/fake-openai-main.ts', '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once('exit', (code) => resolve({ code, at: performance.now() })));
    const line = await new Promise<string>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString('utf8');
        const nl = buf.indexOf('\n');
        if (nl >= 0) resolve(buf.slice(0, nl));
      });
      child.once('exit', () => reject(new Error(`exited before listening: ${buf}`)));
    });
    const info = JSON.parse(line) as { url: string; pid: number };
    expect(info).toEqual({ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/v1$/), pid: child.pid });
    expect((await call(`${info.url}/chat/completions`, chat('ANSWER: up'))).status).toBe(200);

    const inFlight = [settle(call(`${info.url}/chat/completions`, chat('[[slow:60000]]'))), settle(call(`${info.url}/chat/completions`, chat('[[hang]]')))];
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    child.kill('SIGTERM');
    const { code, at } = await exited;
    expect(code).toBe(0);
    // The process drains its event loop rather than exiting by force (2 s fallback): a leaked
    // timer of a slow request would keep it alive for the full 60 s or until the fallback.
    expect(at - t0).toBeLessThan(1_500);
    expect(await Promise.all(inFlight)).toEqual(['rejected', 'rejected']);
  });

  it('throughput: 2,000 keep-alive requests at concurrency 16 (printed, not asserted)', async () => {
    const origin = new URL(fake.url).origin;
    const pool = new Pool(origin, { connections: 16 });
    const body = JSON.stringify(chat('Question 17? ANSWER: forty two'));
    const total = 2_000;
    let next = 0;
    let ok = 0;
    const worker = async (): Promise<void> => {
      while (next < total) {
        next++;
        const res = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' }, body });
        await res.body.text();
        if (res.statusCode === 200) ok++;
      }
    };
    await Promise.all(Array.from({ length: 16 }, () => worker())); // warm-up round, not timed
    next = 0;
    ok = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 16 }, () => worker()));
    const seconds = (performance.now() - t0) / 1000;
    await pool.close();
    expect(ok).toBe(total);
    console.log(`fake-openai throughput: ${Math.round(total / seconds)} req/s (${total} requests, concurrency 16, client and server in one process)`);
  });
});

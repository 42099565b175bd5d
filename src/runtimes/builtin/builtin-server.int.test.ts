// The built-in runtime as a child process on the tiny generated GGUF: health, the OpenAI API
// (plain and streamed), token counts, and a malformed GGUF killing only the child.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOpenAIClient, type OpenAIClient } from '../../platform/openai/openai-client.js';
import { builtinRuntimeCommand } from './builtin-command.js';
import { makeTinyGguf, TINY_DEFAULTS } from './tiny-gguf.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface Child { proc: ChildProcess; port: number; base: string; log: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }

function startRuntime(modelPath: string, port: number, faultRate?: number): Child {
  const { command, args } = builtinRuntimeCommand({ modelPath, port, threads: 1, contextSize: 512, modelName: 'tiny', ...(faultRate !== undefined ? { faultRate } : {}) });
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  return { proc, port, base: `http://127.0.0.1:${port}`, log: () => out, exited };
}

/** Polls /health until 200; resolves false when the child exits first. */
async function waitHealthy(c: Child, timeoutMs: number): Promise<boolean> {
  let gone = false;
  void c.exited.then(() => { gone = true; });
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && !gone) {
    const status = await fetch(`${c.base}/health`).then((r) => r.status, () => 0);
    if (status === 200) return true;
    if (status !== 0 && status !== 503) throw new Error(`/health answered ${status}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

describe('built-in runtime (child process, tiny GGUF)', () => {
  let dir: string;
  let rt: Child;
  let client: OpenAIClient;
  let spawnToFirstTokenMs = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'builtin-rt-'));
    const model = join(dir, 'tiny.gguf');
    writeFileSync(model, makeTinyGguf());
    const port = await freePort();
    const t0 = performance.now();
    rt = startRuntime(model, port);
    if (!(await waitHealthy(rt, 30_000))) throw new Error(`runtime did not become healthy:\n${rt.log()}`);
    const healthyMs = performance.now() - t0;
    client = createOpenAIClient({ url: `${rt.base}/v1`, connections: 2, timeoutMs: 30_000 });
    const stream = await client.streamChat({ model: 'tiny', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 8, seed: 1 });
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta?.content) {
        spawnToFirstTokenMs = performance.now() - t0;
        break;
      }
    }
    console.log(`builtin runtime: spawn → /health 200 in ${healthyMs.toFixed(0)} ms; spawn → first streamed token in ${spawnToFirstTokenMs.toFixed(0)} ms`);
  });

  afterAll(async () => {
    await client?.close();
    if (rt && rt.proc.exitCode === null) {
      rt.proc.kill('SIGTERM');
      expect((await rt.exited).code).toBe(0);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a first token after it is spawned (the figure is printed above, not asserted: tests are not timed)', () => {
    expect(spawnToFirstTokenMs).toBeGreaterThan(0);
  });

  it('lists the model and reports health', async () => {
    const models = await (await fetch(`${rt.base}/v1/models`)).json();
    expect(models).toEqual({ object: 'list', data: [expect.objectContaining({ id: 'tiny', object: 'model' })] });
    const health = await fetch(`${rt.base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', model: 'tiny' });
  });

  it('answers chat completions with counted tokens', async () => {
    const r = await client.chat({ model: 'tiny', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi there' }], max_tokens: 6, seed: 3 });
    const c = r.completion;
    expect(c.object).toBe('chat.completion');
    expect(c.choices).toHaveLength(1);
    expect(c.choices[0]?.message.role).toBe('assistant');
    expect(typeof c.choices[0]?.message.content).toBe('string');
    expect(['stop', 'length']).toContain(c.choices[0]?.finish_reason);
    const u = r.usage!;
    expect(u.prompt_tokens).toBeGreaterThanOrEqual('Hi there'.length);
    expect(u.completion_tokens).toBeGreaterThan(0);
    expect(u.completion_tokens).toBeLessThanOrEqual(6);
    if (c.choices[0]?.finish_reason === 'length') expect(u.completion_tokens).toBe(6);
    expect(u.total_tokens).toBe(u.prompt_tokens + u.completion_tokens);
  });

  it('streams chat completions as OpenAI SSE ending in [DONE]', async () => {
    const res = await fetch(`${rt.base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Tell me' }], max_tokens: 5, seed: 4, stream: true, stream_options: { include_usage: true } }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const raw = await res.text();
    expect(raw.endsWith('data: [DONE]\n\n')).toBe(true);
    const events = raw.split('\n\n').filter(Boolean);
    expect(events.every((e) => e.startsWith('data: '))).toBe(true);
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice('data: '.length)));
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id)).toBe(true);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    const usageChunk = chunks.at(-1);
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage.completion_tokens).toBeGreaterThan(0);
    expect(usageChunk.usage.completion_tokens).toBeLessThanOrEqual(5);
    expect(usageChunk.usage.total_tokens).toBe(usageChunk.usage.prompt_tokens + usageChunk.usage.completion_tokens);
    const finish = chunks.at(-2);
    expect(['stop', 'length']).toContain(finish.choices[0].finish_reason);
    expect(chunks.slice(0, -2).every((c) => c.choices[0].finish_reason === null)).toBe(true);
  });

  it('answers text completions, plain and streamed', async () => {
    const plain = await client.completions({ model: 'tiny', prompt: 'Once upon a time', max_tokens: 4, seed: 5 });
    expect(plain.completion.object).toBe('text_completion');
    expect(typeof plain.completion.choices[0]?.text).toBe('string');
    expect(plain.usage!.completion_tokens).toBeLessThanOrEqual(4);
    expect(plain.usage!.prompt_tokens).toBeGreaterThan(0);
    const streamed = await client.completions({ model: 'tiny', prompt: 'Once upon a time', max_tokens: 4, seed: 5, stream: true });
    expect(streamed.ttftMs).not.toBeNull();
    expect(['stop', 'length']).toContain(streamed.completion.choices[0]?.finish_reason);
  });

  it('returns one embedding per input, as long as the model’s embedding size', async () => {
    const r = await client.embeddings({ model: 'tiny', input: ['a cat', 'a dog on a mat'] });
    expect(r.response.data).toHaveLength(2);
    for (const [i, d] of r.response.data.entries()) {
      expect(d.index).toBe(i);
      expect(d.embedding).toHaveLength(TINY_DEFAULTS.embeddingLength);
      expect((d.embedding as number[]).every(Number.isFinite)).toBe(true);
    }
    expect(r.response.usage?.prompt_tokens).toBeGreaterThan(0);
  });

  it('serves concurrent requests one after the other, each answered whole', async () => {
    const results = await Promise.all([
      client.chat({ model: 'tiny', messages: [{ role: 'user', content: 'one' }], max_tokens: 3 }),
      client.completions({ model: 'tiny', prompt: 'two', max_tokens: 3, stream: true }),
      client.embeddings({ model: 'tiny', input: 'three' }),
      client.chat({ model: 'tiny', messages: [{ role: 'user', content: 'four' }], max_tokens: 3, stream: true }),
    ]);
    expect(results[0].usage!.completion_tokens).toBeLessThanOrEqual(3);
    expect(results[1].usage === null || results[1].usage.completion_tokens <= 3, JSON.stringify(results[1])).toBe(true);
    expect(results[2].response.data[0]?.embedding).toHaveLength(TINY_DEFAULTS.embeddingLength);
    expect(['stop', 'length']).toContain(results[3].completion.choices[0]?.finish_reason);
  });

  it('stops generating when the client goes away, and serves the next request', async () => {
    const ac = new AbortController();
    const res = await fetch(`${rt.base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // EOS (token 2) banned, so only the client going away ends it before 450 tokens.
      body: JSON.stringify({ messages: [{ role: 'user', content: 'go on' }], max_tokens: 450, logit_bias: { '2': -100 }, stream: true }),
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    await reader.read(); // the role chunk
    ac.abort();
    const next = await client.chat({ model: 'tiny', messages: [{ role: 'user', content: 'next' }], max_tokens: 2 });
    expect(next.usage!.completion_tokens).toBeLessThanOrEqual(2);
    const stopped = /stopped after (\d+) token\(s\): the client went away/.exec(rt.log());
    expect(stopped, rt.log()).not.toBeNull();
    expect(Number(stopped![1])).toBeLessThan(450);
  });

  it('applies logit_bias: with EOS banned a completion runs to max_tokens', async () => {
    // With these seeds and no bias, the tiny model samples EOS within 40 tokens (node-llama-cpp's
    // TokenBias alone silently ignores a bias on EOS, which this test failed on now and then).
    for (const seed of [1, 12, 30]) {
      const r = await client.completions({ model: 'tiny', prompt: 'x', max_tokens: 40, seed, logit_bias: { '2': -100 } } as never);
      expect(r.completion.choices[0]?.finish_reason).toBe('length');
      expect(r.usage!.completion_tokens).toBe(40);
    }
    const bad = await fetch(`${rt.base}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'x', logit_bias: { '99999': 1 } }) });
    expect(bad.status).toBe(400);
  });

  it('rejects bad requests with an OpenAI error envelope', async () => {
    const post = (path: string, body: string) => fetch(`${rt.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const noMessages = await post('/v1/chat/completions', JSON.stringify({ model: 'tiny' }));
    expect(noMessages.status).toBe(400);
    expect((await noMessages.json()).error).toMatchObject({ type: 'invalid_request_error', message: expect.stringContaining('messages') });
    const lastNotUser = await post('/v1/chat/completions', JSON.stringify({ messages: [{ role: 'assistant', content: 'x' }] }));
    expect(lastNotUser.status).toBe(400);
    expect((await post('/v1/embeddings', '{not json')).status).toBe(400);
    expect((await fetch(`${rt.base}/v1/nothing`)).status).toBe(404);
    // The runtime still serves after them.
    expect((await fetch(`${rt.base}/health`)).status).toBe(200);
  });
});

describe('built-in runtime with an injected fault (--fault-rate)', () => {
  it('fails exactly that share of completion requests with a 500 OpenAI error, and serves the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'builtin-fault-'));
    const model = join(dir, 'tiny.gguf');
    writeFileSync(model, makeTinyGguf());
    const rt = startRuntime(model, await freePort(), 0.25);
    try {
      if (!(await waitHealthy(rt, 30_000))) throw new Error(`runtime did not become healthy:\n${rt.log()}`);
      const post = (path: string, body: unknown) => fetch(`${rt.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        const r = i % 2 ? await post('/v1/completions', { prompt: 'x', max_tokens: 2 }) : await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
        const body = (await r.json()) as { error?: { type: string; message: string }; choices?: unknown[] };
        statuses.push(r.status);
        if (r.status === 500) expect(body.error).toMatchObject({ type: 'server_error', message: expect.stringContaining('injected fault') });
        else expect(body.choices).toHaveLength(1);
      }
      // Every fourth request, not a dice roll: a drill's error rate is the one asked for.
      expect(statuses).toEqual([200, 200, 200, 500, 200, 200, 200, 500]);
      // Embeddings and health are not completions: they stay served.
      expect((await post('/v1/embeddings', { input: 'x' })).status).toBe(200);
      expect((await fetch(`${rt.base}/health`)).status).toBe(200);
    } finally {
      rt.proc.kill('SIGTERM');
      await rt.exited;
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses a fault rate outside 0..1 with exit code 2', async () => {
    const { command, args } = builtinRuntimeCommand({ modelPath: '/nonexistent.gguf', port: await freePort() });
    const proc = spawn(command, [...args, '--fault-rate', '1.5'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    proc.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
    const code = await new Promise<number | null>((resolve) => proc.once('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(err).toContain('--fault-rate must be a number between 0 and 1');
  });
});

describe('built-in runtime with a malformed GGUF', () => {
  const cases: [string, (good: Buffer) => Buffer][] = [
    ['a truncated file', (good) => good.subarray(0, Math.floor(good.length / 2))],
    ['garbage', () => Buffer.from('this is not a model '.repeat(500))],
  ];
  for (const [name, make] of cases) {
    it(`${name}: the child exits non-zero and never reports healthy; this process goes on`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'builtin-bad-'));
      try {
        const model = join(dir, 'bad.gguf');
        writeFileSync(model, make(makeTinyGguf()));
        const rt = startRuntime(model, await freePort());
        expect(await waitHealthy(rt, 30_000)).toBe(false);
        const { code, signal } = await rt.exited;
        expect(code !== 0 || signal !== null).toBe(true);
        expect(rt.log()).toMatch(/failed to load|error|abort/i);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

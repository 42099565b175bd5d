/**
 * Evaluation runs survive the server: a run in flight when the server stops is picked up by the
 * next start on the same data directory and finishes without asking for the answered cases
 * again; a run whose endpoint needs an API key (never stored) waits as `interrupted` until it is
 * resumed with the key.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunResponse } from '../src/contracts/evals.js';
import { loadConfig } from '../src/platform/config.js';
import { startServer, type RunningServer } from '../src/server/main.js';
import { jsonl, pushModel, pushSuite, startRun, waitRun } from './helpers/evals-fixtures.js';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.js';
import { apiClient, expectBody, expectError, type Api } from './helpers/test-api.js';

let dataDir: string;
let fake: FakeOpenAI;
let keyed: FakeOpenAI;
let server: RunningServer | null = null;
let token = '';

async function start(): Promise<Api> {
  const config = loadConfig({ env: {}, flags: { dataDir, port: 0 }, overrides: { logLevel: 'silent', evalRetryBaseMs: 5, evalLeaseSeconds: 2 } });
  server = await startServer({ config });
  if (server.bootstrapToken) token = server.bootstrapToken.token;
  return apiClient({ url: server.url, token });
}
async function stop() {
  await server?.close();
  server = null;
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-evals-restart-'));
  fake = await startFakeOpenAI();
  keyed = await startFakeOpenAI({ apiKey: 'sk-restart' });
});
afterAll(async () => {
  await stop();
  await fake?.close();
  await keyed?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('evaluation runs across restarts', () => {
  it('resumes a run after a restart without re-running answered cases; a keyed run waits for its key', async () => {
    let api = await start();
    await pushModel(api, 'acme/bot', '1.0.0');
    const n = 30;
    await pushSuite(api, 'slow-suite', '1.0.0', jsonl(Array.from({ length: n }, (_, i) => ({ id: `s${i}`, input: `restart ${i} [[slow:80]] ANSWER: r${i}`, expected: `r${i}` }))), { metrics: [{ metric: 'exact_match' }] });
    const run = await startRun(api, { suite: 'slow-suite', model: 'acme/bot:1.0.0', endpoint: { url: fake.url }, concurrency: 2 });
    const before = await waitRun(api, run.id, (r) => r.done >= 6);
    await stop();

    api = await start();
    const after = await waitRun(api, run.id);
    expect(after.state, after.error ?? '').toBe('succeeded');
    expect(after).toMatchObject({ done: n, failed: 0 });
    expect(after.summary!.metrics[0]!.value).toBe(1);
    expect(before.done).toBeGreaterThanOrEqual(6);
    const sent = fake.received().filter((q) => JSON.stringify(q.body).includes('restart '));
    // At most the two requests in flight at the stop were asked again.
    expect(sent.length).toBeGreaterThanOrEqual(n);
    expect(sent.length).toBeLessThanOrEqual(n + 2);

    // A run with an API key: after a restart the key is gone, so the run waits for it.
    const keyedRun = await startRun(api, { suite: 'slow-suite', model: 'acme/bot:1.0.0', endpoint: { url: keyed.url, apiKey: 'sk-restart' }, concurrency: 2 });
    await waitRun(api, keyedRun.id, (r) => r.done >= 4);
    await stop();
    api = await start();
    const waiting = await waitRun(api, keyedRun.id, (r) => r.state === 'interrupted', 15_000);
    expect(waiting.error).toMatch(/needs its endpoint API key again/);
    const done = waiting.done;
    expect(done).toBeGreaterThanOrEqual(4);
    // Resumed with the key, it finishes from where it stopped.
    expect(expectBody(await api.post(`/api/v1/evals/runs/${keyedRun.id}/resume`, { apiKey: 'sk-restart' }), 200, RunResponse).state).toBe('queued');
    const finished = await waitRun(api, keyedRun.id);
    expect(finished.state, finished.error ?? '').toBe('succeeded');
    expect(finished.done).toBe(n);
    expect(keyed.received().every((q) => q.headers.authorization === 'Bearer sk-restart')).toBe(true);
    expectError(await api.post(`/api/v1/evals/runs/${keyedRun.id}/resume`, {}), 409, 'conflict');
    expect(fs.readFileSync(path.join(dataDir, 'steward.db')).includes('sk-restart')).toBe(false);
  });
});

/**
 * The SDK's prompt cache against a real server: a moved label reaches the application after the
 * TTL (stale first, then fresh, one background request), and when the server is stopped the
 * application keeps getting and rendering its prompts from the stale entries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StewardApiError, StewardClient } from '../src/sdk/client.js';
import { PromptCache } from '../src/sdk/prompt-cache.js';
import { PromptsClient } from '../src/sdk/prompts-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer | null;
let client: StewardClient;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  server = await startTestServer('sqlite-fs');
  client = new StewardClient({ url: server.url, token: server.token });
});
afterAll(async () => {
  await server?.stop();
});

describe('PromptCache with a real server', () => {
  it('follows a label move after the TTL, then keeps serving while the server is down', async () => {
    const prompts = new PromptsClient(client);
    await prompts.push('app/greeting', '1.0.0', { template: { type: 'text', text: 'Hello {{name}}' } }, { label: 'production' });
    await prompts.push('app/greeting', '2.0.0', { template: { type: 'text', text: 'Welcome back, {{name}}' } });

    const refreshErrors: string[] = [];
    let requests = 0;
    const counting = new StewardClient({ url: server!.url, token: server!.token, fetch: (input, init) => (requests++, fetch(input, init)) });
    const cache = new PromptCache({ source: counting, ttlMs: 200, retryMs: 50, onRefreshError: (e) => refreshErrors.push((e as StewardApiError).code) });

    const first = await cache.getPrompt('app/greeting');
    expect([first.version, first.labels, first.isFallback]).toEqual(['1.0.0', ['production'], false]);
    expect(first.compile({ name: 'Ann' }).text).toBe('Hello Ann');
    for (let i = 0; i < 100; i++) await cache.getPrompt('app/greeting');
    expect(requests).toBe(1);

    await prompts.setLabel('app/greeting', 'production', '2.0.0');
    await sleep(250);
    expect((await cache.getPrompt('app/greeting')).version).toBe('1.0.0'); // stale, answered at once
    for (let i = 0; i < 50 && (await cache.getPrompt('app/greeting')).version !== '2.0.0'; i++) await sleep(10);
    const moved = await cache.getPrompt('app/greeting');
    expect(moved.version).toBe('2.0.0');
    expect(moved.compile({ name: 'Bo' }).text).toBe('Welcome back, Bo');
    expect(requests).toBe(2);

    await server!.stop();
    server = null;
    await sleep(250);
    for (let i = 0; i < 5; i++) {
      const p = await cache.getPrompt('app/greeting');
      expect([p.version, p.compile({ name: 'Cy' }).text]).toEqual(['2.0.0', 'Welcome back, Cy']);
      await sleep(60);
    }
    expect(refreshErrors.length).toBeGreaterThanOrEqual(2);
    expect(new Set(refreshErrors)).toEqual(new Set(['network']));

    // A prompt never fetched: the caller's fallback keeps the application starting; without one, the error.
    const fb = await cache.getPrompt('app/other', { fallback: { template: { type: 'text', text: 'Hi {{name}}' } } });
    expect([fb.isFallback, fb.compile({ name: 'Di' }).text]).toEqual([true, 'Hi Di']);
    await expect(cache.getPrompt('app/other')).rejects.toMatchObject({ code: 'network' });
  });
});

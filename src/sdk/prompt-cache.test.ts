import { describe, expect, it } from 'vitest';
import { PromptSpec } from '../contracts/prompts.js';
import { StewardApiError } from './client.js';
import { PromptCache } from './prompt-cache.js';
import type { PromptVersion } from './prompts-client.js';

/** A controllable server: versions by label, a switch to make it unreachable, a call log. */
function fakeSource() {
  const calls: string[] = [];
  const state = { down: false, version: '1.0.0', text: 'Hi {{name}}', pending: [] as (() => void)[], hold: false, gone: false };
  const source = async (name: string, ref: string | undefined): Promise<PromptVersion> => {
    calls.push(`${name}@${ref ?? '(default)'}`);
    if (state.hold) await new Promise<void>((r) => state.pending.push(r));
    if (state.down) throw new StewardApiError(0, 'network', 'cannot reach Steward');
    if (state.gone) throw new StewardApiError(404, 'not_found', 'no such label', { ref });
    const spec = PromptSpec.parse({ template: { type: 'text', text: state.text } });
    return { name, version: state.version, digest: `sha256:${state.version}:${state.text}`, state: 'ready', labels: ref ? [ref] : [], spec };
  };
  return { source, calls, state, release: () => state.pending.splice(0).forEach((r) => r()) };
}
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('PromptCache', () => {
  it('answers hits from memory with the same settled promise, without calling the server', async () => {
    const s = fakeSource();
    let now = 0;
    const cache = new PromptCache({ source: s.source, ttlMs: 1000, now: () => now });
    const first = await cache.getPrompt('greet', { label: 'production' });
    now = 999;
    const p1 = cache.getPrompt('greet', { label: 'production' });
    const p2 = cache.getPrompt('greet', { label: 'production' });
    expect(p1).toBe(p2);
    expect(await p1).toBe(first);
    expect(s.calls).toEqual(['greet@production']);
    expect(first.compile({ name: 'Ann' })).toEqual({ messages: [{ role: 'user', content: 'Hi Ann' }], text: 'Hi Ann' });
  });

  it('serves a stale entry at once and refreshes it once in the background', async () => {
    const s = fakeSource();
    let now = 0;
    const cache = new PromptCache({ source: s.source, ttlMs: 1000, now: () => now });
    await cache.getPrompt('greet', { label: 'production' });
    s.state.version = '1.1.0';
    s.state.text = 'Hello {{name}}';
    s.state.hold = true;
    now = 1500;
    const stale = await Promise.all([1, 2, 3].map(() => cache.getPrompt('greet', { label: 'production' })));
    expect(stale.map((p) => p.version)).toEqual(['1.0.0', '1.0.0', '1.0.0']);
    expect(s.calls).toEqual(['greet@production', 'greet@production']); // one refresh for three stale hits
    s.release();
    await flush();
    const fresh = await cache.getPrompt('greet', { label: 'production' });
    expect(fresh.version).toBe('1.1.0');
    expect(fresh.compile({ name: 'Bo' }).text).toBe('Hello Bo');
    expect(s.calls).toHaveLength(2);
  });

  it('keeps serving the stale entry while the server is unreachable, retrying every retryMs', async () => {
    const s = fakeSource();
    const errors: string[] = [];
    let now = 0;
    const cache = new PromptCache({ source: s.source, ttlMs: 1000, retryMs: 5000, now: () => now, onRefreshError: (e) => errors.push((e as StewardApiError).code) });
    await cache.getPrompt('greet');
    s.state.down = true;
    now = 2000;
    expect((await cache.getPrompt('greet')).version).toBe('1.0.0');
    await flush();
    expect(errors).toEqual(['network']);
    now = 3000; // within retryMs: no new attempt
    expect((await cache.getPrompt('greet')).version).toBe('1.0.0');
    await flush();
    expect(s.calls).toHaveLength(2);
    now = 7001;
    s.state.down = false;
    s.state.version = '2.0.0';
    await cache.getPrompt('greet');
    await flush();
    expect(s.calls).toHaveLength(3);
    expect((await cache.getPrompt('greet')).version).toBe('2.0.0');
  });

  it('drops an entry whose label is gone instead of serving it forever', async () => {
    const s = fakeSource();
    let now = 0;
    const cache = new PromptCache({ source: s.source, ttlMs: 10, now: () => now });
    await cache.getPrompt('greet', { label: 'staging' });
    s.state.gone = true;
    now = 20;
    await cache.getPrompt('greet', { label: 'staging' });
    await flush();
    await expect(cache.getPrompt('greet', { label: 'staging' })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('never refreshes a fixed version, and shares one fetch between concurrent misses', async () => {
    const s = fakeSource();
    let now = 0;
    const cache = new PromptCache({ source: s.source, ttlMs: 10, now: () => now });
    const [a, b] = await Promise.all([cache.getPrompt('greet', { version: '1.0.0' }), cache.getPrompt('greet', { version: '1.0.0' })]);
    expect(a).toBe(b);
    now = 1e9;
    await cache.getPrompt('greet', { version: '1.0.0' });
    expect(s.calls).toEqual(['greet@1.0.0']);
  });

  it('uses the fallback only when the server is unreachable, and does not cache it', async () => {
    const s = fakeSource();
    s.state.down = true;
    const cache = new PromptCache({ source: s.source });
    const fb = await cache.getPrompt('greet', { fallback: { template: { type: 'text', text: 'Hey {{name}}' } } });
    expect(fb).toMatchObject({ isFallback: true, version: 'fallback' });
    expect(fb.compile({ name: 'X' }).text).toBe('Hey X');
    await expect(cache.getPrompt('greet')).rejects.toMatchObject({ code: 'network' });
    s.state.down = false;
    s.state.gone = true;
    await expect(cache.getPrompt('greet', { fallback: { template: { type: 'text', text: 'x' } } })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('renders locally with the server engine errors, and stays within maxEntries', async () => {
    const s = fakeSource();
    const cache = new PromptCache({ source: s.source, maxEntries: 2 });
    const p = await cache.getPrompt('a');
    expect(() => p.compile({ nmae: 'x' })).toThrow('cannot render: missing required variable(s) name; unknown variable(s) nmae (did you mean name?)');
    await cache.getPrompt('b');
    await cache.getPrompt('c');
    expect(cache.size).toBe(2);
    await cache.getPrompt('a');
    expect(s.calls.filter((c) => c.startsWith('a@'))).toHaveLength(2);
    cache.invalidate();
    expect(cache.size).toBe(0);
  });
});

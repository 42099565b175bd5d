/**
 * The event log over HTTP: what a gateway replica or a webhook sender reads. Registry changes
 * appear in order with their payloads, a long poll returns as soon as one commits, a token
 * limited to a namespace sees only its namespace (and its cursor still moves on), and bad
 * filters are refused.
 */
import { describe, expect, it } from 'vitest';
import { AliasResponse, VersionResponse } from '../src/contracts/assets.js';
import { CreatedTokenResponse } from '../src/contracts/auth.js';
import { EventPage } from '../src/contracts/events.js';
import { jsonl, pushModel, pushSuite, startRun, waitRun } from './helpers/evals-fixtures.js';
import { startFakeOpenAI } from './helpers/fake-openai.js';
import { BACKENDS } from './helpers/test-server.js';
import { blob, createModel, expectBody, expectError, pushVersion, serveSuite, uid, versionPath, modelPath, type Api } from './helpers/test-api.js';

describe.each(BACKENDS)('events API on %s', (backend) => {
  let api: Api;
  serveSuite(backend, (_s, a) => (api = a));
  const head = async () => expectBody(await api.get('/api/v1/events?after=0&limit=1000'), 200, EventPage).next;

  it('lists registry changes in order with typed payloads', async () => {
    const after = await head();
    const name = `ev-${uid()}`;
    await createModel(api, name);
    await pushVersion(api, name, '1.0.0', { w: blob(`weights ${name}`) });
    expectBody(await api.put(`${modelPath(name)}/aliases/champion`, { version: '1.0.0' }), 200, AliasResponse);
    expectBody(await api.patch(versionPath(name, '1.0.0'), { state: 'deprecated' }), 200, VersionResponse);
    const page = expectBody(await api.get(`/api/v1/events?after=${after}`), 200, EventPage);
    // (A ready model version also enters development by itself: environment.moved and promotion.changed, asynchronously.)
    const mine = page.items.filter((e) => e.subject.startsWith(`model:${name}`) && !e.type.startsWith('environment.'));
    expect(mine.map((e) => e.type)).toEqual(['version.ready', 'alias.moved', 'version.state.changed']);
    expect(mine[0]!.data).toMatchObject({ kind: 'model', name, version: '1.0.0' });
    expect(mine[1]!.data).toEqual({ kind: 'model', name, alias: 'champion', version: '1.0.0', previous: null });
    expect(mine[2]!.data).toMatchObject({ from: 'ready', to: 'deprecated' });
    const seqs = page.items.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(page.next).toBe(seqs[seqs.length - 1]);
    const filtered = expectBody(await api.get(`/api/v1/events?after=${after}&types=alias.*`), 200, EventPage);
    expect(filtered.items.every((e) => e.type === 'alias.moved')).toBe(true);
    expect(filtered.next).toBeGreaterThanOrEqual(page.next);
  });

  it('answers a long poll as soon as an event commits', async () => {
    const after = await head();
    const name = `lp-${uid()}`;
    await createModel(api, name);
    const started = Date.now();
    const waiting = api.get(`/api/v1/events?after=${after}&wait=20`);
    await pushVersion(api, name, '1.0.0', { w: blob(`lp ${name}`) });
    const page = expectBody(await waiting, 200, EventPage);
    expect(page.items.some((e) => e.subject === `model:${name}@1.0.0`)).toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('shows a namespace-limited token only its namespace, and moves its cursor past the rest', async () => {
    const team = `t${uid()}`;
    const { token } = expectBody(await api.post('/api/v1/tokens', { name: `viewer-${team}`, role: 'viewer', namespaces: [team] }), 201, CreatedTokenResponse);
    const after = await head();
    await createModel(api, `${team}/bot`);
    await pushVersion(api, `${team}/bot`, '1.0.0', { w: blob(`ns ${team}`) });
    await createModel(api, `other-${team}/bot`);
    await pushVersion(api, `other-${team}/bot`, '1.0.0', { w: blob(`other ${team}`) });
    const all = await head();
    const page = expectBody(await api.get(`/api/v1/events?after=${after}&types=version.*`, { token }), 200, EventPage);
    expect(page.items.map((e) => e.subject)).toEqual([`model:${team}/bot@1.0.0`]);
    // Later events (the automatic entry into development) may have moved it further.
    expect(page.next).toBeGreaterThanOrEqual(all);
    const every = expectBody(await api.get(`/api/v1/events?after=${after}`, { token }), 200, EventPage);
    expect(every.items.every((e) => e.namespace === team)).toBe(true);
  });

  it('records a finished evaluation run with its verdict', async () => {
    const fake = await startFakeOpenAI();
    try {
      const after = await head();
      const model = `evm-${uid()}`;
      const suite = `evs-${uid()}`;
      await pushModel(api, model, '1.0.0');
      await pushSuite(api, suite, '1.0.0', jsonl([{ id: 'a', input: 'say hi', expected: 'hi' }]), { metrics: [{ metric: 'exact_match' }] });
      const run = await waitRun(api, (await startRun(api, { suite: `${suite}:1.0.0`, model: `${model}:1.0.0`, endpoint: { url: fake.url } })).id);
      const page = expectBody(await api.get(`/api/v1/events?after=${after}&types=eval.run.finished&wait=10`), 200, EventPage);
      expect(page.items.map((e) => e.data)).toEqual([
        { runId: run.id, model: { name: model, version: '1.0.0' }, suite: { name: suite, version: '1.0.0' }, state: run.state, passed: run.summary?.passed ?? null },
      ]);
    } finally {
      await fake.close();
    }
  });

  it('refuses unknown event types, bad cursors and callers without a token', async () => {
    const err = expectError(await api.get('/api/v1/events?types=version.raedy'), 400, 'invalid_argument');
    expect(err.message).toContain('version.ready');
    expectError(await api.get('/api/v1/events?after=-1'), 400, 'invalid_argument');
    expectError(await api.get('/api/v1/events?wait=600'), 400, 'invalid_argument');
    expectError(await api.get('/api/v1/events', { token: null }), 401, 'unauthenticated');
  });
});

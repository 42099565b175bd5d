/**
 * Environments and promotions over HTTP, on both backends: the seed's default policies, the
 * automatic entry into development, validation against real evaluation runs (a fake
 * OpenAI-compatible endpoint answers), approvals, expiry, rollback to the last known-good
 * version, holds on archiving, reserved alias names, and every bad input of the issue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditPage } from '../src/contracts/audit.js';
import { EventPage } from '../src/contracts/events.js';
import { EnvironmentList, EnvironmentResponse, PointerHistory, PointerList, PointerMove, PromotionPage, PromotionResponse, type EnvironmentPolicyInput } from '../src/contracts/promotions.js';
import { AliasResponse, VersionResponse } from '../src/contracts/assets.js';
import { StewardClient } from '../src/sdk/client.js';
import { jsonl, pushModel, pushSuite, startRun, waitRun } from './helpers/evals-fixtures.js';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.js';
import { apiClient, expectBody, expectError, uid, versionPath, type Api } from './helpers/test-api.js';
import { BACKENDS, startTestServer, type TestServer } from './helpers/test-server.js';

const qa = (n: number, wrong: readonly number[] = []) =>
  jsonl(Array.from({ length: n }, (_, i) => ({ id: `q${i}`, input: `Question ${i}? ANSWER: ${wrong.includes(i) ? 'Lyon' : `Paris ${i}`}`, expected: `Paris ${i}` })));

describe.each(BACKENDS)('environments and promotions on %s', (backend) => {
  let server: TestServer;
  let api: Api;
  let fake: FakeOpenAI;
  const tokens: Record<string, string> = {};
  const as = (who: string): Api => apiClient({ url: server.url, token: tokens[who]! });
  beforeAll(async () => {
    server = await startTestServer(backend, { jobPollIntervalMs: 50, eventPollMs: 20 });
    api = apiClient(server);
    fake = await startFakeOpenAI();
    const admin = new StewardClient({ url: server.url, token: server.token });
    for (const [name, role, namespaces] of [
      ['dev', 'developer'],
      ['dev2', 'developer'],
      ['approver', 'approver'],
      ['approver2', 'approver'],
      ['viewer', 'viewer'],
      ['teamb-approver', 'approver', ['teamb']],
      ['teamb-admin', 'admin', ['teamb']],
    ] as [string, 'developer', string[]?][]) {
      tokens[name] = (await admin.createToken({ name: `${name}-${uid()}`, role, ...(namespaces ? { namespaces } : {}) })).token;
    }
  });
  afterAll(async () => {
    await server?.stop();
    await fake?.close();
  });

  const promote = async (who: Api, model: string, to: string) => who.post('/api/v1/promotions', { model, to });
  const pointer = async (model: string, env: string) =>
    expectBody(await api.get(`/api/v1/pointers?model=${encodeURIComponent(model)}&environment=${env}`), 200, PointerList).items[0]?.version ?? null;
  /** A custom environment for one test, so tests do not share policies. */
  const env = async (policy: EnvironmentPolicyInput, name = `e${uid()}`) => {
    expectBody(await api.put(`/api/v1/environments/${name}`, policy), 200, EnvironmentResponse);
    return name;
  };
  /** Waits until the pointer reaches `version` (automatic promotions run as jobs). */
  const waitPointer = async (model: string, envName: string, version: string) => {
    const end = Date.now() + 10_000;
    while ((await pointer(model, envName)) !== version) {
      expect(Date.now(), `${model} never reached ${envName} at ${version}`).toBeLessThan(end);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const evaluate = async (model: string, version: string, wrong: number[] = []) => {
    const suite = `qa-${uid()}`;
    await pushSuite(api, suite, '1.0.0', qa(10, wrong), { metrics: [{ metric: 'exact_match' }], thresholds: [{ metric: 'exact_match', op: '>=', value: 0.5 }] });
    const run = await waitRun(api, (await startRun(api, { suite: `${suite}:1.0.0`, model: `${model}:${version}`, endpoint: { url: fake.url } })).id);
    expect(run.state, run.error ?? '').toBe('succeeded');
    return run;
  };

  it("environments default to the seed's policies; only admins edit them, and bad policies are refused", async () => {
    const list = expectBody(await as('viewer').get('/api/v1/environments'), 200, EnvironmentList);
    const byName = Object.fromEntries(list.items.filter((e) => e.namespace === null).map((e) => [e.name, e.policy]));
    expect(byName.development).toMatchObject({ autoPromote: true, validation: { required: false }, deploy: { replicas: 1 } });
    expect(byName.staging).toMatchObject({ validation: { required: true, minScore: 0.8 }, deploy: { replicas: 2 }, approvals: { count: 0 } });
    expect(byName.production).toMatchObject({ requiredSource: 'staging', validation: { required: true, minScore: 0.9 }, approvals: { count: 1, role: 'approver' }, deploy: { replicas: 3 } });
    expect(list.items.filter((e) => e.namespace === null).map((e) => e.name).slice(0, 3)).toEqual(['development', 'staging', 'production']);

    expectError(await as('dev').put('/api/v1/environments/canary', {}), 403, 'permission_denied');
    expectError(await api.put('/api/v1/environments/qa', { approvals: { count: -1 } }), 400, 'invalid_argument');
    expectError(await api.put('/api/v1/environments/qa', { gates: ['exact_match >> 2'] }), 400, 'invalid_argument');
    expectError(await api.put('/api/v1/environments/qa', { requiredSource: 'nowhere' }), 400, 'invalid_argument');
    expectError(await api.put('/api/v1/environments/Bad_Name', {}), 400, 'invalid_argument');
    expectError(await api.get('/api/v1/environments/nowhere'), 404, 'not_found');
    // A namespace-limited admin edits only its team's override.
    expectError(await as('teamb-admin').put('/api/v1/environments/staging', { approvals: { count: 2 } }), 403, 'permission_denied');
    const override = expectBody(await as('teamb-admin').put('/api/v1/environments/staging?namespace=teamb', { approvals: { count: 2 }, validation: { required: false } }), 200, EnvironmentResponse);
    expect(override).toMatchObject({ name: 'staging', namespace: 'teamb', policy: { approvals: { count: 2 } } });
    const audit = expectBody(await api.get('/api/v1/audit?action=environment.*'), 200, AuditPage);
    expect(audit.items.some((e) => e.target === 'environment:teamb/staging')).toBe(true);
  });

  it('a ready version enters development by itself; an environment is no alias; staging needs validation', async () => {
    const model = `acme-${uid()}/bot`;
    await pushModel(api, model, '1.0.0');
    await waitPointer(model, 'development', '1.0.0');
    const alias = expectError(await api.put(`/api/v1/models/${encodeURIComponent(model)}/aliases/production`, { version: '1.0.0' }), 412, 'failed_precondition');
    expect(alias.message).toContain('steward promote');

    // No evaluation: validation fails, the request is rejected with the reason and stored.
    const rejected = expectBody(await promote(as('dev'), `${model}:1.0.0`, 'staging'), 201, PromotionResponse);
    expect(rejected).toMatchObject({ state: 'rejected', to: 'staging', requestedBy: expect.stringContaining('dev-') as string });
    expect(rejected.gates[0]).toMatchObject({ name: 'validation', status: 'failed' });
    expect(rejected.reason).toContain('no succeeded evaluation run');
    expect(await pointer(model, 'staging')).toBeNull();

    // A failing score (0.7 < 0.8) is rejected too, with the evidence.
    const weak = await evaluate(model, '1.0.0', [1, 2, 3]);
    const low = expectBody(await promote(as('dev'), `${model}:1.0.0`, 'staging'), 201, PromotionResponse);
    expect(low.state).toBe('rejected');
    expect(low.reason).toContain('exact_match = 0.7');
    expect(JSON.stringify(low.gates[0]!.evidence)).toContain(weak.id);

    await pushModel(api, model, '1.1.0');
    const good = await evaluate(model, '1.1.0');
    const ok = expectBody(await promote(as('dev'), `${model}:1.1.0`, 'staging'), 201, PromotionResponse);
    expect(ok).toMatchObject({ state: 'completed', gates: [{ name: 'validation', status: 'passed' }] });
    expect(JSON.stringify(ok.gates[0]!.evidence)).toContain(good.id);
    expect(await pointer(model, 'staging')).toBe('1.1.0');

    // Every model's pointers in one environment (the UI's environment pages and filters); a
    // namespace-limited token must name a model.
    const inStaging = expectBody(await api.get('/api/v1/pointers?environment=staging'), 200, PointerList).items;
    expect(inStaging.filter((p) => p.model === model)).toEqual([expect.objectContaining({ environment: 'staging', version: '1.1.0' })]);
    expect(inStaging.every((p) => p.environment === 'staging')).toBe(true);
    expect(expectBody(await api.get('/api/v1/pointers'), 200, PointerList).items.filter((p) => p.model === model).map((p) => p.environment)).toEqual(['development', 'staging']);
    expectError(await as('teamb-admin').get('/api/v1/pointers?environment=staging'), 403, 'permission_denied');

    const doc = (await api.get(versionPath(model, '1.1.0'))).body as { environments: { current: { environment: string }[] } };
    expect(doc.environments.current.map((e) => e.environment).sort()).toEqual(['development', 'staging']);
    const events = expectBody(await api.get('/api/v1/events?types=environment.moved&limit=1000'), 200, EventPage);
    expect(events.items.map((e) => e.data).filter((d) => d.model === model)).toEqual(
      expect.arrayContaining([expect.objectContaining({ environment: 'staging', version: '1.1.0', previous: null, kind: 'promotion', promotion: ok.id })]),
    );
  });

  it('production: only from staging, one approval by someone else, once; rejection and expiry are final', async () => {
    const model = `acme-${uid()}/bot`;
    await pushModel(api, model, '1.0.0');
    await evaluate(model, '1.0.0');
    // Skipping staging is refused before anything is recorded.
    const skip = expectError(await promote(as('dev'), `${model}:1.0.0`, 'production'), 412, 'failed_precondition');
    expect(skip.message).toContain('promote it there first');
    expectBody(await promote(as('dev'), `${model}:1.0.0`, 'staging'), 201, PromotionResponse);

    const req = expectBody(await promote(as('dev'), `${model}:1.0.0`, 'production'), 201, PromotionResponse);
    expect(req).toMatchObject({ state: 'pending', from: 'staging', approvals: { required: 1, role: 'approver', decisions: [] } });
    expect(req.expiresAt).not.toBeNull();
    const inbox = expectBody(await as('approver').get('/api/v1/promotions?state=pending&environment=production'), 200, PromotionPage);
    expect(inbox.items.map((p) => p.id)).toContain(req.id);
    // The requester (any role) cannot approve; a developer has no approve permission; a limited approver cannot act on another team.
    expect(expectError(await promote(api, `${model}:1.0.0`, 'production'), 409, 'conflict').message).toContain(req.id);
    expectError(await as('dev').post(`/api/v1/promotions/${req.id}/approve`, {}), 403, 'permission_denied');
    expectError(await as('teamb-approver').post(`/api/v1/promotions/${req.id}/approve`, {}), 403, 'permission_denied');
    expectError(await as('approver').post(`/api/v1/promotions/${req.id}/reject`, {}), 400, 'invalid_argument');

    const done = expectBody(await as('approver').post(`/api/v1/promotions/${req.id}/approve`, { comment: 'lgtm' }), 200, PromotionResponse);
    expect(done).toMatchObject({ state: 'completed', approvals: { decisions: [{ decision: 'approve', comment: 'lgtm' }] } });
    expect(await pointer(model, 'production')).toBe('1.0.0');
    expectError(await as('approver').post(`/api/v1/promotions/${req.id}/approve`, {}), 409, 'conflict');

    // Rejected, then approve → 409.
    await pushModel(api, model, '1.1.0');
    await evaluate(model, '1.1.0');
    expectBody(await promote(as('dev'), `${model}:1.1.0`, 'staging'), 201, PromotionResponse);
    const second = expectBody(await promote(as('dev'), `${model}:1.1.0`, 'production'), 201, PromotionResponse);
    const rej = expectBody(await as('approver').post(`/api/v1/promotions/${second.id}/reject`, { comment: 'not on a Friday' }), 200, PromotionResponse);
    expect(rej).toMatchObject({ state: 'rejected', reason: expect.stringContaining('not on a Friday') as string });
    expectError(await as('approver2').post(`/api/v1/promotions/${second.id}/approve`, {}), 409, 'conflict');
    expect(await pointer(model, 'production')).toBe('1.0.0');

    const audit = expectBody(await api.get(`/api/v1/audit?target=promotion:${req.id}`), 200, AuditPage);
    expect(audit.items.map((e) => e.action).sort()).toEqual(['promotion.approve', 'promotion.await', 'promotion.complete', 'promotion.request']);
  });

  it('two approvals from two approvers; a request waiting past its timeout expires; cancel by the requester', async () => {
    const model = `acme-${uid()}/bot`;
    await pushModel(api, model, '1.0.0');
    const two = await env({ approvals: { count: 2 } });
    const req = expectBody(await promote(as('dev'), `${model}:1.0.0`, two), 201, PromotionResponse);
    expect(req.state).toBe('pending');
    expect(expectBody(await as('approver').post(`/api/v1/promotions/${req.id}/approve`, {}), 200, PromotionResponse).state).toBe('pending');
    expectError(await as('approver').post(`/api/v1/promotions/${req.id}/approve`, {}), 409, 'conflict');
    expect(expectBody(await api.post(`/api/v1/promotions/${req.id}/approve`, {}), 200, PromotionResponse).state).toBe('completed');

    const quick = await env({ approvals: { count: 1 }, approvalTimeout: 1 });
    const exp = expectBody(await promote(as('dev'), `${model}:1.0.0`, quick), 201, PromotionResponse);
    const end = Date.now() + 15_000;
    let state = exp.state;
    while (state !== 'expired' && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
      state = expectBody(await api.get(`/api/v1/promotions/${exp.id}`), 200, PromotionResponse).state;
    }
    expect(state).toBe('expired');
    expectError(await as('approver').post(`/api/v1/promotions/${exp.id}/approve`, {}), 409, 'conflict');

    const own = await env({ approvals: { count: 1 } });
    const mine = expectBody(await promote(api, `${model}:1.0.0`, own), 201, PromotionResponse);
    expect(expectError(await api.post(`/api/v1/promotions/${mine.id}/approve`, {}), 403, 'permission_denied').message).toContain('another approver');
    const slow = await env({ approvals: { count: 1 } });
    const c = expectBody(await promote(as('dev'), `${model}:1.0.0`, slow), 201, PromotionResponse);
    expectError(await as('dev2').post(`/api/v1/promotions/${c.id}/cancel`), 403, 'permission_denied');
    expect(expectBody(await as('dev').post(`/api/v1/promotions/${c.id}/cancel`), 200, PromotionResponse).state).toBe('cancelled');
  });

  it('bad requests: unknown environment or version, pending, deprecated and archived versions, an erroring gate fails closed', async () => {
    const model = `acme-${uid()}/bot`;
    await pushModel(api, model, '1.0.0');
    const free = await env({});
    expectError(await promote(as('dev'), `${model}:1.0.0`, 'prodution'), 404, 'not_found');
    expectError(await promote(as('dev'), `${model}:9.9.9`, free), 404, 'not_found');
    expectError(await promote(as('dev'), model, free), 400, 'invalid_argument');
    expectError(await as('viewer').post('/api/v1/promotions', { model: `${model}:1.0.0`, to: free }), 403, 'permission_denied');
    const pending = (await api.post(`/api/v1/models/${encodeURIComponent(model)}/versions`, { version: '2.0.0', files: [{ path: 'w.bin', size: 3, sha256: 'a'.repeat(64) }] })).status;
    expect(pending).toBe(201);
    expectError(await promote(as('dev'), `${model}:2.0.0`, free), 412, 'failed_precondition');
    await pushModel(api, model, '1.1.0');
    expectBody(await api.patch(versionPath(model, '1.1.0'), { state: 'deprecated' }), 200, VersionResponse);
    expectError(await promote(as('dev'), `${model}:1.1.0`, free), 412, 'failed_precondition');
    await pushModel(api, model, '1.2.0');
    expectBody(await api.patch(versionPath(model, '1.2.0'), { state: 'archived' }), 200, VersionResponse);
    expectError(await promote(as('dev'), `${model}:1.2.0`, free), 412, 'failed_precondition');

    const broken = await env({ gates: ['exact_match no-regression nowhere'] });
    const failed = expectBody(await promote(as('dev'), `${model}:1.0.0`, broken), 201, PromotionResponse);
    expect(failed.state).toBe('failed');
    expect(failed.gates.some((g) => g.status === 'error')).toBe(true);
    expect(failed.reason).toContain('nowhere');
    const live = await env({ live: { required: true, criteria: ['error_rate < 0.05'] } });
    const blocked = expectBody(await promote(as('dev'), `${model}:1.0.0`, live), 201, PromotionResponse);
    expect(blocked).toMatchObject({ state: 'rejected', gates: [{ name: 'live', status: 'inconclusive' }] });
    expect(await pointer(model, broken)).toBeNull();
  });

  it('deleting or archiving a version development runs takes it out of development; other environments hold it', async () => {
    const model = `acme-${uid()}/bot`;
    await pushModel(api, model, '1.0.0');
    await pushModel(api, model, '1.1.0');
    await waitPointer(model, 'development', '1.1.0');
    const free = await env({});
    expectBody(await promote(as('dev'), `${model}:1.0.0`, free), 201, PromotionResponse);
    expect(expectError(await api.del(versionPath(model, '1.0.0')), 409, 'conflict').details).toMatchObject({ blockers: [{ reason: 'environment', refs: [free] }] });
    expect((await api.del(versionPath(model, '1.1.0'))).status).toBe(200);
    expect(await pointer(model, 'development')).toBeNull();
    const hist = expectBody(await api.get(`/api/v1/pointers/history?model=${encodeURIComponent(model)}&environment=development`), 200, PointerHistory);
    expect(hist.items[0]).toMatchObject({ kind: 'removal', version: null, previous: '1.1.0', reason: 'version deleted' });
    // Archiving is the same: development lets go, any other environment holds.
    await pushModel(api, model, '1.2.0');
    await waitPointer(model, 'development', '1.2.0');
    expectBody(await api.patch(versionPath(model, '1.2.0'), { state: 'archived' }), 200, VersionResponse);
    expect(await pointer(model, 'development')).toBeNull();
    const after = expectBody(await api.get(`/api/v1/pointers/history?model=${encodeURIComponent(model)}&environment=development`), 200, PointerHistory);
    expect(after.items[0]).toMatchObject({ kind: 'removal', version: null, previous: '1.2.0', reason: 'version archived' });
    expectError(await api.patch(versionPath(model, '1.0.0'), { state: 'archived' }), 412, 'failed_precondition');
    const audit = expectBody(await api.get(`/api/v1/audit?action=model.environment.removal&target=model:${model}`), 200, AuditPage);
    expect(audit.items).toHaveLength(2);
  });

  it('rollback figure: median of 21 rollbacks beside 21 alias moves on the same server', async () => {
    const model = `acme-${uid()}/bot`;
    const e = await env({});
    for (const v of ['1.0.0', '1.1.0']) {
      await pushModel(api, model, v);
      expectBody(await promote(as('dev'), `${model}:${v}`, e), 201, PromotionResponse);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    const rollback: number[] = [];
    const alias: number[] = [];
    for (let i = 0; i < 21; i++) {
      const to = i % 2 === 0 ? '1.0.0' : '1.1.0';
      let t = performance.now();
      expectBody(await as('dev').post(`/api/v1/environments/${e}/rollback`, { model, to }), 200, PointerMove);
      rollback.push(performance.now() - t);
      t = performance.now();
      expectBody(await as('dev').put(`/api/v1/models/${encodeURIComponent(model)}/aliases/champion`, { version: to }), 200, AliasResponse);
      alias.push(performance.now() - t);
    }
    const [r, a] = [median(rollback), median(alias)];
    console.log(`[${backend}] rollback median ${r.toFixed(1)} ms (max ${Math.max(...rollback).toFixed(1)}); alias move median ${a.toFixed(1)} ms; rollback/alias ${(r / a).toFixed(2)}×`);
    expect(r).toBeLessThan(1000);
  });

  it('two concurrent promotions to one environment: one is open, the other refused naming it', async () => {
    const model = `acme-${uid()}/bot`;
    await pushModel(api, model, '1.0.0');
    await pushModel(api, model, '1.1.0');
    const gated = await env({ approvals: { count: 1 } });
    const [a, b] = await Promise.all([promote(as('dev'), `${model}:1.0.0`, gated), promote(as('dev2'), `${model}:1.1.0`, gated)]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([201, 409]);
    const loser = a.status === 409 ? a : b;
    const winner = expectBody(a.status === 201 ? a : b, 201, PromotionResponse);
    expect(expectError(loser, 409, 'conflict').message).toContain(winner.id);
  });

  it('rollback returns to the last known-good version in well under a second, audited, skipping gates', async () => {
    const model = `acme-${uid()}/bot`;
    const e = await env({});
    for (const v of ['1.0.0', '1.1.0', '1.2.0']) {
      await pushModel(api, model, v);
      expect(expectBody(await promote(as('dev'), `${model}:${v}`, e), 201, PromotionResponse).state).toBe('completed');
    }
    expectError(await as('dev').post(`/api/v1/environments/${e}/rollback`, { model: `acme-${uid()}/none` }), 412, 'failed_precondition');
    // The figure of the issue: from the request to the pointer moved and the event delivered to a
    // reader already waiting on the events endpoint (as a gateway will).
    let after = 0;
    for (;;) {
      const page = expectBody(await api.get(`/api/v1/events?after=${after}&limit=1000`), 200, EventPage);
      if (!page.items.length) break;
      after = page.next;
    }
    const t0 = performance.now();
    // Automatic promotions to development of the versions pushed above may still be arriving: read past them.
    const delivered = (async () => {
      for (;;) {
        const page = expectBody(await api.get(`/api/v1/events?after=${after}&types=environment.moved&wait=10`), 200, EventPage);
        const mine = page.items.filter((x) => x.data.environment === e);
        if (mine.length) return { page: { ...page, items: mine }, at: performance.now() };
        after = page.next;
      }
    })();
    const back = expectBody(await as('dev').post(`/api/v1/environments/${e}/rollback`, { model, reason: 'p95 doubled' }), 200, PointerMove);
    const moved = performance.now() - t0;
    const { page, at } = await delivered;
    expect(back).toMatchObject({ version: '1.1.0', previous: '1.2.0', kind: 'rollback', reason: 'p95 doubled', promotion: null });
    expect(page.items[0]?.data).toMatchObject({ model, environment: e, version: '1.1.0', kind: 'rollback' });
    console.log(`[${backend}] rollback: pointer moved in ${moved.toFixed(1)} ms, event delivered to a waiting reader in ${(at - t0).toFixed(1)} ms (one, the first)`);
    expect(at - t0).toBeLessThan(1000);
    // 1.2.0 was rolled back away from: the next rollback goes to 1.0.0, never back to 1.2.0.
    expect(expectBody(await as('dev').post(`/api/v1/environments/${e}/rollback`, { model }), 200, PointerMove).version).toBe('1.0.0');
    expectError(await as('dev').post(`/api/v1/environments/${e}/rollback`, { model }), 412, 'failed_precondition');
    expectError(await as('dev').post(`/api/v1/environments/${e}/rollback`, { model, to: '9.9.9' }), 404, 'not_found');
    await pushModel(api, model, '2.0.0');
    expectError(await as('dev').post(`/api/v1/environments/${e}/rollback`, { model, to: '2.0.0' }), 412, 'failed_precondition');
    expect(expectBody(await as('dev').post(`/api/v1/environments/${e}/rollback`, { model, to: '1.2.0', reason: 'fixed upstream' }), 200, PointerMove).version).toBe('1.2.0');
    const hist = expectBody(await api.get(`/api/v1/pointers/history?model=${encodeURIComponent(model)}&environment=${e}`), 200, PointerHistory);
    expect(hist.items.map((m) => [m.kind, m.version, m.previous])).toEqual([
      ['rollback', '1.2.0', '1.0.0'],
      ['rollback', '1.0.0', '1.1.0'],
      ['rollback', '1.1.0', '1.2.0'],
      ['promotion', '1.2.0', '1.1.0'],
      ['promotion', '1.1.0', '1.0.0'],
      ['promotion', '1.0.0', null],
    ]);
    // A version an environment points at cannot be archived.
    const held = expectError(await api.patch(versionPath(model, '1.2.0'), { state: 'archived' }), 412, 'failed_precondition');
    expect(held.message).toContain(`environment ${e}`);
    // Nor deleted: the refusal names the environment; a version no environment runs can go.
    const kept = expectError(await api.del(versionPath(model, '1.2.0')), 409, 'conflict');
    expect(kept.details).toMatchObject({ blockers: [{ version: '1.2.0', reason: 'environment', refs: [e] }] });
    expect((await api.del(versionPath(model, '1.0.0'))).status).toBe(200);
    const audit = expectBody(await api.get(`/api/v1/audit?action=model.environment.rollback&target=model:${model}`), 200, AuditPage);
    expect(audit.items).toHaveLength(3);
    expect(audit.items.map((x) => (x.change as { reason?: string }).reason)).toContain('p95 doubled');
  });
});

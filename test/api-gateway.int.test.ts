/**
 * The gateway's control-plane side over HTTP, on both backends: keys (secret shown once, only its
 * hash kept, confined to a limited token's namespaces), traffic splits and their validation, the
 * route-table snapshot (compiled from pointers, deployments, splits and keys; long poll), the
 * `gateway` role (snapshot and usage, nothing else), and usage batches (idempotent, aggregated).
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditPage } from '../src/contracts/audit.js';
import { CreatedTokenResponse } from '../src/contracts/auth.js';
import { DeploymentResponse } from '../src/contracts/deployments.js';
import { CreatedKeyResponse, GatewayModelResponse, GatewaySnapshot, KeyPage, KeyResponse, TrafficResponse, UsageIngestResponse, UsageReport, type UsageRecord } from '../src/contracts/gateway.js';
import { pushModel } from './helpers/evals-fixtures.js';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.js';
import { rawSql } from './helpers/raw-sql.js';
import { apiClient, enc, expectBody, expectError, uid, type Api } from './helpers/test-api.js';
import { BACKENDS, startTestServer, type TestServer } from './helpers/test-server.js';

describe.each(BACKENDS)('gateway control plane on %s', (backend) => {
  let server: TestServer;
  let api: Api;
  let fake: FakeOpenAI;
  const tokenOf = async (name: string, role: string, namespaces?: string[]) =>
    expectBody(await api.post('/api/v1/tokens', { name, role, ...(namespaces ? { namespaces } : {}) }), 201, CreatedTokenResponse).token;
  let gatewayToken: string;
  const made: string[] = [];

  beforeAll(async () => {
    server = await startTestServer(backend, { jobPollIntervalMs: 50, eventPollMs: 20, deploymentReconcileMs: 100 });
    api = apiClient(server);
    fake = await startFakeOpenAI({ apiKey: 'sk-upstream-secret' });
    gatewayToken = await tokenOf('gw-1', 'gateway');
  });
  afterAll(async () => {
    for (const id of made) await api.post(`/api/v1/deployments/${id}/stop`);
    await server?.stop();
    await fake?.close();
  });

  const snapshot = async (query = '') => expectBody(await api.get(`/api/v1/gateway/snapshot${query}`, { token: gatewayToken }), 200, GatewaySnapshot);
  const createKey = async (body: Record<string, unknown>, token?: string) =>
    expectBody(await api.post('/api/v1/keys', body, token ? { token } : {}), 201, CreatedKeyResponse);
  async function waitDeployment(id: string, until: (d: DeploymentResponse) => boolean): Promise<DeploymentResponse> {
    const end = Date.now() + 20_000;
    for (;;) {
      const d = expectBody(await api.get(`/api/v1/deployments/${id}`), 200, DeploymentResponse);
      if (until(d)) return d;
      if (Date.now() > end) throw new Error(`deployment ${id} stuck: ${JSON.stringify(d)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  async function externalDeployment(model: string, environment: string, extra: Record<string, unknown> = {}) {
    const d = expectBody(
      await api.post('/api/v1/deployments', { model, environment, driver: 'external', endpoint: { url: fake.url, apiKey: 'sk-upstream-secret', ...extra } }),
      201,
      DeploymentResponse,
    );
    made.push(d.id);
    return waitDeployment(d.id, (x) => x.state === 'ready');
  }

  describe('keys', () => {
    it('shows the secret once and keeps only its sha256', async () => {
      const k = await createKey({ name: 'app-1', namespace: 'team-a', models: ['team-a/*'], rpm: 60, tpm: 10_000, budgetUsd: 5, expiresIn: '30d' });
      expect(k.key).toMatch(/^sk-stw-[A-Za-z0-9_-]{43}$/);
      expect(k).toMatchObject({ name: 'app-1', namespace: 'team-a', models: ['team-a/*'], defaultEnvironment: 'production', rpm: 60, tpm: 10_000, budgetUsd: 5, spentUsd: 0, revokedAt: null });
      expect(k.id).toMatch(/^key_/);
      expect(k.key.startsWith(k.prefix)).toBe(true);
      const again = expectBody(await api.get(`/api/v1/keys/${k.id}`), 200, KeyResponse);
      const { key: _secret, ...shown } = k;
      expect(again).toEqual(shown);
      const list = expectBody(await api.get('/api/v1/keys'), 200, KeyPage);
      expect(list.items.map((x) => x.id)).toContain(k.id);
      const audit = await api.get(`/api/v1/audit?target=gateway-key:${k.id}`);
      expect(AuditPage.parse(audit.body).items.map((e) => e.action)).toEqual(['gateway.key.create']);
      const hash = createHash('sha256').update(k.key).digest('hex');
      for (const body of [list, again, audit.body]) {
        expect(JSON.stringify(body)).not.toContain(k.key);
        expect(JSON.stringify(body)).not.toContain(hash);
      }
      const db = await rawSql(server.config);
      try {
        const rows = await db.rows<Record<string, unknown>>('select * from gateway_keys where id = $1', [k.id]);
        expect(rows).toHaveLength(1);
        expect(rows[0]!.hash).toBe(hash);
        expect(JSON.stringify(rows)).not.toContain(k.key);
      } finally {
        await db.close();
      }
    });

    it('refuses bad input with a clear 400 and writes nothing', async () => {
      const before = expectBody(await api.get('/api/v1/keys?limit=1000'), 200, KeyPage).items.length;
      for (const body of [{}, { name: 'has space' }, { name: '' }, { name: 'x'.repeat(65) }, { name: 'ok', models: ['bad pattern!'] }, { name: 'ok', rpm: 0 }, { name: 'ok', budgetUsd: -1 }, { name: 'ok', expiresIn: '0d' }, { name: 'ok', extra: 1 }]) {
        expectError(await api.post('/api/v1/keys', body), 400, 'invalid_argument');
      }
      const env = expectError(await api.post('/api/v1/keys', { name: 'ok', defaultEnvironment: 'nowhere' }), 400, 'invalid_argument');
      expect(env.message).toMatch(/nowhere.*known: .*development.*production.*staging/);
      expect(env.details).toMatchObject({ known: expect.arrayContaining(['development', 'staging', 'production']) });
      expect(expectBody(await api.get('/api/v1/keys?limit=1000'), 200, KeyPage).items.length).toBe(before);
    });

    it('revokes once: a second revocation is a 409; an unknown key is a 404', async () => {
      const k = await createKey({ name: 'short' });
      const revoked = expectBody(await api.post(`/api/v1/keys/${k.id}/revoke`), 200, KeyResponse);
      expect(revoked.revokedAt).not.toBeNull();
      expectError(await api.post(`/api/v1/keys/${k.id}/revoke`), 409, 'conflict');
      expectError(await api.post('/api/v1/keys/key_nope/revoke'), 404, 'not_found');
      const live = expectBody(await api.get('/api/v1/keys?revoked=false&limit=1000'), 200, KeyPage);
      expect(live.items.map((x) => x.id)).not.toContain(k.id);
      const audit = AuditPage.parse((await api.get(`/api/v1/audit?target=gateway-key:${k.id}`)).body);
      expect(audit.items.map((e) => e.action).sort()).toEqual(['gateway.key.create', 'gateway.key.revoke']);
    });

    it('confines a namespace-limited admin token to keys of its namespaces', async () => {
      const limited = await tokenOf(`ns-admin-${uid()}`, 'admin', ['team-a']);
      const own = await createKey({ name: 'a-app', namespace: 'team-a' }, limited);
      expectError(await api.post('/api/v1/keys', { name: 'b-app', namespace: 'team-b' }, { token: limited }), 403, 'permission_denied');
      expectError(await api.post('/api/v1/keys', { name: 'no-ns' }, { token: limited }), 403, 'permission_denied');
      const foreign = await createKey({ name: 'b-app', namespace: 'team-b' });
      const seen = expectBody(await api.get('/api/v1/keys?limit=1000', { token: limited }), 200, KeyPage).items;
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((x) => x.namespace === 'team-a')).toBe(true);
      expectError(await api.get(`/api/v1/keys/${foreign.id}`, { token: limited }), 404, 'not_found');
      expectError(await api.post(`/api/v1/keys/${foreign.id}/revoke`, undefined, { token: limited }), 404, 'not_found');
      expect(expectBody(await api.post(`/api/v1/keys/${own.id}/revoke`, undefined, { token: limited }), 200, KeyResponse).revokedAt).not.toBeNull();
      const developer = await tokenOf(`dev-${uid()}`, 'developer');
      expectError(await api.post('/api/v1/keys', { name: 'x' }, { token: developer }), 403, 'permission_denied');
    });
  });

  describe('snapshot', () => {
    it('answers 204 when nothing changed within the wait, and returns as soon as an event arrives', async () => {
      const s = await snapshot();
      const idle = await api.get(`/api/v1/gateway/snapshot?after=${s.version}&wait=1`, { token: gatewayToken });
      expect(idle.status).toBe(204);
      const waiting = api.get(`/api/v1/gateway/snapshot?after=${s.version}&wait=30`, { token: gatewayToken });
      const k = await createKey({ name: `poll-${uid()}` });
      const next = expectBody(await waiting, 200, GatewaySnapshot);
      expect(next.version).toBeGreaterThan(s.version);
      expect(next.keys.map((x) => x.id)).toContain(k.id);
      expectError(await api.get('/api/v1/gateway/snapshot?wait=61', { token: gatewayToken }), 400, 'invalid_argument');
    });

    it('compiles pointers, deployments with their ready targets, splits, settings and live keys', async () => {
      const model = `snap-${uid()}/bot`;
      await pushModel(api, model, '1.0.0');
      const env = `gw-${uid()}`;
      expect((await api.put(`/api/v1/environments/${env}`, {})).status).toBe(200);
      expect((await api.post('/api/v1/promotions', { model: `${model}:1.0.0`, to: env })).status).toBe(201);
      const d = await externalDeployment(`${model}:1.0.0`, env, { model: 'served-name' });
      expect(d.endpoint).toEqual({ url: fake.url, auth: true, model: 'served-name' });
      expect(d.pricing).toBeNull();
      const priced = expectBody(
        await api.post('/api/v1/deployments', { model: `${model}:1.0.0`, environment: env, driver: 'external', endpoint: { url: fake.url, apiKey: 'sk-upstream-secret' }, pricing: { inputPerMTok: 1, outputPerMTok: 2 } }),
        201,
        DeploymentResponse,
      );
      made.push(priced.id);
      expect(priced.pricing).toEqual({ inputPerMTok: 1, outputPerMTok: 2 });
      await waitDeployment(priced.id, (x) => x.state === 'ready');
      expectBody(await api.put(`/api/v1/gateway/models/${enc(model)}`, { cache: { ttlSeconds: 60, maxEntries: 100 } }), 200, GatewayModelResponse);
      expectBody(await api.put(`/api/v1/traffic/${enc(model)}/${env}`, { arms: [{ deployment: d.id, weight: 9 }, { deployment: priced.id, weight: 1 }], sticky: 'key' }), 200, TrafficResponse);
      const k = await createKey({ name: `snap-${uid()}`, namespace: model.split('/')[0], defaultEnvironment: env, budgetUsd: 1 });
      const expired = await createKey({ name: `soon-${uid()}`, expiresIn: '1s' });

      const s = await snapshot();
      expect(s.models.find((m) => m.name === model)).toEqual({ name: model, namespace: model.split('/')[0], environments: { [env]: '1.0.0', development: '1.0.0' }, cache: { ttlSeconds: 60, maxEntries: 100 } });
      expect(s.deployments.find((x) => x.id === d.id)).toEqual({
        id: d.id,
        model,
        version: '1.0.0',
        environment: env,
        upstreamModel: 'served-name',
        apiKey: 'sk-upstream-secret',
        pricing: null,
        targets: [{ baseUrl: fake.url, replica: 0, version: '1.0.0' }],
      });
      expect(s.deployments.find((x) => x.id === priced.id)).toMatchObject({ upstreamModel: model, pricing: { inputPerMTok: 1, outputPerMTok: 2 } });
      expect(s.traffic.find((t) => t.model === model)).toEqual({ model, environment: env, arms: [{ deployment: d.id, weight: 9 }, { deployment: priced.id, weight: 1 }], sticky: 'key', shadow: null, fallbacks: [] });
      expect(s.keys.find((x) => x.id === k.id)).toEqual({
        id: k.id,
        hash: createHash('sha256').update(k.key).digest('hex'),
        namespace: model.split('/')[0],
        models: null,
        defaultEnvironment: env,
        rpm: null,
        tpm: null,
        budgetUsd: 1,
        spentUsd: 0,
        expiresAt: k.expiresAt,
      });

      // A revoked key disappears; so does an expired one; a stopped deployment too.
      expectBody(await api.post(`/api/v1/keys/${k.id}/revoke`), 200, KeyResponse);
      expect((await api.post(`/api/v1/deployments/${priced.id}/stop`)).status).toBe(200);
      await waitDeployment(priced.id, (x) => x.state === 'stopped');
      await new Promise((r) => setTimeout(r, 1100)); // the 1 s key's lifetime
      const after = await snapshot(`?after=${s.version}`);
      expect(after.version).toBeGreaterThan(s.version);
      expect(after.keys.map((x) => x.id)).not.toContain(k.id);
      expect(after.keys.map((x) => x.id)).not.toContain(expired.id);
      expect(after.deployments.map((x) => x.id)).toContain(d.id);
      expect(after.deployments.map((x) => x.id)).not.toContain(priced.id);
    });

    it('lets the gateway role read the snapshot and post usage, and nothing else', async () => {
      expect((await api.get('/api/v1/gateway/snapshot', { token: gatewayToken })).status).toBe(200);
      expect(expectBody(await api.post('/api/v1/gateway/usage', { gateway: `gw-${uid()}`, batch: 0, records: [] }, { token: gatewayToken }), 200, UsageIngestResponse)).toEqual({ accepted: 0, duplicate: false });
      for (const [method, path] of [['GET', '/api/v1/models'], ['GET', '/api/v1/keys'], ['POST', '/api/v1/keys'], ['GET', '/api/v1/usage'], ['GET', '/api/v1/events'], ['GET', '/api/v1/deployments']] as const) {
        expectError(await api.call(method, path, { token: gatewayToken, ...(method === 'POST' ? { json: { name: 'x' } } : {}) }), 403, 'permission_denied');
      }
      const viewer = await tokenOf(`viewer-${uid()}`, 'viewer');
      expectError(await api.get('/api/v1/gateway/snapshot', { token: viewer }), 403, 'permission_denied');
      expectError(await api.post('/api/v1/gateway/usage', { gateway: 'g', batch: 0, records: [] }, { token: viewer }), 403, 'permission_denied');
    });
  });

  describe('traffic', () => {
    it('refuses unknown, foreign, stopped deployments (412) and all-zero weights (400)', async () => {
      const model = `tr-${uid()}/bot`;
      const other = `tr-${uid()}/other`;
      await pushModel(api, model, '1.0.0');
      await pushModel(api, other, '1.0.0');
      const mine = await externalDeployment(`${model}:1.0.0`, 'development');
      const theirs = await externalDeployment(`${other}:1.0.0`, 'development');
      const path = `/api/v1/traffic/${enc(model)}/development`;
      expect(expectError(await api.put(path, { arms: [{ deployment: 'dep_nope', weight: 1 }] }), 412, 'failed_precondition').message).toContain('dep_nope');
      expect(expectError(await api.put(path, { arms: [{ deployment: mine.id, weight: 1 }, { deployment: theirs.id, weight: 1 }] }), 412, 'failed_precondition').message).toContain(theirs.id);
      expect(expectError(await api.put(path, { arms: [{ deployment: mine.id, weight: 1 }], shadow: { deployment: theirs.id, percent: 10 } }), 412, 'failed_precondition').message).toContain(theirs.id);
      expectError(await api.put(path, { arms: [{ deployment: mine.id, weight: 0 }] }), 400, 'invalid_argument');
      expectError(await api.put(path, { arms: [] }), 400, 'invalid_argument');
      expectError(await api.put(path, { arms: [{ deployment: mine.id, weight: 1 }], sticky: 'cookie' }), 400, 'invalid_argument');
      expectError(await api.put(path, { arms: [{ deployment: mine.id, weight: 1 }, { deployment: mine.id, weight: 2 }] }), 400, 'invalid_argument');
      expectError(await api.put(`/api/v1/traffic/${enc(model)}/nowhere`, { arms: [{ deployment: mine.id, weight: 1 }] }), 400, 'invalid_argument');
      expectError(await api.put(`/api/v1/traffic/${enc('bad name!')}/development`, { arms: [{ deployment: mine.id, weight: 1 }] }), 400, 'invalid_argument');
      expect((await api.post(`/api/v1/deployments/${theirs.id}/stop`)).status).toBe(200);
      await waitDeployment(theirs.id, (x) => x.state === 'stopped');
      expect(expectError(await api.put(`/api/v1/traffic/${enc(other)}/development`, { arms: [{ deployment: theirs.id, weight: 1 }] }), 412, 'failed_precondition').message).toMatch(/stopped/);
      expectError(await api.get(path), 404, 'not_found');
      expect(AuditPage.parse((await api.get(`/api/v1/audit?target=traffic:*`)).body).items.filter((e) => e.target.startsWith(`traffic:${model}`))).toEqual([]);
    });

    it('sets, reads and clears a split, audited and seen by the snapshot', async () => {
      const model = `tr-${uid()}/bot`;
      await pushModel(api, model, '1.0.0');
      const a = await externalDeployment(`${model}:1.0.0`, 'development');
      const b = await externalDeployment(`${model}:1.0.0`, 'development');
      const path = `/api/v1/traffic/${enc(model)}/development`;
      const body = { arms: [{ deployment: a.id, weight: 90 }, { deployment: b.id, weight: 10 }], sticky: 'header:x-user-id', shadow: { deployment: b.id, percent: 5 }, fallbacks: ['other-model'] };
      const set = expectBody(await api.put(path, body), 200, TrafficResponse);
      expect(set).toMatchObject({ ...body, model, environment: 'development', updatedBy: expect.any(String) });
      expect(expectBody(await api.get(path), 200, TrafficResponse)).toEqual(set);
      expect((await snapshot()).traffic.find((t) => t.model === model)).toEqual({ model, environment: 'development', ...body });
      expect((await api.del(path)).status).toBe(204);
      expectError(await api.get(path), 404, 'not_found');
      expectError(await api.del(path), 404, 'not_found');
      expect((await snapshot()).traffic.find((t) => t.model === model)).toBeUndefined();
      const audit = AuditPage.parse((await api.get(`/api/v1/audit?target=${encodeURIComponent(`traffic:${model}:development`)}&order=asc`)).body);
      expect(audit.items.map((e) => e.action)).toEqual(['gateway.traffic.set', 'gateway.traffic.clear']);
      // A limited token may not touch another namespace's splits (refused before any lookup).
      const limited = await tokenOf(`lim-${uid()}`, 'developer', ['elsewhere']);
      expectError(await api.put(path, body, { token: limited }), 403, 'permission_denied');
    });
  });

  describe('usage', () => {
    const rec = (over: Partial<UsageRecord>): UsageRecord => ({
      at: new Date().toISOString(),
      keyId: null,
      namespace: 'team-u',
      model: 'team-u/bot',
      version: '1.0.0',
      deployment: 'dep_a',
      environment: 'production',
      endpoint: 'chat',
      status: 200,
      stream: false,
      shadow: false,
      cached: false,
      latencyMs: 10,
      ttftMs: null,
      inputTokens: 100,
      outputTokens: 50,
      costUsd: 0.25,
      upstreamErrors: 0,
      ...over,
    });

    it('stores a batch once, adds spend to keys, and aggregates by every grouping', async () => {
      const k1 = await createKey({ name: 'u1', namespace: 'team-u' });
      const k2 = await createKey({ name: 'u2', namespace: 'team-v' });
      const gw = `gw-${uid()}`;
      const records = [
        rec({ keyId: k1.id }),
        rec({ keyId: k1.id, version: '2.0.0', deployment: 'dep_b', status: 500, latencyMs: 30, ttftMs: 5, costUsd: 0.5 }),
        rec({ keyId: k2.id, namespace: 'team-v', model: 'team-v/chat', environment: 'staging', endpoint: 'embeddings', inputTokens: 10, outputTokens: 0, costUsd: 1 }),
      ];
      const batch = { gateway: gw, batch: 1, records };
      expect(expectBody(await api.post('/api/v1/gateway/usage', batch, { token: gatewayToken }), 200, UsageIngestResponse)).toEqual({ accepted: 3, duplicate: false });
      expect(expectBody(await api.post('/api/v1/gateway/usage', batch, { token: gatewayToken }), 200, UsageIngestResponse)).toEqual({ accepted: 0, duplicate: true });
      expect(expectBody(await api.get(`/api/v1/keys/${k1.id}`), 200, KeyResponse).spentUsd).toBeCloseTo(0.75, 10);
      expect(expectBody(await api.get(`/api/v1/keys/${k2.id}`), 200, KeyResponse).spentUsd).toBeCloseTo(1, 10);
      expect((await snapshot()).keys.find((x) => x.id === k1.id)?.spentUsd).toBeCloseTo(0.75, 10);

      const report = async (q: string, token?: string) => expectBody(await api.get(`/api/v1/usage?${q}`, token ? { token } : {}), 200, UsageReport);
      const byModel = await report(`groupBy=model&key=${k1.id}`);
      expect(byModel).toEqual({ groupBy: 'model', items: [{ group: 'team-u/bot', requests: 2, errors: 1, inputTokens: 200, outputTokens: 100, costUsd: 0.75, latencyMsAvg: 20, ttftMsAvg: 5 }] });
      const byVersion = await report('groupBy=version&model=team-u/bot');
      expect(byVersion.items.map((r) => [r.group, r.requests, r.costUsd])).toEqual([
        ['team-u/bot@2.0.0', 1, 0.5],
        ['team-u/bot@1.0.0', 1, 0.25],
      ]);
      const byKey = await report('groupBy=key&namespace=team-u');
      expect(byKey.items.map((r) => [r.group, r.requests])).toEqual([[k1.id, 2]]);
      const ns = (await report('groupBy=namespace')).items.filter((r) => r.group === 'team-u' || r.group === 'team-v');
      expect(ns.map((r) => [r.group, r.requests, r.inputTokens])).toEqual([
        ['team-v', 1, 10],
        ['team-u', 2, 200],
      ]);
      expect((await report(`groupBy=deployment&key=${k1.id}`)).items.map((r) => r.group).sort()).toEqual(['dep_a', 'dep_b']);
      expect((await report(`groupBy=environment&key=${k2.id}`)).items.map((r) => [r.group, r.requests])).toEqual([['staging', 1]]);
      expect((await report(`groupBy=model&key=${k1.id}&since=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`)).items).toEqual([]);
      // A limited token sees its namespaces' usage only.
      const limited = await tokenOf(`u-${uid()}`, 'viewer', ['team-v']);
      expect((await report('groupBy=namespace', limited)).items.map((r) => r.group)).toEqual(['team-v']);
      expectError(await api.get('/api/v1/usage?groupBy=colour'), 400, 'invalid_argument');
      expectError(await api.get('/api/v1/usage?since=yesterday'), 400, 'invalid_argument');
    });

    it('counts a batch sent several times at once exactly once', async () => {
      const k = await createKey({ name: 'u4' });
      const batch = { gateway: `gw-${uid()}`, batch: 3, records: [rec({ keyId: k.id }), rec({ keyId: k.id })] };
      const answers = await Promise.all(Array.from({ length: 6 }, () => api.post('/api/v1/gateway/usage', batch, { token: gatewayToken })));
      const bodies = answers.map((a) => expectBody(a, 200, UsageIngestResponse));
      expect(bodies.filter((b) => !b.duplicate)).toEqual([{ accepted: 2, duplicate: false }]);
      expect(expectBody(await api.get(`/api/v1/keys/${k.id}`), 200, KeyResponse).spentUsd).toBeCloseTo(0.5, 10);
      expect((await api.get(`/api/v1/usage?groupBy=key&key=${k.id}`)).body).toMatchObject({ items: [{ group: k.id, requests: 2 }] });
    });

    it('refuses a bad batch whole: nothing stored, the batch may be sent again', async () => {
      const k = await createKey({ name: 'u3' });
      const gw = `gw-${uid()}`;
      const bad = { gateway: gw, batch: 7, records: [rec({ keyId: k.id }), rec({ keyId: k.id, at: 'not a time' })] };
      expectError(await api.post('/api/v1/gateway/usage', bad, { token: gatewayToken }), 400, 'invalid_argument');
      expectError(await api.post('/api/v1/gateway/usage', { gateway: gw, batch: 7, records: [{ ...rec({}), status: 'ok' }] }, { token: gatewayToken }), 400, 'invalid_argument');
      expectError(await api.post('/api/v1/gateway/usage', { gateway: gw, batch: -1, records: [] }, { token: gatewayToken }), 400, 'invalid_argument');
      expect(expectBody(await api.get(`/api/v1/keys/${k.id}`), 200, KeyResponse).spentUsd).toBe(0);
      const good = { gateway: gw, batch: 7, records: [rec({ keyId: k.id })] };
      expect(expectBody(await api.post('/api/v1/gateway/usage', good, { token: gatewayToken }), 200, UsageIngestResponse)).toEqual({ accepted: 1, duplicate: false });
      expect(expectBody(await api.get(`/api/v1/keys/${k.id}`), 200, KeyResponse).spentUsd).toBeCloseTo(0.25, 10);
    });
  });
});

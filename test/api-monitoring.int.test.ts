/**
 * Monitoring over HTTP, on both backends, with usage batches sent to the ingest endpoint as a
 * gateway sends them and the server's clock moved by the test: minute series with gaps as zeros
 * (a replayed batch counted once), the /metrics export, feedback, drift and its event, the live
 * gate of a promotion (pass, fail, inconclusive), SLO burn-rate alerts firing and resolving, and
 * downsampling with retention.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditPage } from '../src/contracts/audit.js';
import { CreatedTokenResponse } from '../src/contracts/auth.js';
import { EventPage } from '../src/contracts/events.js';
import { JobPage } from '../src/contracts/jobs.js';
import { UsageIngestResponse, UsageReport, type UsageRecord } from '../src/contracts/gateway.js';
import { DriftResponse, FeedbackResponse, FeedbackSummary, MetricsResponse, SloList, SloResponse } from '../src/contracts/monitoring.js';
import { EnvironmentResponse, PromotionResponse } from '../src/contracts/promotions.js';
import { pushModel } from './helpers/evals-fixtures.js';
import { apiClient, enc, expectBody, expectError, uid, type Api } from './helpers/test-api.js';
import { BACKENDS, startTestServer, type TestServer } from './helpers/test-server.js';

const MIN = 60_000;

describe.each(BACKENDS)('monitoring on %s', (backend) => {
  let server: TestServer;
  let api: Api;
  // The server's clock: minute-aligned, moved forward by the tests.
  let now = Date.parse('2027-01-04T00:00:00.000Z');
  const at = (offsetMs = 0) => new Date(now + offsetMs).toISOString();
  let batch = 0;

  beforeAll(async () => {
    server = await startTestServer(
      backend,
      { jobPollIntervalMs: 50, eventPollMs: 20, monitoringEvaluateMs: 100, monitoringDriftMs: 100, monitoringCompactMs: 100, monitoringMinRequests: 20 },
      { clock: { now: () => new Date(now) } },
    );
    api = apiClient(server);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const record = (model: string, over: Partial<UsageRecord> = {}): UsageRecord => ({
    upstreamErrors: 0,
    at: at(),
    keyId: null,
    namespace: model.split('/')[0]!,
    model,
    version: '1.0.0',
    deployment: 'dep_1',
    environment: 'production',
    endpoint: 'chat',
    status: 200,
    stream: false,
    shadow: false,
    cached: false,
    latencyMs: 100,
    ttftMs: null,
    inputTokens: 100,
    outputTokens: 20,
    costUsd: 0.001,
    ...over,
  });
  const many = (n: number, make: (i: number) => UsageRecord) => Array.from({ length: n }, (_, i) => make(i));
  const ingest = async (records: UsageRecord[], id = ++batch) => expectBody(await api.post('/api/v1/gateway/usage', { gateway: 'gw-test', batch: id, records }), 200, UsageIngestResponse);
  const metrics = async (query: string) => expectBody(await api.get(`/api/v1/metrics?${query}`), 200, MetricsResponse);
  const events = async (types: string, subject?: string) =>
    expectBody(await api.get(`/api/v1/events?types=${types}&limit=1000`), 200, EventPage).items.filter((e) => subject === undefined || e.subject === subject);
  async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('answers a minute series with every bucket, a minute without traffic as zero; a replayed batch counts once', async () => {
    const model = `acme/m${uid()}`;
    const first = many(10, () => record(model, { at: at(30_000), ttftMs: 50, stream: true }));
    const id = ++batch;
    await ingest(first, id);
    await ingest(many(5, (i) => record(model, { at: at(2 * MIN + 10_000), status: i < 2 ? 502 : 200, latencyMs: 3000 })));
    expect(await ingest(first, id)).toEqual({ accepted: 0, duplicate: true });

    const m = await metrics(`model=${enc(model)}&environment=production&since=${at()}&until=${at(4 * MIN)}&step=1m`);
    expect(m.step).toBe(60);
    expect(m.points.map((p) => [p.at, p.requests])).toEqual([
      [at(0), 10],
      [at(MIN), 0],
      [at(2 * MIN), 5],
      [at(3 * MIN), 0],
    ]);
    const [p0, gap, p2] = m.points;
    expect(p0).toMatchObject({ errorRate: 0, inputTokens: 1000, outputTokens: 200, ttftMs: { p50: expect.any(Number) } });
    expect(p0!.latencyMs.p95).toBeGreaterThan(50);
    expect(p0!.latencyMs.p95).toBeLessThanOrEqual(250);
    expect(gap).toMatchObject({ requests: 0, errorRate: null, latencyMs: { p50: null, p95: null, p99: null, avg: null }, inputTokens: 0, costUsd: 0 });
    expect(p2).toMatchObject({ requests: 5, errors: { upstream: 2, server: 0, client: 0 }, errorRate: 0.4 });
    expect(p2!.latencyMs.p50).toBeGreaterThan(2500);
    expect(m.totals).toMatchObject({ requests: 15, inputTokens: 1500, errors: { upstream: 2 } });
    // Filters by version and shadow; another version has nothing.
    expect((await metrics(`model=${enc(model)}&version=2.0.0&since=${at()}&until=${at(4 * MIN)}`)).totals.requests).toBe(0);
    expect((await metrics(`model=${enc(model)}&shadow=true&since=${at()}&until=${at(4 * MIN)}`)).totals.requests).toBe(0);
  });

  it('adds concurrent batches into the same rollup rows exactly', async () => {
    const model = `acme/c${uid()}`;
    const keys = ['key_a', 'key_b', 'key_c'];
    // Each batch touches the same rows in a different order: on PostgreSQL they lock in key order.
    await Promise.all(
      Array.from({ length: 12 }, (_, b) => ingest(many(60, (i) => record(model, { at: at(20_000), keyId: keys[(i + b) % 3]!, version: i % 2 ? '1.0.0' : '2.0.0' })))),
    );
    const m = await metrics(`model=${enc(model)}&since=${at()}&until=${at(MIN)}&step=1m`);
    expect(m.totals.requests).toBe(720);
    expect((await metrics(`model=${enc(model)}&key=key_b&version=2.0.0&since=${at()}&until=${at(MIN)}`)).totals.requests).toBe(120);
  });

  it('refuses bad queries with a clear 400, and other namespaces with a 403', async () => {
    for (const q of ['', 'model=acme/x&step=90s', 'model=acme/x&step=7m&since=30d', 'model=acme/x&since=yesterday', 'model=acme/x&since=1h&until=2h', 'model=acme/x&step=1m&since=3d', 'model=acme/x&bogus=1']) {
      expectError(await api.get(`/api/v1/metrics?${q}`), 400, 'invalid_argument');
    }
    const limited = expectBody(await api.post('/api/v1/tokens', { name: `ns-${uid()}`, role: 'viewer', namespaces: ['other'] }), 201, CreatedTokenResponse).token;
    expectError(await api.get('/api/v1/metrics?model=acme/x', { token: limited }), 403, 'permission_denied');
  });

  it('exports the last complete minute on /metrics', async () => {
    const model = `acme/x${uid()}`;
    await ingest(many(7, (i) => record(model, { at: at(10_000), version: '3.1.0', status: i === 0 ? 500 : 200 })));
    now += MIN;
    const text = (await api.get('/metrics', { token: null })).body as string;
    const labels = `model="${model}",environment="production",version="3.1.0"`;
    expect(text).toContain(`steward_model_requests{${labels}} 7`);
    expect(text).toMatch(new RegExp(`steward_model_error_rate\\{${labels.replace(/[.]/g, '\\.')}\\} 0\\.142857`));
    expect(text).toContain(`steward_model_latency_p95_ms{${labels}}`);
    now += MIN;
  });

  it('takes feedback on a request by its id, aggregates it per version, and audits it', async () => {
    const model = `acme/f${uid()}`;
    const rid = `req-${uid()}`;
    await ingest([record(model, { requestId: rid, version: '1.0.0' }), record(model, { requestId: `${rid}-2`, version: '2.0.0' })]);
    const fb = expectBody(await api.post('/api/v1/feedback', { requestId: rid, thumbs: 'up', score: 0.8, comment: 'good' }), 201, FeedbackResponse);
    expect(fb).toMatchObject({ requestId: rid, model, version: '1.0.0', environment: 'production', thumbs: 'up', score: 0.8 });
    expectBody(await api.post('/api/v1/feedback', { requestId: rid, thumbs: 'down' }), 201, FeedbackResponse);
    expectBody(await api.post('/api/v1/feedback', { requestId: `${rid}-2`, score: 0.2 }), 201, FeedbackResponse);
    expectError(await api.post('/api/v1/feedback', { requestId: 'nope', thumbs: 'up' }), 404, 'not_found');
    for (const body of [{ requestId: rid, score: 1.5 }, { requestId: rid }, { requestId: rid, thumbs: 'sideways' }, { thumbs: 'up' }]) {
      expectError(await api.post('/api/v1/feedback', body), 400, 'invalid_argument');
    }
    const sum = expectBody(await api.get(`/api/v1/feedback/summary?model=${enc(model)}`), 200, FeedbackSummary);
    expect(sum.items).toEqual([
      { version: '1.0.0', count: 2, up: 1, down: 1, scored: 1, scoreAvg: 0.8, comments: 1 },
      { version: '2.0.0', count: 1, up: 0, down: 0, scored: 1, scoreAvg: 0.2, comments: 0 },
    ]);
    const audit = AuditPage.parse((await api.get(`/api/v1/audit?target=request:${rid}`)).body);
    expect(audit.items.map((e) => e.action)).toEqual(['feedback.create', 'feedback.create']);
  });

  it('measures drift against the first day and emits monitoring.drift.detected once', async () => {
    const model = `acme/d${uid()}`;
    const q = `model=${enc(model)}&environment=production`;
    await ingest(many(100, (i) => record(model, { inputTokens: 80 + (i % 40), outputTokens: 20, refusal: false })));
    const early = expectBody(await api.get(`/api/v1/drift?${q}`), 200, DriftResponse);
    expect(early.metrics.find((m) => m.name === 'input_tokens')).toMatchObject({ psi: 0, level: 'ok' });
    now += 2 * 86_400_000;
    await ingest(many(100, (i) => record(model, { at: at(-3600_000), inputTokens: 3000 + i, outputTokens: 20, refusal: i < 30 })));
    const d = expectBody(await api.get(`/api/v1/drift?${q}`), 200, DriftResponse);
    expect(d.baseline.requests).toBe(100);
    expect(d.window.requests).toBe(100);
    expect(d.level).toBe('alert');
    const byName = Object.fromEntries(d.metrics.map((m) => [m.name, m]));
    expect(byName.input_tokens!.psi).toBeGreaterThan(0.25);
    expect(byName.output_tokens).toMatchObject({ psi: 0, level: 'ok' });
    expect(byName.refusal_rate).toMatchObject({ level: 'alert', baseline: 0, window: 0.3 });
    const fired = await until('the drift event', async () => (await events('monitoring.drift.detected', `model:${model}`)).at(0));
    expect(fired.data).toMatchObject({ model, environment: 'production', level: 'alert' });
    // Checks keep running; the level did not rise again, so no second event.
    await new Promise((r) => setTimeout(r, 500));
    expect(await events('monitoring.drift.detected', `model:${model}`)).toHaveLength(1);
    expectError(await api.get(`/api/v1/drift?${q}&baseline=last-week`), 400, 'invalid_argument');
    // Too little traffic is insufficient, never ok.
    const other = `acme/d${uid()}`;
    await ingest([record(other)]);
    expect(expectBody(await api.get(`/api/v1/drift?model=${enc(other)}&environment=production`), 200, DriftResponse).level).toBe('insufficient');
  });

  it('judges live criteria of a promotion: inconclusive without traffic, then pass or fail on the figures', async () => {
    const model = `acme/p${uid()}`;
    await pushModel(api, model, '1.0.0');
    await pushModel(api, model, '2.0.0');
    const src = `s${uid()}`;
    const dst = `d${uid()}`;
    expectBody(await api.put(`/api/v1/environments/${src}`, {}), 200, EnvironmentResponse);
    expectBody(await api.put(`/api/v1/environments/${dst}`, { requiredSource: src, live: { required: true, criteria: ['error-rate<0.05:1h', 'p95<1000:1h', 'min-requests:20'] } }), 200, EnvironmentResponse);
    const promote = async (version: string, to: string) => {
      const p = expectBody(await api.post('/api/v1/promotions', { model: `${model}:${version}`, to }), 201, PromotionResponse);
      return until(`promotion ${p.id}`, async () => {
        const r = expectBody(await api.get(`/api/v1/promotions/${p.id}`), 200, PromotionResponse);
        return r.state !== 'checking' && r;
      });
    };
    expect((await promote('1.0.0', src)).state).toBe('completed');
    const none = await promote('1.0.0', dst);
    expect(none.state).toBe('rejected');
    expect(none.gates.find((g) => g.name === 'live')).toMatchObject({ status: 'inconclusive', reason: expect.stringContaining('0 requests') });

    await ingest(many(30, () => record(model, { at: at(-MIN), environment: src, version: '1.0.0', latencyMs: 200 })));
    const pass = await promote('1.0.0', dst);
    expect(pass.gates.find((g) => g.name === 'live')).toMatchObject({ status: 'passed' });
    expect(pass.state).toBe('completed');

    expect((await promote('2.0.0', src)).state).toBe('completed');
    await ingest(many(30, (i) => record(model, { at: at(-MIN), environment: src, version: '2.0.0', status: i % 3 === 0 ? 503 : 200 })));
    const fail = await promote('2.0.0', dst);
    expect(fail.state).toBe('rejected');
    expect(fail.gates.find((g) => g.name === 'live')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/error-rate 0\.3333 ≥ 0\.05/) });
  });

  it('sets SLOs, pages on a fast burn, turns it into a ticket as the burn slows, and resolves when removed', async () => {
    const model = `acme/s${uid()}`;
    const path = `/api/v1/slos/${enc(model)}/production`;
    for (const body of [{}, { availability: 1.5 }, { availability: 0.99, window: '1m' }, { latency: { thresholdMs: 0, percent: 99 } }]) {
      expectError(await api.put(path, body), 400, 'invalid_argument');
    }
    expectError(await api.put(`/api/v1/slos/${enc(model)}/nowhere`, { availability: 0.99 }), 400, 'invalid_argument');
    expectError(await api.get(path), 404, 'not_found');
    const set = expectBody(await api.put(path, { availability: 0.99, latency: { thresholdMs: 1000, percent: 99 }, window: '30d' }), 200, SloResponse);
    expect(set.status.map((s) => [s.slo, s.objective, s.sli, s.alert])).toEqual([
      ['availability', 0.99, null, null],
      ['latency', 0.99, null, null],
    ]);
    const subject = `slo:${model}:production`;

    // 20 % of requests failing in the last five minutes: 20× the budget → page.
    await ingest(many(200, (i) => record(model, { at: at(-2 * MIN), status: i % 5 === 0 ? 502 : 200 })));
    const page = await until('the page', async () => (await events('slo.alert.*', subject)).at(0));
    expect(page.type).toBe('slo.alert.firing');
    expect(page.data).toMatchObject({ model, environment: 'production', slo: 'availability', severity: 'page', objective: 0.99 });
    const shown = expectBody(await api.get(path), 200, SloResponse);
    expect(shown.status[0]).toMatchObject({ slo: 'availability', requests: 200, sli: 0.8, alert: 'page' });
    expect(shown.status[0]!.budgetRemaining).toBeCloseTo(-19);
    expect(shown.status[1]).toMatchObject({ slo: 'latency', alert: null });

    // Forty minutes later, healthy traffic: the short windows are clean, the page resolves; the
    // 3-day and 6-hour windows still burn more than 1× → a ticket.
    now += 40 * MIN;
    await ingest(many(1000, () => record(model, { at: at(-2 * MIN) })));
    const after = await until('the page to resolve', async () => {
      const list = await events('slo.alert.*', subject);
      return list.length >= 3 && list;
    });
    expect(after.map((e) => [e.type, e.data.severity])).toEqual([
      ['slo.alert.firing', 'page'],
      ['slo.alert.resolved', 'page'],
      ['slo.alert.firing', 'ticket'],
    ]);
    expect(expectBody(await api.get(`/api/v1/slos?model=${enc(model)}`), 200, SloList).items[0]!.status[0]!.alert).toBe('ticket');

    expect((await api.del(path)).status).toBe(204);
    const gone = await events('slo.alert.*', subject);
    expect(gone.at(-1)).toMatchObject({ type: 'slo.alert.resolved', data: { severity: 'ticket' } });
    const audit = AuditPage.parse((await api.get(`/api/v1/audit?target=${encodeURIComponent(subject)}`)).body);
    expect(audit.items.map((e) => e.action).sort()).toEqual(['slo.create', 'slo.delete']);
  });

  it('runs its periodic work as one long-lived job per kind, not a job per period', async () => {
    for (const kind of ['monitoring.slo', 'monitoring.drift', 'monitoring.compact']) {
      const page = expectBody(await api.get(`/api/v1/jobs?kind=${kind}&limit=100`), 200, JobPage);
      // Every 100 ms since the server started: hundreds of periods, one job.
      expect([kind, page.items.length]).toEqual([kind, 1]);
      expect(['running', 'queued']).toContain(page.items[0]!.state);
    }
  });

  it('folds minute rollups into hours after a week, keeps hour series, and prunes raw usage', async () => {
    const model = `acme/o${uid()}`;
    now = Math.ceil(now / 3600_000) * 3600_000;
    const start = at();
    await ingest(many(12, (i) => record(model, { at: at(i * 5 * MIN) })));
    now += 8 * 86_400_000;
    const q = `model=${enc(model)}&since=${start}&until=${at(-8 * 86_400_000 + 2 * 3600_000)}&step=1h`;
    // The raw rows go (the usage report reads them); the figures stay in hour rows.
    await until('raw usage pruned', async () => {
      const u = expectBody(await api.get(`/api/v1/usage?model=${enc(model)}&since=2020-01-01T00:00:00Z`), 200, UsageReport);
      return u.items.length === 0;
    });
    const m = await metrics(q);
    expect(m.points.map((p) => p.requests)).toEqual([12, 0]);
    expectError(await api.get(`/api/v1/metrics?model=${enc(model)}&since=${start}&step=1m`), 400, 'invalid_argument');
  });
});

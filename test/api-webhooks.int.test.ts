/**
 * Webhooks, deliveries and retraining triggers over HTTP, on both backends, against real HTTP
 * receivers on loopback: an event reaches the webhooks that take it (signed, in the format each
 * asked for); an endpoint that is down is retried and then recorded as failed while another
 * webhook gets the same event on time; a budget threshold is announced once; a drift event
 * fires a retraining trigger only when its conditions hold; a scheduled trigger fires from its
 * job and schedules the next; bad input is refused with nothing written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditPage } from '../src/contracts/audit.js';
import { CreatedTokenResponse } from '../src/contracts/auth.js';
import { EventPage, type NewEvent, type EventType } from '../src/contracts/events.js';
import { CreatedKeyResponse } from '../src/contracts/gateway.js';
import { JobPage, JobResponse } from '../src/contracts/jobs.js';
import { CreatedWebhookResponse, DeliveryPage, TestDeliveryResponse, TriggerResponse, WebhookPage, WebhookPayload, WebhookResponse, type DeliveryResponse } from '../src/contracts/notify.js';
import { verifySignature } from '../src/features/notify/notify-fns.js';
import { openDatabase, type SqlDatabase } from '../src/platform/sql/sql-db.js';
import { rawSql } from './helpers/raw-sql.js';
import { apiClient, expectBody, expectError, uid, type Api } from './helpers/test-api.js';
import { BACKENDS, startTestServer, type TestServer } from './helpers/test-server.js';
import { deadUrl, startWebhookReceiver, type ReceivedHook, type WebhookReceiver } from './helpers/webhook-receiver.js';

describe.each(BACKENDS)('webhooks on %s', (backend) => {
  let server: TestServer;
  let api: Api;
  let db: SqlDatabase;
  const receivers: WebhookReceiver[] = [];

  beforeAll(async () => {
    server = await startTestServer(backend, { jobPollIntervalMs: 50, eventPollMs: 20, webhookRetryBaseMs: 50, webhookMaxAttempts: 3, webhookTimeoutMs: 3000 });
    api = apiClient(server);
    db = await openDatabase(server.config.database);
  });
  afterAll(async () => {
    await db?.close();
    await server?.stop();
    for (const r of receivers) await r.close();
  });

  const receiver = async () => {
    const r = await startWebhookReceiver();
    receivers.push(r);
    return r;
  };
  const createHook = async (body: Record<string, unknown>, token?: string) => expectBody(await api.post('/api/v1/webhooks', { name: `h-${uid()}`, ...body }, token ? { token } : {}), 201, CreatedWebhookResponse);
  const deliveries = async (id: string) => expectBody(await api.get(`/api/v1/webhooks/${id}/deliveries?limit=1000`), 200, DeliveryPage).items;
  /** Emits through the server's events service, in a transaction of our own: what any feature does. */
  const emit = <T extends EventType>(e: NewEvent<T>) => db.db.transaction().execute((tx) => server.services.events.emit(tx, e));
  const drift = (model: string, score: number): NewEvent<'monitoring.drift.detected'> => ({
    type: 'monitoring.drift.detected',
    subject: `model:${model}`,
    namespace: model.includes('/') ? model.split('/')[0]! : null,
    data: {
      model,
      environment: 'production',
      level: score > 0.25 ? 'alert' : 'warn',
      metrics: [
        { name: 'prompt_tokens', psi: score, level: score > 0.25 ? 'alert' : 'warn' },
        { name: 'latency_ms', psi: 0.01, level: 'ok' },
      ],
      baseline: { since: '2026-01-01T00:00:00.000Z', until: '2026-01-08T00:00:00.000Z' },
      window: { since: '2026-01-08T00:00:00.000Z', until: '2026-01-08T01:00:00.000Z' },
    },
  });
  async function waitDeliveries(id: string, until: (d: DeliveryResponse[]) => boolean, ms = 15_000): Promise<DeliveryResponse[]> {
    const end = Date.now() + ms;
    for (;;) {
      const d = await deliveries(id);
      if (until(d)) return d;
      if (Date.now() > end) throw new Error(`deliveries of ${id} stuck: ${JSON.stringify(d)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const signed = (h: ReceivedHook, secret: string) => verifySignature(secret, String(h.headers['x-steward-signature']), Number(h.headers['x-steward-timestamp']), h.raw, Math.floor(Date.now() / 1000));

  it('shows the secret once, never in listings or the audit trail, and refuses bad input writing nothing', async () => {
    const r = await receiver();
    const h = await createHook({ url: r.url, events: ['slo.alert.*', 'gateway.budget.threshold'], format: 'slack', secret: 'a-secret-of-enough-length' });
    expect(h).toMatchObject({ url: r.url, events: ['slo.alert.*', 'gateway.budget.threshold'], format: 'slack', namespace: null, secret: 'a-secret-of-enough-length' });
    const generated = await createHook({ url: r.url, events: ['version.*'] });
    expect(generated.secret).toMatch(/^whsec_[A-Za-z0-9_-]{32}$/);
    const one = expectBody(await api.get(`/api/v1/webhooks/${h.id}`), 200, WebhookResponse);
    const list = expectBody(await api.get('/api/v1/webhooks?limit=1000'), 200, WebhookPage);
    const audit = AuditPage.parse((await api.get(`/api/v1/audit?target=webhook:${h.id}`)).body);
    expect(audit.items.map((e) => e.action)).toEqual(['webhook.create']);
    for (const body of [one, list, audit]) {
      expect(JSON.stringify(body)).not.toContain('a-secret-of-enough-length');
      expect(JSON.stringify(body)).not.toContain(generated.secret);
    }

    // A Slack-style URL is a credential: listings and the audit trail cut its token.
    const token = 'abcdefghijklmnopqrstuvwx';
    const slackish = await createHook({ url: `${r.url}/services/T0ABC/B0ABC/${token}`, events: ['*'], format: 'slack' });
    expect(slackish.url).toBe(`${r.url}/services/T0ABC/B0ABC/abcd…`);
    const shown = [await api.get(`/api/v1/webhooks/${slackish.id}`), await api.get('/api/v1/webhooks?limit=1000'), await api.get(`/api/v1/audit?target=webhook:${slackish.id}`)];
    for (const res of shown) expect(JSON.stringify(res.body)).not.toContain(token);
    expect(expectBody(await api.post(`/api/v1/webhooks/${slackish.id}/test`), 200, TestDeliveryResponse).delivery.state).toBe('succeeded');
    expect((await api.del(`/api/v1/webhooks/${slackish.id}`)).status).toBe(204);

    const before = list.items.length;
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ url: r.url, events: ['version.readyy'] }, /version\.readyy is not an event type/],
      [{ url: r.url, events: ['nothing.*'] }, /no event type starts with nothing\./],
      [{ url: r.url, events: [] }, /events/],
      [{ url: r.url, events: ['Bad Pattern'] }, /event pattern/],
      [{ url: 'http://169.254.169.254/latest/meta-data', events: ['*'] }, /link-local, unspecified or cloud metadata address.*STEWARD_WEBHOOK_ALLOW/],
      [{ url: 'http://[::ffff:169.254.169.254]/x', events: ['*'] }, /metadata/],
      [{ url: 'http://user:pw@127.0.0.1:9/x', events: ['*'] }, /credential \(user:password@\)/],
      [{ url: 'http://127.0.0.1:9/x?token=abc', events: ['*'] }, /credential/],
      [{ url: 'ftp://127.0.0.1/x', events: ['*'] }, /http\(s\) URL/],
      [{ url: r.url, events: ['*'], format: 'xml' }, /format/],
      [{ url: r.url, events: ['*'], secret: 'short' }, /16 characters/],
      [{ url: r.url, events: ['*'], extra: 1 }, /extra/],
    ];
    for (const [body, message] of bad) {
      const e = expectError(await api.post('/api/v1/webhooks', { name: 'bad', ...body }), 400, 'invalid_argument');
      expect(`${e.message} ${JSON.stringify(e.details ?? {})}`).toMatch(message);
    }
    expect(expectBody(await api.get('/api/v1/webhooks?limit=1000'), 200, WebhookPage).items.length).toBe(before);
    expectError(await api.get('/api/v1/webhooks/whk_nope'), 404, 'not_found');
  });

  it('delivers a matching event, signed, as JSON and as Slack, and nothing else', async () => {
    const json = await receiver();
    const slack = await receiver();
    const other = await receiver();
    const model = `acme${uid()}/chat`;
    const jh = await createHook({ url: json.url, events: ['monitoring.*'] });
    const sh = await createHook({ url: slack.url, events: ['monitoring.drift.detected'], format: 'slack' });
    await createHook({ url: other.url, events: ['rollout.aborted'] });
    const seq = await emit(drift(model, 0.41));
    const [j] = await json.waitFor(1);
    const [s] = await slack.waitFor(1);
    expect(signed(j!, jh.secret)).toBe(true);
    expect(signed(j!, sh.secret)).toBe(false);
    expect(signed(s!, sh.secret)).toBe(true);
    const payload = WebhookPayload.parse(j!.json);
    expect(payload).toMatchObject({ type: 'monitoring.drift.detected', seq, subject: `model:${model}`, data: { model, level: 'alert' } });
    expect(payload.summary).toBe(`🔴 Drift alert: ${model} in production — prompt_tokens PSI 0.41`);
    expect(j!.headers['x-steward-delivery']).toBe(payload.id);
    expect(j!.headers['x-steward-event']).toBe('monitoring.drift.detected');
    expect(s!.json.text).toBe(payload.summary);
    expect(Array.isArray(s!.json.blocks)).toBe(true);
    const [d] = await waitDeliveries(jh.id, (x) => x[0]?.state === 'succeeded');
    expect(d).toMatchObject({ id: payload.id, source: `event:${seq}`, eventType: 'monitoring.drift.detected', state: 'succeeded', attempts: 1, responseStatus: 204, lastError: null });
    await new Promise((r) => setTimeout(r, 300));
    expect(other.received).toHaveLength(0);
    expect(json.received).toHaveLength(1);
  });

  it('retries an endpoint that is down, then records the delivery failed; another webhook gets the event on time', async () => {
    const ok = await receiver();
    const failing = await receiver();
    failing.mode = 503;
    const hung = await receiver();
    hung.mode = 'hang';
    const model = `down${uid()}/chat`;
    const down = await createHook({ url: await deadUrl(), events: ['monitoring.drift.detected'] });
    const busy = await createHook({ url: failing.url, events: ['monitoring.drift.detected'] });
    const slow = await createHook({ url: hung.url, events: ['monitoring.drift.detected'] });
    const good = await createHook({ url: ok.url, events: ['monitoring.drift.detected'] });
    const sent = Date.now();
    await emit(drift(model, 0.9));
    const [got] = await ok.waitFor(1);
    // Well inside the hung endpoint's timeout (3 s): nothing waited for it.
    expect(got!.at - sent).toBeLessThan(2500);
    expect((await waitDeliveries(good.id, (x) => x[0]?.state === 'succeeded'))[0]!.attempts).toBe(1);

    const [refused] = await waitDeliveries(down.id, (x) => x[0]?.state === 'failed');
    expect(refused).toMatchObject({ state: 'failed', attempts: 3, responseStatus: null, deliveredAt: null });
    expect(refused!.lastError).toMatch(/ECONNREFUSED|connect/);
    const [five] = await waitDeliveries(busy.id, (x) => x[0]?.state === 'failed');
    expect(five).toMatchObject({ state: 'failed', attempts: 3, responseStatus: 503 });
    expect(five!.lastError).toMatch(/HTTP 503: receiver says 503/);
    // Each attempt reached the endpoint, with the same delivery id (receivers deduplicate on it).
    expect(failing.received).toHaveLength(3);
    expect(new Set(failing.received.map((r) => r.headers['x-steward-delivery'])).size).toBe(1);
    const [timedOut] = await waitDeliveries(slow.id, (x) => x[0]?.state === 'failed', 30_000);
    expect(timedOut!.lastError).toMatch(/no answer within 3000 ms/);
    const failed = expectBody(await api.get(`/api/v1/webhooks/${down.id}/deliveries?state=failed`), 200, DeliveryPage);
    expect(failed.items).toHaveLength(1);
  });

  it('does not retry an endpoint that refuses the body (4xx other than 408/429)', async () => {
    const r = await receiver();
    r.mode = 400;
    const h = await createHook({ url: r.url, events: ['monitoring.drift.detected'] });
    await emit(drift(`four${uid()}/m`, 1));
    const [d] = await waitDeliveries(h.id, (x) => x[0]?.state === 'failed');
    expect(d).toMatchObject({ attempts: 1, responseStatus: 400 });
    expect(r.received).toHaveLength(1);
  });

  it('announces each budget threshold of a key once, as an event and to webhooks', async () => {
    const r = await receiver();
    const team = `b${uid()}`;
    const h = await createHook({ url: r.url, events: ['gateway.budget.*'], namespace: team });
    const gatewayToken = expectBody(await api.post('/api/v1/tokens', { name: `gw-${uid()}`, role: 'gateway' }), 201, CreatedTokenResponse).token;
    const key = expectBody(await api.post('/api/v1/keys', { name: 'spender', namespace: team, budgetUsd: 10 }), 201, CreatedKeyResponse);
    const after = await server.services.events.head();
    const rec = (costUsd: number) => ({ at: new Date().toISOString(), keyId: key.id, namespace: team, model: `${team}/bot`, version: '1.0.0', deployment: 'dep_x', environment: 'production', endpoint: 'chat', status: 200, stream: false, shadow: false, cached: false, latencyMs: 10, ttftMs: null, inputTokens: 10, outputTokens: 10, costUsd });
    const gw = `gw-${uid()}`;
    const ingest = (batch: number, costs: number[]) => api.post('/api/v1/gateway/usage', { gateway: gw, batch, records: costs.map(rec) }, { token: gatewayToken });
    expect((await ingest(1, [2, 2])).status).toBe(200); // 4: nothing yet
    expect((await ingest(2, [1.5])).status).toBe(200); // 5.5: 50 %
    expect((await ingest(3, [5])).status).toBe(200); // 10.5: 80 % and 100 %
    expect((await ingest(3, [5])).body).toMatchObject({ duplicate: true }); // a replay adds nothing
    expect((await ingest(4, [3])).status).toBe(200); // 13.5: nothing new
    const events = expectBody(await api.get(`/api/v1/events?after=${after}&types=gateway.budget.threshold&limit=1000`), 200, EventPage).items.filter((e) => e.subject === `gateway-key:${key.id}`);
    expect(events.map((e) => e.data.threshold)).toEqual([0.5, 0.8, 1]);
    expect(events[0]!.data).toEqual({ key: { id: key.id, name: 'spender' }, namespace: team, threshold: 0.5, spentUsd: 5.5, budgetUsd: 10 });
    expect(events[2]!.namespace).toBe(team);
    // Deliveries are independent jobs: their order is not the events' (payloads carry seq for that).
    const got = (await r.waitFor(3)).sort((a, b) => Number(a.json.seq) - Number(b.json.seq));
    expect(got.map((g) => (g.json.data as { threshold: number }).threshold)).toEqual([0.5, 0.8, 1]);
    expect(got[2]!.json.summary).toBe(`🔴 Budget: key spender (${team}) has spent $10.50 of $10.00 (100 %)`);
    await new Promise((res) => setTimeout(res, 300));
    expect(r.received).toHaveLength(3);
    expect(await deliveries(h.id)).toHaveLength(3);
  });

  it('confines a namespace-limited admin token to webhooks of its namespace, which take only its events', async () => {
    const team = `n${uid()}`;
    const limited = expectBody(await api.post('/api/v1/tokens', { name: `adm-${team}`, role: 'admin', namespaces: [team] }), 201, CreatedTokenResponse).token;
    const r = await receiver();
    expectError(await api.post('/api/v1/webhooks', { name: 'x', url: r.url, events: ['*'] }, { token: limited }), 403, 'permission_denied');
    expectError(await api.post('/api/v1/webhooks', { name: 'x', url: r.url, events: ['*'], namespace: 'other' }, { token: limited }), 403, 'permission_denied');
    const own = await createHook({ url: r.url, events: ['monitoring.*'], namespace: team }, limited);
    const foreign = await createHook({ url: r.url, events: ['monitoring.*'] });
    expectError(await api.get(`/api/v1/webhooks/${foreign.id}`, { token: limited }), 404, 'not_found');
    expect(expectBody(await api.get('/api/v1/webhooks?limit=1000', { token: limited }), 200, WebhookPage).items.map((x) => x.id)).toEqual([own.id]);
    await emit(drift(`x${uid()}/m`, 1));
    await emit(drift(`${team}/m`, 1));
    await waitDeliveries(own.id, (x) => x.length === 1 && x[0]!.state === 'succeeded');
    await waitDeliveries(foreign.id, (x) => x.length === 2 && x.every((d) => d.state === 'succeeded'));
    expect((await deliveries(own.id))[0]!.source).toMatch(/^event:/);
    expect(r.received.filter((g) => g.headers['x-steward-signature'] && signed(g, own.secret)).map((g) => (g.json.data as { model: string }).model)).toEqual([`${team}/m`]);
  });

  it('sends a test notice on request and says how the endpoint took it', async () => {
    const r = await receiver();
    const h = await createHook({ url: r.url, events: ['*'], format: 'slack' });
    const t = expectBody(await api.post(`/api/v1/webhooks/${h.id}/test`), 200, TestDeliveryResponse);
    expect(t.delivery).toMatchObject({ eventType: 'webhook.test', state: 'succeeded', attempts: 1, responseStatus: 204 });
    expect(r.received[0]!.json.text).toBe('👋 Test delivery from Steward');
    const dead = await createHook({ url: await deadUrl(), events: ['*'] });
    const f = expectBody(await api.post(`/api/v1/webhooks/${dead.id}/test`), 200, TestDeliveryResponse);
    expect(f.delivery).toMatchObject({ state: 'failed', attempts: 1, responseStatus: null });
    expect(f.delivery.lastError).toMatch(/ECONNREFUSED|connect/);
    expectError(await api.post('/api/v1/webhooks/whk_nope/test'), 404, 'not_found');
  });

  it('fires a retraining trigger on a drift event about its model when its conditions hold, with the evidence', async () => {
    const r = await receiver();
    const model = `ml${uid()}/chat`;
    const h = await createHook({ url: r.url, events: ['rollout.aborted'] });
    const t = expectBody(
      await api.post('/api/v1/triggers', { name: 'retrain-on-drift', model, on: { event: 'monitoring.drift.detected', where: [{ field: 'metrics.psi', op: 'gt', value: 0.3 }] }, webhook: h.id }),
      201,
      TriggerResponse,
    );
    expect(t).toMatchObject({ model, webhook: h.id, nextAt: null, lastFiredAt: null });
    await emit(drift(model, 0.1)); // below the threshold
    await emit(drift(`${model}-other`, 0.9)); // another model
    const seq = await emit(drift(model, 0.55));
    const [got] = await r.waitFor(1);
    const p = WebhookPayload.parse(got!.json);
    expect(p).toMatchObject({ type: 'trigger.fired', seq, subject: `trigger:${t.id}` });
    expect(p.data.trigger).toMatchObject({ id: t.id, name: 'retrain-on-drift', model });
    expect(p.data.evidence).toMatchObject({ type: 'monitoring.drift.detected', seq, data: { model, level: 'alert', metrics: [{ name: 'prompt_tokens', psi: 0.55 }, { name: 'latency_ms' }] } });
    expect(p.summary).toBe(`🔁 Retraining trigger retrain-on-drift fired for ${model} on monitoring.drift.detected`);
    await new Promise((res) => setTimeout(res, 300));
    expect(r.received).toHaveLength(1);
    expect(expectBody(await api.get(`/api/v1/triggers/${t.id}`), 200, TriggerResponse).lastFiredAt).not.toBeNull();
    // The webhook is in use: deleting it is refused until the trigger goes.
    expectError(await api.del(`/api/v1/webhooks/${h.id}`), 409, 'conflict');
    expect((await api.del(`/api/v1/triggers/${t.id}`)).status).toBe(204);
    expect((await api.del(`/api/v1/webhooks/${h.id}`)).status).toBe(204);
    expectError(await api.get(`/api/v1/webhooks/${h.id}/deliveries`), 404, 'not_found');
    const audit = AuditPage.parse((await api.get(`/api/v1/audit?target=trigger:${t.id}`)).body);
    expect(audit.items.map((e) => e.action).sort()).toEqual(['trigger.create', 'trigger.delete']);
  });

  it('fires a scheduled trigger from its job, and schedules the next firing', async () => {
    const r = await receiver();
    const model = `sch${uid()}/chat`;
    const h = await createHook({ url: r.url, events: ['rollout.aborted'] });
    const t = expectBody(await api.post('/api/v1/triggers', { name: 'nightly', model, on: { schedule: '0 3 * * *' }, webhook: h.id }), 201, TriggerResponse);
    expect(new Date(t.nextAt!).getUTCHours()).toBe(3);
    expect(Date.parse(t.nextAt!) - Date.now()).toBeGreaterThan(0);
    const jobs = expectBody(await api.get('/api/v1/jobs?kind=trigger.schedule&state=queued&limit=1000'), 200, JobPage).items.filter((j) => (j.payload as { trigger: string }).trigger === t.id);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.runAfter).toBe(t.nextAt);
    // The night comes early: the job becomes due.
    const raw = await rawSql(server.config);
    try {
      await raw.exec('update jobs set run_after = $1 where id = $2', [new Date(Date.now() - 1000).toISOString(), jobs[0]!.id]);
    } finally {
      await raw.close();
    }
    const [got] = await r.waitFor(1);
    const p = WebhookPayload.parse(got!.json);
    expect(p).toMatchObject({ type: 'trigger.fired', seq: null, data: { evidence: null, scheduledAt: t.nextAt } });
    const after = expectBody(await api.get(`/api/v1/triggers/${t.id}`), 200, TriggerResponse);
    expect(Date.parse(after.nextAt!)).toBe(Date.parse(t.nextAt!) + 86_400_000);
    const next = expectBody(await api.get('/api/v1/jobs?kind=trigger.schedule&state=queued&limit=1000'), 200, JobPage).items.filter((j) => (j.payload as { trigger: string }).trigger === t.id);
    expect(next.map((j) => j.runAfter)).toEqual([after.nextAt]);
    // Deleting the trigger cancels its next firing.
    expect((await api.del(`/api/v1/triggers/${t.id}`)).status).toBe(204);
    expect(expectBody(await api.get(`/api/v1/jobs/${next[0]!.id}`), 200, JobResponse).state).toBe('cancelled');
  });

  it('refuses a bad trigger with a clear 400 or 412, writing nothing', async () => {
    const r = await receiver();
    const h = await createHook({ url: r.url, events: ['rollout.aborted'] });
    const before = (await api.get('/api/v1/triggers?limit=1000')).body as { items: unknown[] };
    const cases: [Record<string, unknown>, number, RegExp][] = [
      [{ name: 't', model: 'm', on: { schedule: '0 3 * *' }, webhook: h.id }, 400, /five fields/],
      [{ name: 't', model: 'm', on: { schedule: '99 3 * * *' }, webhook: h.id }, 400, /not a cron expression/],
      [{ name: 't', model: 'm', on: { every: '0h' }, webhook: h.id }, 400, /interval/],
      [{ name: 't', model: 'm', on: { event: 'nope.event' }, webhook: h.id }, 400, /not an event type/],
      [{ name: 't', model: 'm', on: { event: 'slo.*' }, webhook: h.id }, 400, /one event type/],
      [{ name: 't', model: 'm', on: { event: 'version.ready', every: '1d' }, webhook: h.id }, 400, /exactly one of event, schedule, every \(got event, every\)/],
      [{ name: 't', model: 'm', on: {}, webhook: h.id }, 400, /exactly one of event, schedule, every \(got none\)/],
      [{ name: 't', model: 'm', on: { every: '1d', where: [] }, webhook: h.id }, 400, /where is for event triggers/],
      [{ name: 't', model: 'm', on: { event: 'eval.run.finished', where: [{ field: 'passed', op: 'like', value: false }] }, webhook: h.id }, 400, /op/],
      [{ name: 't', model: 'bad name!', on: { every: '1d' }, webhook: h.id }, 400, /not a model name/],
      [{ name: 't', model: 'm', on: { every: '1d' }, webhook: 'whk_nope' }, 412, /webhook whk_nope does not exist/],
    ];
    for (const [body, status, message] of cases) {
      const e = expectError(await api.post('/api/v1/triggers', body), status, status === 400 ? 'invalid_argument' : 'failed_precondition');
      expect(`${e.message} ${JSON.stringify(e.details ?? {})}`).toMatch(message);
    }
    expect(((await api.get('/api/v1/triggers?limit=1000')).body as { items: unknown[] }).items.length).toBe(before.items.length);
  });
});

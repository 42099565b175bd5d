// The whole chain on the embedded default: a version enters development, its deployment is
// ready, a gateway key calls `/v1/...` on the control plane's own port with the official client,
// a rollback reaches the gateway's routing (the figure is printed), usage lands in the control
// plane; then a gateway of its own follows the control plane over HTTP and keeps serving every
// request while the control plane is stopped.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreatedTokenResponse } from '../src/contracts/auth.js';
import { DeploymentResponse } from '../src/contracts/deployments.js';
import { CreatedKeyResponse, UsageReport } from '../src/contracts/gateway.js';
import { PointerMove } from '../src/contracts/promotions.js';
import { httpSnapshotSource, httpUsageSink } from '../src/gateway/gateway-sources.js';
import { startGatewayServer, type RunningGateway } from '../src/gateway/gateway-server.js';
import { createLogger } from '../src/platform/log.js';
import { pushModel } from './helpers/evals-fixtures.js';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.js';
import { apiClient, expectBody, type Api } from './helpers/test-api.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe('gateway end to end on steward up', () => {
  let server: TestServer;
  let api: Api;
  let v1: FakeOpenAI;
  let v2: FakeOpenAI;
  let standalone: RunningGateway | null = null;
  let stopped = false;
  const model = 'e2e/chat';
  const deployments: string[] = [];

  beforeAll(async () => {
    server = await startTestServer('sqlite-fs', { jobPollIntervalMs: 50, eventPollMs: 20, deploymentReconcileMs: 100 });
    api = apiClient(server);
    // One upstream per version: which one answers says which version the gateway routed to.
    v1 = await startFakeOpenAI({ answers: { who: 'v1' } });
    v2 = await startFakeOpenAI({ answers: { who: 'v2' } });
  });
  afterAll(async () => {
    await standalone?.close();
    if (!stopped) {
      for (const id of deployments) await api.post(`/api/v1/deployments/${id}/stop`);
      await server?.stop();
    }
    await Promise.all([v1.close(), v2.close()]);
  });

  async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it('routes a key to the environment\'s version, follows a rollback at once, and meters usage', async () => {
    await pushModel(api, model, '1.0.0');
    await waitFor('development pointer at 1.0.0', async () => {
      const r = await api.get(`/api/v1/pointers?model=${encodeURIComponent(model)}`);
      return r.status === 200 && JSON.stringify(r.body).includes('"1.0.0"');
    });
    // One external deployment per version, each pinned (traffic goes by the pointer, not by which follows).
    for (const [version, up] of [['1.0.0', v1], ['1.0.0', v2]] as const) {
      const d = expectBody(await api.post('/api/v1/deployments', { model: `${model}:${version}`, environment: 'development', driver: 'external', endpoint: { url: up.url }, pricing: { inputPerMTok: 1, outputPerMTok: 2 } }), 201, DeploymentResponse);
      deployments.push(d.id);
    }
    for (const id of deployments) await waitFor(`deployment ${id} ready`, async () => expectBody(await api.get(`/api/v1/deployments/${id}`), 200, DeploymentResponse).state === 'ready');
    const key = expectBody(await api.post('/api/v1/keys', { name: 'e2e-app', defaultEnvironment: 'development' }), 201, CreatedKeyResponse);
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: key.key, maxRetries: 0 });

    // Both deployments serve development (1.0.0); the gateway answers on the control plane's port.
    await waitFor('the gateway to know the key and both deployments', async () => {
      const r = await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${key.key}` } });
      return r.status === 200 && (await r.json()).data.some((m: { id: string }) => m.id === `${model}:development`);
    });
    const first = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'who' }] });
    expect(['v1', 'v2']).toContain(first.choices[0]!.message.content);

    // 1.1.0 enters development by itself; the deployments follow it (a version label for external ones).
    await pushModel(api, model, '1.1.0');
    await waitFor('1.1.0 served', async () => {
      const r = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'who' }] }).withResponse();
      return r.response.headers.get('x-steward-version') === '1.1.0';
    });
    // The rollback, and the first answer of the gateway that reflects it.
    const t0 = performance.now();
    expectBody(await api.post('/api/v1/environments/development/rollback', { model, to: '1.0.0' }), 200, PointerMove);
    const apiMs = performance.now() - t0;
    await waitFor('1.0.0 served again', async () => {
      const r = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'who' }] }).withResponse();
      return r.response.headers.get('x-steward-version') === '1.0.0';
    });
    const routedMs = performance.now() - t0;
    console.log(`rollback → gateway routing: API answered in ${apiMs.toFixed(1)} ms; the first gateway answer from 1.0.0 after ${routedMs.toFixed(1)} ms (deployment reconcile interval 100 ms in this test)`);

    // Pinned and named environments work too.
    const pinned = await client.chat.completions.create({ model: `${model}@1.0.0`, messages: [{ role: 'user', content: 'who' }] }).withResponse();
    expect(pinned.response.headers.get('x-steward-version')).toBe('1.0.0');

    await server.gateway!.flushUsage();
    const usage = await waitFor('usage in the control plane', async () => {
      const u = expectBody(await api.get(`/api/v1/usage?groupBy=key`), 200, UsageReport);
      return u.items.find((i) => i.group === key.id && i.requests >= 3) ?? null;
    });
    expect(usage.costUsd).toBeGreaterThan(0);
    expect(usage.inputTokens).toBeGreaterThan(0);
  });

  it('a gateway of its own keeps answering every request while the control plane is stopped', async () => {
    const token = expectBody(await api.post('/api/v1/tokens', { name: 'gw-e2e', role: 'gateway' }), 201, CreatedTokenResponse).token;
    const key = expectBody(await api.post('/api/v1/keys', { name: 'e2e-outage', defaultEnvironment: 'development' }), 201, CreatedKeyResponse);
    const gw = await startGatewayServer({
      host: '127.0.0.1', port: 0, stateDir: null, gatewayId: 'e2e-gw', log: createLogger({ level: 'silent' }),
      source: httpSnapshotSource({ url: server.url, token, waitSeconds: 2 }),
      sink: httpUsageSink({ url: server.url, token }),
    });
    standalone = gw;
    expect(await gw.gateway.whenReady(10_000)).toBe(true);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key.key, maxRetries: 0 });
    let failures = 0;
    let served = 0;
    let stopping = true;
    const traffic = (async () => {
      while (stopping) {
        try {
          await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'who' }] });
          served++;
        } catch {
          failures++;
        }
      }
    })();
    await waitFor('some traffic', async () => served > 20);
    await server.stop();
    stopped = true;
    const before = served;
    await waitFor('traffic after the stop', async () => served > before + 50);
    const ready = await (await fetch(`${gw.url}/readyz`)).json();
    stopping = false;
    await traffic;
    expect(failures).toBe(0);
    expect(ready).toMatchObject({ status: 'ready' });
    await waitFor('the gateway to notice', async () => (await (await fetch(`${gw.url}/readyz`)).json()).controlPlane === 'unreachable', 10_000);
  });
});

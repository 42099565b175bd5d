/**
 * The cost report over HTTP, on both backends: per-token priced deployments as metered, a
 * deployment priced by the GPU-hour shared out among keys by the tokens each was served (its
 * hours measured from when it was created to its stop), an idle one charged to its model, the
 * namespace filter of a limited token, and bad periods refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreatedTokenResponse } from '../src/contracts/auth.js';
import { DeploymentResponse } from '../src/contracts/deployments.js';
import { CostReport, CreatedKeyResponse } from '../src/contracts/gateway.js';
import { pushModel } from './helpers/evals-fixtures.js';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.js';
import { apiClient, expectBody, expectError, uid, type Api } from './helpers/test-api.js';
import { BACKENDS, startTestServer, type TestServer } from './helpers/test-server.js';

describe.each(BACKENDS)('cost report on %s', (backend) => {
  let server: TestServer;
  let api: Api;
  let fake: FakeOpenAI;
  const made: string[] = [];

  beforeAll(async () => {
    server = await startTestServer(backend, { jobPollIntervalMs: 50, eventPollMs: 20, deploymentReconcileMs: 100 });
    api = apiClient(server);
    fake = await startFakeOpenAI();
  });
  afterAll(async () => {
    for (const id of made) await api.post(`/api/v1/deployments/${id}/stop`);
    await server?.stop();
    await fake?.close();
  });

  async function deploy(model: string, extra: Record<string, unknown>): Promise<DeploymentResponse> {
    const d = expectBody(await api.post('/api/v1/deployments', { model: `${model}:1.0.0`, environment: 'staging', driver: 'external', endpoint: { url: fake.url }, ...extra }), 201, DeploymentResponse);
    made.push(d.id);
    return d;
  }
  const cost = async (q: string, token?: string) => expectBody(await api.get(`/api/v1/cost?${q}`, token ? { token } : {}), 200, CostReport);

  it('shares a GPU-hour deployment among keys by tokens, next to per-token metered cost', async () => {
    const team = `c${uid()}`;
    const model = `${team}/chat`;
    await pushModel(api, model, '1.0.0');
    // $3,600 a GPU-hour on 2 GPUs: $2 a second, so a few seconds of running show.
    const gpu = await deploy(model, { gpuHourUsd: 3600, resources: { gpus: 2 } });
    expect(gpu.gpuHourUsd).toBe(3600);
    const tok = await deploy(model, { pricing: { inputPerMTok: 1, outputPerMTok: 2 } });
    expect(tok.gpuHourUsd).toBeNull();
    const gatewayToken = expectBody(await api.post('/api/v1/tokens', { name: `gw-${uid()}`, role: 'gateway' }), 201, CreatedTokenResponse).token;
    const ka = expectBody(await api.post('/api/v1/keys', { name: 'a', namespace: team }), 201, CreatedKeyResponse);
    const kb = expectBody(await api.post('/api/v1/keys', { name: 'b', namespace: team }), 201, CreatedKeyResponse);
    const rec = (keyId: string, deployment: string, inputTokens: number, outputTokens: number, costUsd: number) => ({ at: new Date().toISOString(), keyId, namespace: team, model, version: '1.0.0', deployment, environment: 'staging', endpoint: 'chat', status: 200, stream: false, shadow: false, cached: false, latencyMs: 10, ttftMs: null, inputTokens, outputTokens, costUsd });
    const records = [rec(ka.id, gpu.id, 200, 100, 0), rec(ka.id, gpu.id, 100, 0, 0), rec(kb.id, gpu.id, 50, 50, 0), rec(kb.id, tok.id, 1000, 500, 0.002)];
    expect((await api.post('/api/v1/gateway/usage', { gateway: `gw-${uid()}`, batch: 1, records }, { token: gatewayToken })).status).toBe(200);

    // A period that has ended (after the records), so every report of it costs the same.
    await new Promise((r) => setTimeout(r, 20));
    const until = new Date().toISOString();
    const since = new Date(Date.parse(gpu.createdAt) - 3_600_000).toISOString();
    const byKey = await cost(`groupBy=key&namespace=${team}&since=${since}&until=${until}`);
    // The GPU deployment ran from its creation to `until`: price × 2 GPUs × 1 replica × hours.
    const gpuCost = byKey.items.reduce((s, r) => s + r.gpuCostUsd, 0);
    expect(gpuCost).toBeCloseTo((3600 * 2 * (Date.parse(until) - Date.parse(gpu.createdAt))) / 3_600_000, 9);
    const a = byKey.items.find((r) => r.group === ka.id)!;
    const b = byKey.items.find((r) => r.group === kb.id)!;
    // key a was served 400 of the GPU deployment's 500 tokens, key b 100.
    expect(a.gpuCostUsd / gpuCost).toBeCloseTo(0.8, 10);
    expect(b.gpuCostUsd / gpuCost).toBeCloseTo(0.2, 10);
    expect(a).toMatchObject({ requests: 2, inputTokens: 300, outputTokens: 100, tokenCostUsd: 0 });
    expect(b).toMatchObject({ requests: 2, inputTokens: 1050, outputTokens: 550, tokenCostUsd: 0.002 });
    expect(b.costUsd).toBeCloseTo(b.gpuCostUsd + 0.002, 10);
    expect(a.costPerMTokUsd).toBeCloseTo((a.costUsd * 1e6) / 400, 6);

    const byDep = await cost(`groupBy=deployment&model=${encodeURIComponent(model)}&since=${since}&until=${until}`);
    expect(byDep.items.find((r) => r.group === tok.id)).toMatchObject({ tokenCostUsd: 0.002, gpuCostUsd: 0, costUsd: 0.002, costPerMTokUsd: (0.002 * 1e6) / 1500 });
    expect(byDep.items.find((r) => r.group === gpu.id)!.gpuCostUsd).toBeCloseTo(gpuCost, 6);
    expect(byDep).toMatchObject({ groupBy: 'deployment', since, until });

    // Stopped: its hours end with the stop, so a later report costs it the same.
    expectBody(await api.post(`/api/v1/deployments/${gpu.id}/stop`), 200, DeploymentResponse);
    const stopped = await (async () => {
      for (let i = 0; i < 200; i++) {
        const d = expectBody(await api.get(`/api/v1/deployments/${gpu.id}`), 200, DeploymentResponse);
        if (d.state === 'stopped') return d;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('deployment did not stop');
    })();
    const far = new Date(Date.now() + 3_600_000).toISOString();
    const once = (await cost(`groupBy=deployment&model=${encodeURIComponent(model)}&since=${since}&until=${far}`)).items.find((r) => r.group === gpu.id)!;
    await new Promise((r) => setTimeout(r, 300));
    const again = (await cost(`groupBy=deployment&model=${encodeURIComponent(model)}&since=${since}&until=${far}`)).items.find((r) => r.group === gpu.id)!;
    expect(again.gpuCostUsd).toBe(once.gpuCostUsd);
    const ended = expectBody(await api.get(`/api/v1/deployments/${stopped.id}`), 200, DeploymentResponse);
    expect(once.gpuCostUsd).toBeCloseTo((3600 * 2 * (Date.parse(ended.updatedAt) - Date.parse(gpu.createdAt))) / 3_600_000, 6);
  });

  it('charges an idle GPU deployment to its model; narrows a limited token to its namespaces', async () => {
    const team = `i${uid()}`;
    const model = `${team}/idle`;
    await pushModel(api, model, '1.0.0');
    await deploy(model, { gpuHourUsd: 36 });
    await new Promise((r) => setTimeout(r, 200));
    const byModel = await cost('groupBy=model');
    const mine = byModel.items.find((r) => r.group === model)!;
    expect(mine).toMatchObject({ requests: 0, inputTokens: 0, outputTokens: 0, tokenCostUsd: 0, costPerMTokUsd: null });
    expect(mine.gpuCostUsd).toBeGreaterThan(0);
    const viewer = expectBody(await api.post('/api/v1/tokens', { name: `v-${uid()}`, role: 'viewer', namespaces: [team] }), 201, CreatedTokenResponse).token;
    expect((await cost('groupBy=model', viewer)).items.map((r) => r.group)).toEqual([model]);
    const other = expectBody(await api.post('/api/v1/tokens', { name: `o-${uid()}`, role: 'viewer', namespaces: [`x${uid()}`] }), 201, CreatedTokenResponse).token;
    expect((await cost('groupBy=model', other)).items).toEqual([]);
  });

  it('refuses bad periods and groupings', async () => {
    expectError(await api.get('/api/v1/cost?since=yesterday'), 400, 'invalid_argument');
    expectError(await api.get('/api/v1/cost?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z'), 400, 'invalid_argument');
    expectError(await api.get('/api/v1/cost?groupBy=version'), 400, 'invalid_argument');
    expectError(await api.post('/api/v1/deployments', { model: 'x:1.0.0', environment: 'staging', driver: 'external', endpoint: { url: fake.url }, gpuHourUsd: -1 }), 400, 'invalid_argument');
  });
});

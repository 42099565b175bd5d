/**
 * A stage for rollout tests: a model with two ready versions, an environment of its own where
 * 1.0.0 is promoted and served by an external deployment (a fake upstream), a candidate 2.0.0
 * served by another fake, a gateway key, and a steady load of requests through the gateway.
 */
import { expect } from 'vitest';
import { DeploymentResponse } from '../../src/contracts/deployments.js';
import { CreatedKeyResponse } from '../../src/contracts/gateway.js';
import { EnvironmentResponse, PointerList, PromotionResponse, type EnvironmentPolicyInput } from '../../src/contracts/promotions.js';
import { RolloutDetail } from '../../src/contracts/rollouts.js';
import { pushModel } from './evals-fixtures.js';
import { startFakeOpenAI, type FakeOpenAI } from './fake-openai.js';
import { expectBody, uid, type Api } from './test-api.js';

export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 30_000, everyMs = 25): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function deployExternal(api: Api, model: string, version: string, env: string, up: FakeOpenAI): Promise<string> {
  const d = expectBody(await api.post('/api/v1/deployments', { model: `${model}:${version}`, environment: env, driver: 'external', endpoint: { url: up.url } }), 201, DeploymentResponse);
  await waitFor(`deployment ${d.id} ready`, async () => expectBody(await api.get(`/api/v1/deployments/${d.id}`), 200, DeploymentResponse).state === 'ready');
  return d.id;
}

export interface Stage {
  model: string;
  env: string;
  stable: FakeOpenAI;
  canary: FakeOpenAI;
  stableDeployment: string;
  candidateDeployment: string | null;
  key: string;
  close(): Promise<void>;
}

/**
 * Builds the stage. The environment's traffic is pinned to the stable deployment before the
 * candidate's external deployment exists (an operator would do the same: a deployment in the
 * environment otherwise takes its share at once).
 */
export async function stage(api: Api, opts: { policy?: EnvironmentPolicyInput; candidate?: boolean } = {}): Promise<Stage> {
  const model = `ro${uid()}/chat`;
  const env = `r${uid()}`;
  expectBody(await api.put(`/api/v1/environments/${env}`, { description: 'rollout test', ...(opts.policy ?? {}) }), 200, EnvironmentResponse);
  await pushModel(api, model, '1.0.0');
  await pushModel(api, model, '2.0.0');
  const p = expectBody(await api.post('/api/v1/promotions', { model: `${model}:1.0.0`, to: env }), 201, PromotionResponse);
  expect(p.state).toBe('completed');
  const stable = await startFakeOpenAI({ answers: { who: 'stable' } });
  const canary = await startFakeOpenAI({ answers: { who: 'canary' } });
  const stableDeployment = await deployExternal(api, model, '1.0.0', env, stable);
  expect((await api.put(`/api/v1/traffic/${encodeURIComponent(model)}/${env}`, { arms: [{ deployment: stableDeployment, weight: 100 }] })).status).toBe(200);
  const candidateDeployment = opts.candidate === false ? null : await deployExternal(api, model, '2.0.0', env, canary);
  const key = expectBody(await api.post('/api/v1/keys', { name: `ro-${uid()}`, defaultEnvironment: env }), 201, CreatedKeyResponse).key;
  return { model, env, stable, canary, stableDeployment, candidateDeployment, key, close: async () => void (await Promise.all([stable.close(), canary.close()])) };
}

export async function pointerOf(api: Api, model: string, env: string): Promise<string | null> {
  return expectBody(await api.get(`/api/v1/pointers?model=${encodeURIComponent(model)}&environment=${env}`), 200, PointerList).items[0]?.version ?? null;
}

export async function rolloutOf(api: Api, id: string): Promise<RolloutDetail> {
  return expectBody(await api.get(`/api/v1/rollouts/${id}`), 200, RolloutDetail);
}

export async function waitRollout(api: Api, id: string, until: (r: RolloutDetail) => boolean, timeoutMs = 30_000): Promise<RolloutDetail> {
  let last: RolloutDetail | null = null;
  try {
    return await waitFor(`rollout ${id}`, async () => {
      last = await rolloutOf(api, id);
      return until(last) ? last : null;
    }, timeoutMs, 50);
  } catch (err) {
    const l = last as RolloutDetail | null;
    const brief = l ? `state ${l.state} at step ${l.step} (${l.reason ?? 'no reason'}); last analysis: ${l.lastAnalysis?.reason ?? 'none'}; timeline: ${l.timeline.map((t) => t.message).join(' | ')}` : 'nothing';
    throw new Error(`${(err as Error).message}; last seen: ${brief}`);
  }
}

/** Requests at a steady rate through the gateway until stopped; counts answers by status. */
export function load(gatewayUrl: string, key: string, model: string, perSecond: number) {
  const statuses = new Map<number, number>();
  let inFlight = 0;
  let sent = 0;
  const tickMs = 20;
  // Owed by the clock, not by ticks: a starved timer (a loaded machine) sends late, not less.
  let owed = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    owed += ((now - last) / 1000) * perSecond;
    last = now;
    for (; owed >= 1; owed--) {
      sent++;
      inFlight++;
      fetch(`${gatewayUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'who' }] }),
      })
        .then(async (r) => {
          await r.arrayBuffer();
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        })
        .catch(() => statuses.set(0, (statuses.get(0) ?? 0) + 1))
        .finally(() => inFlight--);
    }
  }, tickMs);
  return {
    statuses,
    get sent() {
      return sent;
    },
    async stop() {
      clearInterval(timer);
      await waitFor('requests in flight', async () => inFlight === 0, 10_000);
    },
  };
}

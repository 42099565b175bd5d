// Two gateways sharing key limits through Redis (127.0.0.1:6379): a budget and a requests-per-
// minute limit hold across both, and a gateway whose Redis is gone keeps serving on local limits.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewaySnapshot, UsageBatch } from '../src/contracts/gateway.js';
import { createRedisLimiter } from '../src/gateway/gateway-limits-redis.js';
import { startGatewayServer, type RunningGateway } from '../src/gateway/gateway-server.js';
import { hashKey } from '../src/gateway/gateway-table.js';
import { createLogger } from '../src/platform/log.js';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.js';

const log = createLogger({ level: 'silent' });
const REDIS = process.env.STEWARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('gateway limits shared through Redis', () => {
  let up: FakeOpenAI;
  const gws: RunningGateway[] = [];
  const batches: UsageBatch[] = [];
  // Fresh key ids per run: Redis keeps counters between runs.
  const run = randomUUID().slice(0, 8);
  const budgetKey = `sk-stw-budget-${run}`;
  const rpmKey = `sk-stw-rpm-${run}`;

  beforeAll(async () => {
    up = await startFakeOpenAI();
    const snapshot: GatewaySnapshot = {
      version: 1,
      compiledAt: new Date().toISOString(),
      models: [{ name: 'chat', namespace: null, environments: { production: '1.0.0' }, cache: null }],
      deployments: [{ id: 'dep_1', model: 'chat', version: '1.0.0', environment: 'production', upstreamModel: 'fake-model', apiKey: null, pricing: { inputPerMTok: 0, outputPerMTok: 1_000_000 }, targets: [{ baseUrl: up.url, replica: 0, version: '1.0.0' }] }],
      traffic: [],
      keys: [
        { id: `key_b_${run}`, hash: hashKey(budgetKey), namespace: null, models: null, defaultEnvironment: 'production', rpm: null, tpm: null, budgetUsd: 10, spentUsd: 0, expiresAt: null },
        { id: `key_r_${run}`, hash: hashKey(rpmKey), namespace: null, models: null, defaultEnvironment: 'production', rpm: 4, tpm: null, budgetUsd: null, spentUsd: 0, expiresAt: null },
      ],
    };
    for (let i = 0; i < 2; i++) {
      gws.push(
        await startGatewayServer({
          host: '127.0.0.1', port: 0, stateDir: null, gatewayId: `gw-${i}`, log,
          source: { next: async (after, signal) => (after === null ? snapshot : new Promise((r) => signal.addEventListener('abort', () => r(null), { once: true }))) },
          sink: async (b) => {
            batches.push(b);
          },
          settings: { usageFlushMs: 60_000, upstreamTimeoutMs: 5000 },
          limiter: createRedisLimiter({ url: REDIS }),
        }),
      );
    }
    for (const g of gws) await g.gateway.whenReady(5000);
  });
  afterAll(async () => {
    for (const g of gws) await g.close();
    await up.close();
  });

  const call = (g: RunningGateway, secret: string) =>
    fetch(`${g.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'chat', max_tokens: 1, messages: [{ role: 'user', content: 'ANSWER: hi' }] }) }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: { code: string } } }));

  it('1,000 concurrent requests over two gateways against a budget for 10 never overspend it', async () => {
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => call(gws[i % 2]!, budgetKey)));
    const ok = results.filter((r) => r.status === 200).length;
    expect(ok).toBeGreaterThan(0);
    expect(ok).toBeLessThanOrEqual(10);
    expect(results.filter((r) => r.status === 429 && r.body.error?.code === 'insufficient_quota').length).toBe(1000 - ok);
    for (const g of gws) await g.gateway.flushUsage();
    const spent = batches.flatMap((b) => b.records).filter((r) => r.keyId === `key_b_${run}`).reduce((n, r) => n + r.costUsd, 0);
    expect(spent).toBe(ok);
  });

  it('a requests-per-minute limit holds across gateways', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await call(gws[i % 2]!, rpmKey)).status);
    expect(statuses.slice(0, 4)).toEqual([200, 200, 200, 200]);
    expect(statuses.slice(4)).toEqual([429, 429]);
  });

  it('keeps serving on its own minute limits when Redis cannot be reached, and refuses budgeted keys', async () => {
    let fellBack: Error | null = null;
    const limiter = createRedisLimiter({ url: 'redis://127.0.0.1:1', onFallback: (e) => (fellBack = e) });
    const key = { id: 'k', hash: 'h', namespace: null, models: null, defaultEnvironment: 'production', rpm: 1, tpm: null, budgetUsd: null, spentUsd: 0, expiresAt: null, expiresAtMs: null, allows: () => true };
    const first = await limiter.admit(key, { tokens: 1, costUsd: 0 }, Date.now());
    const second = await limiter.admit(key, { tokens: 1, costUsd: 0 }, Date.now());
    expect(first.ok).toBe(true);
    expect(second.ok).toBe(false);
    expect(fellBack).not.toBeNull();
    // A budget is not held per gateway: refused until the shared store answers.
    const budgeted = await limiter.admit({ ...key, id: 'b', rpm: null, budgetUsd: 5 }, { tokens: 1, costUsd: 0.1 }, Date.now());
    expect(budgeted).toMatchObject({ ok: false, limit: 'unavailable' });
    await limiter.close?.();
  });
});

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { UsageRecord } from '../../contracts/gateway.js';
import { canonicalTime, costRows, hoursWithin, keyHash, newKeySecret, spendByKey, thresholdsCrossed } from './gateway-fns.js';

describe('gateway key secrets', () => {
  it('are sk-stw- and 32 random bytes, recognised by their prefix, stored as sha256 hex', () => {
    const a = newKeySecret();
    const b = newKeySecret();
    expect(a.secret).toMatch(/^sk-stw-[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a.secret.slice('sk-stw-'.length), 'base64url')).toHaveLength(32);
    expect(a.secret).not.toBe(b.secret);
    expect(a.secret.startsWith(a.prefix)).toBe(true);
    expect(a.prefix).toHaveLength(12);
    expect(a.hash).toBe(createHash('sha256').update(a.secret).digest('hex'));
    expect(keyHash(a.secret)).toBe(a.hash);
  });
});

describe('usage helpers', () => {
  it('normalise times to RFC 3339 UTC so reports can compare them as text, and refuse what is not a time', () => {
    expect(canonicalTime('2025-06-01T14:00:00+02:00')).toBe('2025-06-01T12:00:00.000Z');
    expect(canonicalTime('2025-06-01T12:00:00Z')).toBe('2025-06-01T12:00:00.000Z');
    expect(canonicalTime('yesterday')).toBeNull();
    expect(canonicalTime('')).toBeNull();
  });

  it('add up spend per key, ignoring records without a key or a cost', () => {
    const r = (keyId: string | null, costUsd: number) => ({ keyId, costUsd }) as UsageRecord;
    expect([...spendByKey([r('a', 0.25), r('b', 1), r('a', 0.5), r(null, 3), r('c', 0)])]).toEqual([
      ['a', 0.75],
      ['b', 1],
    ]);
  });
});

describe('budget thresholds', () => {
  it('are crossed once each, when spend reaches 50, 80 and 100 % of the budget', () => {
    expect(thresholdsCrossed(0, 4.9, 10)).toEqual([]);
    expect(thresholdsCrossed(4.9, 5, 10)).toEqual([0.5]);
    expect(thresholdsCrossed(5, 7.9, 10)).toEqual([]);
    expect(thresholdsCrossed(7.9, 12, 10)).toEqual([0.8, 1]);
    expect(thresholdsCrossed(12, 20, 10)).toEqual([]);
    expect(thresholdsCrossed(0, 10, 10)).toEqual([0.5, 0.8, 1]);
  });
  it('never fire without a budget', () => {
    expect(thresholdsCrossed(0, 100, null)).toEqual([]);
    expect(thresholdsCrossed(0, 100, 0)).toEqual([]);
  });
});

describe('cost', () => {
  const period = { since: '2026-01-01T00:00:00.000Z', until: '2026-01-02T00:00:00.000Z', now: new Date('2026-01-03T00:00:00.000Z') };
  it('counts the hours a deployment ran inside the period', () => {
    expect(hoursWithin('2025-12-01T00:00:00Z', null, period.since, period.until, period.now)).toBe(24);
    expect(hoursWithin('2026-01-01T18:00:00Z', null, period.since, period.until, period.now)).toBe(6);
    expect(hoursWithin('2025-12-01T00:00:00Z', '2026-01-01T02:30:00Z', period.since, period.until, period.now)).toBe(2.5);
    expect(hoursWithin('2026-01-05T00:00:00Z', null, period.since, period.until, period.now)).toBe(0);
    // Not past now: a period reaching into the future counts what has run.
    expect(hoursWithin('2026-01-01T00:00:00Z', null, period.since, '2026-02-01T00:00:00Z', new Date('2026-01-01T03:00:00Z'))).toBe(3);
  });

  it('shares a GPU-hour deployment out by tokens served, keeps metered cost, and gives the cost per million tokens', () => {
    const usage = [
      { deployment: 'dep_gpu', group: 'key_a', requests: 3, inputTokens: 200_000, outputTokens: 100_000, tokenCostUsd: 0 },
      { deployment: 'dep_gpu', group: 'key_b', requests: 1, inputTokens: 50_000, outputTokens: 50_000, tokenCostUsd: 0 },
      { deployment: 'dep_tok', group: 'key_b', requests: 2, inputTokens: 1000, outputTokens: 1000, tokenCostUsd: 0.5 },
    ];
    const hourly = [{ id: 'dep_gpu', model: 'acme/chat', namespace: 'acme', usdPerHour: 2, from: '2025-12-01T00:00:00Z', to: null }];
    const rows = costRows('key', usage, hourly, period);
    // 24 h × $2 = $48: 3/4 to key_a (300k of 400k tokens), 1/4 to key_b.
    expect(rows).toEqual([
      { group: 'key_a', requests: 3, inputTokens: 200_000, outputTokens: 100_000, tokenCostUsd: 0, gpuCostUsd: 36, costUsd: 36, costPerMTokUsd: 120 },
      { group: 'key_b', requests: 3, inputTokens: 51_000, outputTokens: 51_000, tokenCostUsd: 0.5, gpuCostUsd: 12, costUsd: 12.5, costPerMTokUsd: (12.5 * 1e6) / 102_000 },
    ]);
  });

  it('charges an idle GPU deployment to its model, namespace or itself, and to no key', () => {
    const hourly = [{ id: 'dep_idle', model: 'acme/chat', namespace: 'acme', usdPerHour: 1, from: '2026-01-01T12:00:00Z', to: '2026-01-01T16:00:00Z' }];
    expect(costRows('deployment', [], hourly, period)).toEqual([{ group: 'dep_idle', requests: 0, inputTokens: 0, outputTokens: 0, tokenCostUsd: 0, gpuCostUsd: 4, costUsd: 4, costPerMTokUsd: null }]);
    expect(costRows('model', [], hourly, period)[0]!.group).toBe('acme/chat');
    expect(costRows('namespace', [], hourly, period)[0]!.group).toBe('acme');
    expect(costRows('key', [], hourly, period)[0]!.group).toBeNull();
    expect(costRows('key', [], [{ ...hourly[0]!, from: '2026-02-01T00:00:00Z', to: null }], period)).toEqual([]);
  });
});

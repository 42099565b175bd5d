import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { UsageRecord } from '../../contracts/gateway.js';
import { canonicalTime, keyHash, newKeySecret, spendByKey, thresholdsCrossed } from './gateway-fns.js';

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

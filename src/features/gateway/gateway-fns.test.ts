import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { UsageRecord } from '../../contracts/gateway.js';
import { canonicalTime, keyHash, newKeySecret, spendByKey } from './gateway-fns.js';

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

import { describe, expect, it } from 'vitest';
import { formatBytes, formatCount, formatDelta, formatMetric, shortDigest, timeAgo } from './format.js';

describe('formatting figures', () => {
  it('sizes in decimal units with three significant digits', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(46_300)).toBe('46.3 KB');
    expect(formatBytes(16_060_000_000)).toBe('16.1 GB');
  });
  it('parameter counts as K, M, B', () => {
    expect(formatCount(1_100_000_000)).toBe('1.1B');
    expect(formatCount(8_030_000_000)).toBe('8B');
    expect(formatCount(70_600_000_000)).toBe('70.6B');
    expect(formatCount(950)).toBe('950');
  });
  it('metrics: scores with three decimals, units kept, nothing for null', () => {
    expect(formatMetric(0.9)).toBe('0.900');
    expect(formatMetric(23.71, 'ms')).toBe('23.7 ms');
    expect(formatMetric(null)).toBe('—');
    expect(formatDelta(0.1)).toBe('+0.100');
    expect(formatDelta(-0.05)).toBe('−0.050');
    expect(formatDelta(0)).toBe('±0.000');
  });
  it('times relative to now, digests shortened without their algorithm', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(timeAgo('2026-01-01T11:59:55Z', now)).toBe('just now');
    expect(timeAgo('2026-01-01T11:30:00Z', now)).toBe('30 min ago');
    expect(timeAgo('2025-12-30T12:00:00Z', now)).toBe('2 days ago');
    expect(shortDigest(`sha256:${'ab'.repeat(32)}`)).toBe('abababababab');
  });
});

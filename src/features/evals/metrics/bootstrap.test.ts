import { describe, expect, it } from 'vitest';
import { bootstrapCI, pairedBootstrapDelta, percentile, xorshift32 } from './bootstrap.js';
import { meanAggregate } from './metric-fns.js';
import type { CaseValue } from './metric-types.js';

const values = (xs: readonly number[]): CaseValue[] => xs.map((value) => ({ value }));
/** The same mean, but not `meanAggregate` itself: forces the general (object buffer) path. */
const wrappedMean = (v: readonly CaseValue[]) => meanAggregate(v);

describe('percentile (numpy linear interpolation)', () => {
  it('matches numpy.percentile on known inputs', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5); // np.percentile([1,2,3,4], 50)
    expect(percentile([15, 20, 35, 40, 50], 40)).toBe(29); // rank 1.6 → 20 + 0.6 × 15
    expect(percentile([3, 1, 2], 95)).toBeCloseTo(2.9, 12); // unsorted input
    expect(percentile([10, 7, 4, 3, 2, 1], 25)).toBeCloseTo(2.25, 12);
    expect(percentile([5], 99)).toBe(5);
    expect(percentile([1, 2, 3], 0)).toBe(1);
    expect(percentile([1, 2, 3], 100)).toBe(3);
  });

  it('agrees with sort-and-interpolate on random inputs with ties', () => {
    const rand = xorshift32(7);
    for (let t = 0; t < 200; t++) {
      const xs = Array.from({ length: 1 + Math.floor(rand() * 40) }, () => Math.floor(rand() * 10));
      const p = rand() * 100;
      const s = [...xs].sort((a, b) => a - b);
      const h = ((s.length - 1) * p) / 100;
      const lo = Math.floor(h);
      const expected = s[lo]! + (h - lo) * ((s[Math.min(lo + 1, s.length - 1)] ?? 0) - s[lo]!);
      expect(percentile(xs, p)).toBeCloseTo(expected, 9);
    }
  });

  it('is NaN for no values or a NaN value, and refuses p outside [0, 100]', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(percentile([1, Number.NaN], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it('does not reorder its input', () => {
    const xs = [3, 1, 2];
    percentile(xs, 50);
    expect(xs).toEqual([3, 1, 2]);
  });
});

describe('xorshift32', () => {
  it('is deterministic per seed, differs across seeds, and stays in [0, 1)', () => {
    const a = xorshift32(1);
    const b = xorshift32(1);
    const c = xorshift32(2);
    const sa = Array.from({ length: 1000 }, a);
    expect(Array.from({ length: 1000 }, b)).toEqual(sa);
    expect(Array.from({ length: 1000 }, c)).not.toEqual(sa);
    expect(sa.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(Math.abs(sa.reduce((s, x) => s + x, 0) / sa.length - 0.5)).toBeLessThan(0.05);
    expect(xorshift32(0)()).not.toBe(xorshift32(0x6d2b79f5)()); // seed 0 is usable
  });
});

describe('bootstrapCI', () => {
  it('brackets the mean with about the normal-approximation width', () => {
    // Bernoulli(0.5) × 2,000: standard error 0.5/√2000 ≈ 0.01118, 95% half-width ≈ 0.0219
    const rand = xorshift32(3);
    const xs = values(Array.from({ length: 2000 }, () => (rand() < 0.5 ? 1 : 0)));
    const mean = meanAggregate(xs);
    const { low, high } = bootstrapCI(xs, meanAggregate, { seed: 1 });
    expect(low).toBeLessThan(mean);
    expect(high).toBeGreaterThan(mean);
    expect((high - low) / 2).toBeGreaterThan(0.0219 * 0.85);
    expect((high - low) / 2).toBeLessThan(0.0219 * 1.15);
  });

  it('is reproducible for a seed and changes with it', () => {
    const xs = values([1, 5, 2, 8, 3, 9, 4, 7]);
    expect(bootstrapCI(xs, meanAggregate, { seed: 42 })).toEqual(bootstrapCI(xs, meanAggregate, { seed: 42 }));
    expect(bootstrapCI(xs, meanAggregate, { seed: 42 })).not.toEqual(bootstrapCI(xs, meanAggregate, { seed: 43 }));
  });

  it('gives the same figures on the mean fast path and the general path', () => {
    const xs = values([0.1, 0.9, 0.4, 0.4, 0.7, 0.2, 1, 0]);
    expect(bootstrapCI(xs, meanAggregate, { seed: 9, resamples: 300 })).toEqual(bootstrapCI(xs, wrappedMean, { seed: 9, resamples: 300 }));
    const other = values([0.3, 0.9, 0.1, 0.5, 0.8, 0.2, 0.6, 0.4]);
    expect(pairedBootstrapDelta(xs, other, meanAggregate, { seed: 9 })).toEqual(pairedBootstrapDelta(xs, other, wrappedMean, { seed: 9 }));
  });

  it('narrows with a lower confidence and works with any aggregate (here a median)', () => {
    const xs = values(Array.from({ length: 200 }, (_, i) => i));
    const wide = bootstrapCI(xs, meanAggregate, { confidence: 0.99 });
    const narrow = bootstrapCI(xs, meanAggregate, { confidence: 0.8 });
    expect(narrow.high - narrow.low).toBeLessThan(wide.high - wide.low);
    const median = (v: readonly CaseValue[]) => percentile(v.map((c) => c.value!), 50);
    const ci = bootstrapCI(xs, median, { seed: 5 });
    expect(ci.low).toBeLessThanOrEqual(99.5);
    expect(ci.high).toBeGreaterThanOrEqual(99.5);
  });

  it('leaves null values out and is NaN without values', () => {
    expect(bootstrapCI([], meanAggregate)).toEqual({ low: Number.NaN, high: Number.NaN });
    expect(bootstrapCI([{ value: null, error: 'x' }], meanAggregate)).toEqual({ low: Number.NaN, high: Number.NaN });
    expect(bootstrapCI([{ value: 2 }, { value: null }, { value: 2 }], wrappedMean)).toEqual({ low: 2, high: 2 });
  });

  it('refuses bad options', () => {
    expect(() => bootstrapCI(values([1]), meanAggregate, { resamples: 0 })).toThrow(RangeError);
    expect(() => bootstrapCI(values([1]), meanAggregate, { confidence: 1 })).toThrow(RangeError);
  });

  it('resamples 20,000 cases 1,000 times for a mean well under a second', () => {
    const rand = xorshift32(11);
    const xs = values(Array.from({ length: 20_000 }, () => rand()));
    const started = performance.now();
    const ci = bootstrapCI(xs, meanAggregate, { resamples: 1000, seed: 1 });
    const ms = performance.now() - started;
    expect(ci.low).toBeLessThan(ci.high);
    expect(ms).toBeLessThan(1000);
  });
});

describe('pairedBootstrapDelta', () => {
  it('finds a consistent improvement significant and a noise-only change not', () => {
    const rand = xorshift32(5);
    const base = Array.from({ length: 500 }, () => rand());
    const a = values(base);
    const better = values(base.map((x) => x + 0.05 + (rand() - 0.5) * 0.02));
    const d = pairedBootstrapDelta(a, better, meanAggregate, { seed: 1 });
    expect(d.delta).toBeCloseTo(meanAggregate(better) - meanAggregate(a), 12);
    expect(d.low).toBeGreaterThan(0);
    expect(d.high).toBeGreaterThan(d.low);
    const same = values(base.map((x) => x + (rand() - 0.5) * 0.02));
    const n = pairedBootstrapDelta(a, same, meanAggregate, { seed: 1 });
    expect(n.low).toBeLessThan(0);
    expect(n.high).toBeGreaterThan(0);
  });

  it('pairs jointly: identical runs give a zero-width interval at 0', () => {
    const a = values([0.2, 0.9, 0.4, 0.1]);
    expect(pairedBootstrapDelta(a, a, wrappedMean, { seed: 3 })).toEqual({ delta: 0, low: 0, high: 0 });
  });

  it('is narrower than treating the runs as independent when cases vary a lot', () => {
    // case difficulty dominates the spread; the paired difference is a constant 0.1
    const a = values(Array.from({ length: 100 }, (_, i) => (i % 10) / 10));
    const b = values(Array.from({ length: 100 }, (_, i) => (i % 10) / 10 + 0.1));
    const d = pairedBootstrapDelta(a, b, meanAggregate);
    expect(d.low).toBeCloseTo(0.1, 9);
    expect(d.high).toBeCloseTo(0.1, 9);
  });

  it('drops pairs with a null side, refuses unequal lengths, and is NaN with no pairs', () => {
    const a: CaseValue[] = [{ value: 1 }, { value: null }, { value: 3 }];
    const b: CaseValue[] = [{ value: 2 }, { value: 100 }, { value: 4 }];
    expect(pairedBootstrapDelta(a, b, meanAggregate).delta).toBe(1);
    expect(() => pairedBootstrapDelta(a, b.slice(1), meanAggregate)).toThrow(RangeError);
    expect(pairedBootstrapDelta([{ value: null }], [{ value: 1 }], meanAggregate)).toEqual({ delta: Number.NaN, low: Number.NaN, high: Number.NaN });
  });
});

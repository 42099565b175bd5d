/**
 * Bootstrap confidence intervals over cases, and the percentile they are read with.
 *
 * - `bootstrapCI`: resample the cases with replacement `resamples` times, aggregate each resample
 *   with the metric's own `aggregate`, and read the interval off the percentiles of those figures
 *   (the percentile method). Corpus metrics work unchanged because each case carries its stats.
 * - `pairedBootstrapDelta`: a[i] and b[i] are the same case in two runs; each resample draws case
 *   indices once and uses them for both runs, so the interval is that of the paired difference
 *   (Koehn 2004; sacreBLEU's `--paired-bs`).
 *
 * Deterministic: the generator is mulberry32 seeded by `seed` (default 12345, sacreBLEU's
 * default bootstrap seed), so a figure is reproducible from its inputs.
 *
 * Speed: a resample does not build new objects. One buffer array of length n is refilled in place
 * and handed to `aggregate` (which must not keep it), so 20,000 cases × 1,000 resamples of a mean
 * is 20 M index draws and reads. `percentile` selects rather than sorts.
 */
import type { CaseValue } from './metric-types.js';

export interface BootstrapOptions {
  /** Number of resamples (default 1000). */
  resamples?: number;
  /** Two-sided confidence level in (0, 1) (default 0.95). */
  confidence?: number;
  /** PRNG seed (default 12345). */
  seed?: number;
}

export type Aggregate = (values: readonly CaseValue[]) => number;

const DEFAULT_RESAMPLES = 1000;
const DEFAULT_CONFIDENCE = 0.95;
const DEFAULT_SEED = 12345;

/** mulberry32: a 32-bit-state generator, uniform floats in [0, 1). Small, fast, good enough for resampling. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- percentile -------------------------------------------------------------------------------

/** Rearranges a[lo..hi] so that a[k] is the k-th smallest of that range (Hoare quickselect, median of three). */
function select(a: Float64Array, k: number): void {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // median of three as the pivot: sorted input stays O(n)
    if (a[mid]! < a[lo]!) swap(a, mid, lo);
    if (a[hi]! < a[lo]!) swap(a, hi, lo);
    if (a[hi]! < a[mid]!) swap(a, hi, mid);
    const pivot = a[mid]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

/**
 * The p-th percentile (p in [0, 100]) with linear interpolation between the two nearest ranks —
 * numpy's default (`method='linear'`): rank h = (n − 1)·p/100, result x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]).
 * Input in any order; NaN when empty or when any value is NaN (as numpy).
 */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be in [0, 100], got ${p}`);
  const n = values.length;
  if (n === 0) return Number.NaN;
  const a = Float64Array.from(values);
  for (let i = 0; i < n; i++) if (Number.isNaN(a[i]!)) return Number.NaN;
  const h = ((n - 1) * p) / 100;
  const lo = Math.floor(h);
  select(a, lo);
  const low = a[lo]!;
  if (lo + 1 >= n || h === lo) return low;
  // after selection everything right of lo is >= a[lo]; the next rank is the least of them
  let next = Number.POSITIVE_INFINITY;
  for (let i = lo + 1; i < n; i++) if (a[i]! < next) next = a[i]!;
  return low + (h - lo) * (next - low);
}

// ---- bootstrap --------------------------------------------------------------------------------

function options(opts: BootstrapOptions): { resamples: number; confidence: number; seed: number } {
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  const confidence = opts.confidence ?? DEFAULT_CONFIDENCE;
  if (!Number.isInteger(resamples) || resamples < 1) throw new RangeError(`bootstrap: resamples must be a positive integer, got ${resamples}`);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`bootstrap: confidence must be in (0, 1), got ${confidence}`);
  return { resamples, confidence, seed: opts.seed ?? DEFAULT_SEED };
}

/** The interval [low, high] of the finite bootstrap figures (NaN bounds when there are none). */
function interval(figures: Float64Array, count: number, confidence: number): { low: number; high: number } {
  const finite: number[] = [];
  for (let i = 0; i < count; i++) if (Number.isFinite(figures[i]!)) finite.push(figures[i]!);
  if (finite.length === 0) return { low: Number.NaN, high: Number.NaN };
  const tail = ((1 - confidence) / 2) * 100;
  return { low: percentile(finite, tail), high: percentile(finite, 100 - tail) };
}

/**
 * Percentile-bootstrap confidence interval of `aggregate(values)`. Values with a null `value` are
 * left out first (they are not part of the figure). NaN bounds when no value remains. Resamples
 * whose figure is not finite (e.g. a resample with no usable stats) are left out of the interval.
 */
export function bootstrapCI(values: readonly CaseValue[], aggregate: Aggregate, opts: BootstrapOptions = {}): { low: number; high: number } {
  const { resamples, confidence, seed } = options(opts);
  const usable = values.filter((v) => v.value !== null);
  const n = usable.length;
  if (n === 0) return { low: Number.NaN, high: Number.NaN };
  const rand = mulberry32(seed);
  const buffer = usable.slice();
  const figures = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) buffer[i] = usable[(rand() * n) | 0]!;
    figures[r] = aggregate(buffer);
  }
  return interval(figures, resamples, confidence);
}

/**
 * Paired bootstrap of `aggregate(b) − aggregate(a)`, where a[i] and b[i] are the same case in two
 * runs (arrays of equal length). Each resample draws case indices once and applies them to both
 * runs. A pair where either side has a null value is left out before resampling, so both figures
 * always cover the same cases. `delta` is on those pairs; NaN everywhere when none remain.
 */
export function pairedBootstrapDelta(
  a: readonly CaseValue[],
  b: readonly CaseValue[],
  aggregate: Aggregate,
  opts: BootstrapOptions = {},
): { delta: number; low: number; high: number } {
  if (a.length !== b.length) throw new RangeError(`pairedBootstrapDelta: runs differ in length (${a.length} and ${b.length}); pair the cases first`);
  const { resamples, confidence, seed } = options(opts);
  const ua: CaseValue[] = [];
  const ub: CaseValue[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.value === null || b[i]!.value === null) continue;
    ua.push(a[i]!);
    ub.push(b[i]!);
  }
  const n = ua.length;
  if (n === 0) return { delta: Number.NaN, low: Number.NaN, high: Number.NaN };
  const delta = aggregate(ub) - aggregate(ua);
  const rand = mulberry32(seed);
  const bufA = ua.slice();
  const bufB = ub.slice();
  const figures = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) {
      const k = (rand() * n) | 0;
      bufA[i] = ua[k]!;
      bufB[i] = ub[k]!;
    }
    figures[r] = aggregate(bufB) - aggregate(bufA);
  }
  return { delta, ...interval(figures, resamples, confidence) };
}

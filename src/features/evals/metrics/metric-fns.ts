/**
 * Helpers shared by the metric families: the per-case error texts every metric uses, the mean
 * aggregate, Python-compatible whitespace handling (the reference implementations we port —
 * SQuAD's evaluation script, sacreBLEU, rouge-score — are Python, and `str.split()` splits on a
 * different set of characters than JavaScript's `\s`), and SQuAD v1.1's `normalize_answer`.
 */
import type { CaseOutcome, CaseValue, MetricDefinition, ScoreContext } from './metric-types.js';

/** A metric that scores without I/O: its `score` returns the value itself, never a promise. */
export interface SyncMetricDefinition<P> extends MetricDefinition<P> {
  score(outcome: CaseOutcome, params: P, ctx: ScoreContext): CaseValue;
}

/** The error of a case that a reference-based metric cannot score. */
export const NO_REFERENCES = 'case has no expected output or references';

export function failed(error: string, detail?: Record<string, unknown>): CaseValue {
  return detail ? { value: null, error, detail } : { value: null, error };
}

/**
 * Mean of the non-null per-case values; NaN when there are none. A plain loop, no allocation:
 * bootstrap calls it a thousand times per figure.
 */
export function meanAggregate(values: readonly CaseValue[]): number {
  let sum = 0;
  let n = 0;
  for (const v of values) {
    if (v.value === null) continue;
    sum += v.value;
    n++;
  }
  return n === 0 ? Number.NaN : sum / n;
}

/**
 * Sum of the `stats` vectors of the non-null values (the first `width` entries of each); null when
 * there are none. Indexed loops over a Float64Array: bootstrap calls this per resample.
 */
export function sumStats(values: readonly CaseValue[], width: number): Float64Array | null {
  const total = new Float64Array(width);
  let n = 0;
  for (let j = 0; j < values.length; j++) {
    const v = values[j]!;
    const stats = v.stats;
    if (v.value === null || stats === undefined) continue;
    for (let i = 0; i < width; i++) total[i]! += stats[i] ?? 0;
    n++;
  }
  return n === 0 ? null : total;
}

// ---- Python str semantics -----------------------------------------------------------------

/** The characters Python's `str.split()` / `str.strip()` treat as whitespace (Py_UNICODE_ISSPACE). */
const PY_WS = '\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_WS_RUN = new RegExp(`[${PY_WS}]+`, 'u');
const PY_WS_TRAILING = new RegExp(`[${PY_WS}]+$`, 'u');

/** Python's `s.split()` (no argument): split on whitespace runs, no empty strings. */
export function pySplit(s: string): string[] {
  return s.split(PY_WS_RUN).filter((t) => t.length > 0);
}

/** Python's `s.rstrip()`. */
export function pyRstrip(s: string): string {
  return s.replace(PY_WS_TRAILING, '');
}

// ---- SQuAD v1.1 ---------------------------------------------------------------------------

/** Python's `string.punctuation`: ASCII punctuation only, as SQuAD's script uses it. */
const ASCII_PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');
/**
 * `\b(a|an|the)\b` as Python 3 reads it on `str`: word characters are Unicode letters, digits and
 * `_` (JavaScript's `\b` is ASCII-only, so the boundary is spelled out with lookarounds).
 */
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/**
 * SQuAD v1.1 `normalize_answer`: lowercase, drop ASCII punctuation, replace the articles
 * a/an/the by a space, collapse whitespace — in that order, exactly as the official script.
 */
export function squadNormalize(s: string): string {
  let noPunct = '';
  for (const ch of s.toLowerCase()) if (!ASCII_PUNCTUATION.has(ch)) noPunct += ch;
  return pySplit(noPunct.replace(ARTICLES, ' ')).join(' ');
}

/** Counts of each item, the Python `collections.Counter` of a token list. */
export function countItems(items: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const t of items) counts.set(t, (counts.get(t) ?? 0) + 1);
  return counts;
}

/** The first `max` characters of `s`, with an ellipsis when it was cut (for error texts). */
export function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}

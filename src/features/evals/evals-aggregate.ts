/**
 * From per-case scores to a run's figures and from two runs to a comparison. Pure: rows in,
 * summaries out. Confidence intervals are percentile bootstraps over cases (seeded by the run
 * id, so a summary is reproducible); comparisons resample the cases both runs share, jointly.
 */
import type { ComparisonOp, MetricSummary, RunSummary, Threshold, ThresholdResult } from '../../contracts/evals.js';
import { compare } from '../../contracts/evals.js';
import { bootstrapCI, pairedBootstrapDelta } from './metrics/bootstrap.js';
import { aggregatorFor, metricUnit } from './metrics/metrics-registry.js';
import type { CaseValue, MetricDefinition } from './metrics/metric-types.js';

/** A metric of a suite, resolved: its id in reports, its definition, its parsed parameters. */
export interface MetricInstance {
  id: string;
  def: MetricDefinition;
  params: Record<string, unknown>;
}

export interface ScoredRow {
  caseId: string;
  ok: boolean;
  scores: Record<string, CaseValue>;
}

/** A stable 32-bit seed from a string (FNV-1a). */
export function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const finite = (n: number): number | null => (Number.isFinite(n) ? n : null);

function valuesOf(rows: readonly ScoredRow[], id: string): { values: CaseValue[]; errors: number } {
  const values: CaseValue[] = [];
  let errors = 0;
  for (const r of rows) {
    if (!r.ok) continue;
    const s = r.scores[id];
    if (s && s.value !== null && Number.isFinite(s.value)) values.push(s);
    else errors++;
  }
  return { values, errors };
}

export function summarize(
  metrics: readonly MetricInstance[],
  thresholds: readonly Threshold[],
  rows: readonly ScoredRow[],
  opts: { total: number; failed: number; durationMs: number; resamples: number; seed: number; answered?: number },
): RunSummary {
  const out: MetricSummary[] = metrics.map((m) => {
    const { values, errors } = valuesOf(rows, m.id);
    // The registry's aggregator: a plain mean takes the bootstrap's numeric fast path.
    const agg = aggregatorFor(m.def, m.params);
    const value = values.length ? finite(agg(values)) : null;
    const ci = values.length > 1 && opts.resamples > 0 ? bootstrapCI(values, agg, { resamples: opts.resamples, seed: opts.seed }) : null;
    return {
      id: m.id,
      metric: m.def.name,
      value,
      low: ci ? finite(ci.low) : value,
      high: ci ? finite(ci.high) : value,
      scored: values.length,
      errors,
      unit: metricUnit(m.def, m.params),
      higherIsBetter: m.def.higherIsBetter,
    };
  });
  const byId = new Map(out.map((m) => [m.id, m]));
  const checked: ThresholdResult[] = thresholds.map((t) => {
    const actual = byId.get(t.metric)?.value ?? null;
    return { ...t, actual, passed: actual !== null && compare(actual, t.op as ComparisonOp, t.value) };
  });
  // Cases answered in the timed execution (a resumed run answered the others earlier).
  const done = opts.answered ?? rows.length;
  return {
    metrics: out,
    thresholds: checked,
    passed: checked.every((t) => t.passed),
    errorRate: opts.total ? opts.failed / opts.total : 0,
    durationMs: Math.round(opts.durationMs),
    casesPerSecond: opts.durationMs > 0 ? Math.round((done / opts.durationMs) * 1000 * 10) / 10 : 0,
  };
}

export interface MetricComparisonOut {
  id: string;
  metric: string;
  a: number | null;
  b: number | null;
  delta: number | null;
  low: number | null;
  high: number | null;
  higherIsBetter: boolean;
  verdict: 'better' | 'worse' | 'no significant change' | 'not comparable';
}

export interface FlipOut {
  caseId: string;
  metric: string;
  a: number | null;
  b: number | null;
  direction: 'fixed' | 'broke';
}

/**
 * `b` against `a`, on the cases both runs scored (matched by case id) for each metric the two
 * share. A delta is significant when its paired-bootstrap interval excludes zero. Flips: cases
 * whose binary metric changed, and cases whose request failed in one run only.
 */
export function compareRuns(
  metrics: readonly MetricInstance[],
  a: readonly ScoredRow[],
  b: readonly ScoredRow[],
  opts: { resamples: number; seed: number; maxFlips: number },
): { commonCases: number; metrics: MetricComparisonOut[]; flipped: FlipOut[]; flippedTruncated: boolean } {
  const bById = new Map(b.map((r) => [r.caseId, r]));
  const pairs: [ScoredRow, ScoredRow][] = [];
  for (const ra of a) {
    const rb = bById.get(ra.caseId);
    if (rb) pairs.push([ra, rb]);
  }
  const flipped: FlipOut[] = [];
  let truncated = false;
  const flip = (f: FlipOut) => {
    if (flipped.length < opts.maxFlips) flipped.push(f);
    else truncated = true;
  };
  const outs = metrics.map((m): MetricComparisonOut => {
    const agg = aggregatorFor(m.def, m.params);
    const va: CaseValue[] = [];
    const vb: CaseValue[] = [];
    for (const [ra, rb] of pairs) {
      const sa = ra.ok ? ra.scores[m.id] : undefined;
      const sb = rb.ok ? rb.scores[m.id] : undefined;
      if (!sa || !sb || sa.value === null || sb.value === null) continue;
      va.push(sa);
      vb.push(sb);
      if (m.def.binary && sa.value !== sb.value) {
        const improved = m.def.higherIsBetter ? sb.value > sa.value : sb.value < sa.value;
        flip({ caseId: ra.caseId, metric: m.id, a: sa.value, b: sb.value, direction: improved ? 'fixed' : 'broke' });
      }
    }
    const base = { id: m.id, metric: m.def.name, higherIsBetter: m.def.higherIsBetter };
    if (!va.length) return { ...base, a: null, b: null, delta: null, low: null, high: null, verdict: 'not comparable' };
    const av = finite(agg(va));
    const bv = finite(agg(vb));
    const d = opts.resamples > 0 && va.length > 1 ? pairedBootstrapDelta(va, vb, agg, { resamples: opts.resamples, seed: opts.seed }) : null;
    const delta = av !== null && bv !== null ? bv - av : null;
    const low = d ? finite(d.low) : delta;
    const high = d ? finite(d.high) : delta;
    let verdict: MetricComparisonOut['verdict'] = 'no significant change';
    if (delta === null) verdict = 'not comparable';
    else if (low !== null && high !== null && (low > 0 || high < 0) && delta !== 0) {
      verdict = delta > 0 === m.def.higherIsBetter ? 'better' : 'worse';
    }
    return { ...base, a: av, b: bv, delta, low, high, verdict };
  });
  for (const [ra, rb] of pairs) {
    if (ra.ok !== rb.ok) flip({ caseId: ra.caseId, metric: 'request', a: ra.ok ? 1 : 0, b: rb.ok ? 1 : 0, direction: rb.ok ? 'fixed' : 'broke' });
  }
  return { commonCases: pairs.length, metrics: outs, flipped, flippedTruncated: truncated };
}

/**
 * Pure rules of rollouts: the plan of steps a strategy makes, the traffic split of a step, the
 * verdict of an analysis (too little traffic is inconclusive, never a pass), and the report of an
 * experiment with its intervals (Wilson for error rates, Newcombe for their difference, the
 * normal approximation for latency means).
 */
import type { AnalysisCheck, AnalysisSpec, ArmMetrics, ExperimentReport, RolloutSpec, RolloutStep } from '../../contracts/rollouts.js';
import type { TrafficBody } from '../../contracts/gateway.js';

/** z of a two-sided 95% interval. */
const Z95 = 1.959963984540054;
/** A p95 of fewer requests per arm is its few slowest requests, not a percentile worth comparing. */
const LATENCY_COMPARISON_MIN = 100;
/** The candidate's p95 must also exceed the stable arm's by this much to be a regression. */
const LATENCY_MARGIN_MS = 250;

/** The steps a strategy takes; `rolling` has none (it is the promotion's in-place update). */
export function planSteps(spec: RolloutSpec): RolloutStep[] {
  const analyse = spec.analysis.enabled;
  const step = (kind: RolloutStep['kind'], weight: number, holdSeconds: number, shadowPercent: number | null = null): RolloutStep => ({ kind, weight, shadowPercent, holdSeconds, analyse });
  switch (spec.strategy) {
    case 'canary': {
      const weights = spec.weights ? [spec.weights[1], 100].filter((w, i, a) => a.indexOf(w) === i) : spec.steps;
      return weights.map((w) => step('traffic', w, spec.pause));
    }
    case 'blue-green':
      // Green previewed with a share of traffic, then everything switched at once; blue stays warm for the grace.
      return [...(spec.previewPercent > 0 ? [step('traffic', spec.previewPercent, spec.pause)] : []), step('switch', 100, spec.grace)];
    case 'ab':
      return [step('experiment', spec.weights?.[1] ?? 50, spec.pause)];
    case 'shadow':
      return [step('shadow', 0, spec.pause, spec.shadowPercent)];
    case 'rolling':
      return [];
  }
}

/** Strategies whose last step ends in a decision (a report to read), not in the switch. */
export const decidesAtEnd = (strategy: string): boolean => strategy === 'ab' || strategy === 'shadow';

/** The split of a step: stable and candidate arms by weight (a 0-weight arm stays listed: blue kept warm), the fallbacks kept. */
export function stepTraffic(s: RolloutStep, arms: { stable: string; candidate: string }, sticky: string, fallbacks: readonly string[]): TrafficBody {
  if (s.kind === 'shadow') {
    return { arms: [{ deployment: arms.stable, weight: 100 }], sticky: 'none', shadow: { deployment: arms.candidate, percent: s.shadowPercent ?? 100 }, fallbacks: [...fallbacks] };
  }
  return {
    arms: [
      { deployment: arms.stable, weight: 100 - s.weight },
      { deployment: arms.candidate, weight: s.weight },
    ],
    sticky: s.kind === 'experiment' ? sticky : 'none',
    shadow: null,
    fallbacks: [...fallbacks],
  };
}

/** All traffic on the stable arm: where an abort returns. */
export function stableTraffic(stable: string, fallbacks: readonly string[]): TrafficBody {
  return { arms: [{ deployment: stable, weight: 100 }], sticky: 'none', shadow: null, fallbacks: [...fallbacks] };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const ms = (x: number) => `${Math.round(x)} ms`;

/**
 * The verdict of one analysis of the candidate (and the stable arm over the same window).
 * Each check passes, fails or is inconclusive; any failure fails, else any inconclusive is
 * inconclusive. With fewer than `minRequests` requests nothing passes — but errors alone can
 * already prove a failure (more errors than the threshold allows of `minRequests`).
 */
export function judge(a: AnalysisSpec, candidate: ArmMetrics, stable: ArmMetrics | null, health: { unhealthy: number; state: string }): { verdict: 'pass' | 'fail' | 'inconclusive'; reason: string; checks: AnalysisCheck[] } {
  const checks: AnalysisCheck[] = [];
  const add = (name: string, status: AnalysisCheck['status'], reason: string) => checks.push({ name, status, reason });

  if (health.state === 'failed' || health.state === 'degraded' || health.state === 'stopped' || health.unhealthy > 0) {
    add('health', 'fail', `the candidate deployment is ${health.state}${health.unhealthy ? ` with ${health.unhealthy} unhealthy or failed replica(s)` : ''}`);
  } else add('health', 'pass', `the candidate deployment is ${health.state}`);

  const enough = candidate.requests >= a.minRequests;
  const few = `${candidate.requests} request(s) in the window, fewer than the ${a.minRequests} an analysis needs`;
  if (candidate.errors > a.maxErrorRate * Math.max(a.minRequests, candidate.requests)) {
    add('error-rate', 'fail', `${candidate.errors} error(s) in ${candidate.requests} request(s): ${pct(candidate.errorRate ?? 1)} exceeds ${pct(a.maxErrorRate)}`);
  } else if (!enough) add('error-rate', 'inconclusive', few);
  else add('error-rate', 'pass', `${pct(candidate.errorRate ?? 0)} ≤ ${pct(a.maxErrorRate)} over ${candidate.requests} requests`);

  const bound = (name: string, value: number | null, limit: number | null, above: boolean, fmt: (x: number) => string) => {
    if (limit === null) return;
    if (!enough) return add(name, 'inconclusive', few);
    if (value === null) return add(name, 'inconclusive', `no ${name} measured in the window`);
    const bad = above ? value > limit : value < limit;
    add(name, bad ? 'fail' : 'pass', `${fmt(value)} ${bad ? (above ? '>' : '<') : above ? '≤' : '≥'} ${fmt(limit)}`);
  };
  bound('p95-latency', candidate.p95LatencyMs, a.maxP95LatencyMs, true, ms);
  // Time to first token exists only for streamed requests: none streamed is not a failure.
  if (a.maxP95TtftMs !== null && candidate.p95TtftMs === null && enough) add('p95-ttft', 'pass', 'no streamed requests in the window');
  else bound('p95-ttft', candidate.p95TtftMs, a.maxP95TtftMs, true, ms);
  bound('tokens-per-second', candidate.tokensPerSecond, a.minTokensPerSecond, false, (x) => `${x.toFixed(1)} tok/s`);

  // Against the stable arm, when both saw enough traffic in the same window.
  if (stable && enough && stable.requests >= a.minRequests) {
    if (a.maxErrorRateIncrease !== null && candidate.errorRate !== null && stable.errorRate !== null) {
      // Worse by more than allowed with 95% confidence (Newcombe's interval of the difference):
      // one unlucky error among a few dozen requests is not a regression.
      const d = proportionDifference(stable.errors, stable.requests, candidate.errors, candidate.requests);
      const bad = d.low !== null && d.low > a.maxErrorRateIncrease;
      add('error-rate-vs-stable', bad ? 'fail' : 'pass', `${pct(candidate.errorRate)} against stable ${pct(stable.errorRate)}: the difference is ${pct(d.low ?? 0)} to ${pct(d.high ?? 0)} (95%), allowed +${pct(a.maxErrorRateIncrease)}`);
    }
    if (a.maxLatencyRatio !== null && candidate.p95LatencyMs !== null && stable.p95LatencyMs !== null && Math.min(candidate.requests, stable.requests) >= LATENCY_COMPARISON_MIN) {
      // A ratio of small latencies is noise (a cold connection pool on a new arm): 250 ms more is needed as well.
      const limit = Math.max(stable.p95LatencyMs * a.maxLatencyRatio, stable.p95LatencyMs + LATENCY_MARGIN_MS);
      const bad = candidate.p95LatencyMs > limit;
      add('p95-latency-vs-stable', bad ? 'fail' : 'pass', `${ms(candidate.p95LatencyMs)} against stable ${ms(stable.p95LatencyMs)} (at most ${ms(limit)})`);
    }
  }

  const failed = checks.filter((c) => c.status === 'fail');
  if (failed.length) return { verdict: 'fail', reason: failed.map((c) => `${c.name}: ${c.reason}`).join('; '), checks };
  const unsure = checks.filter((c) => c.status === 'inconclusive');
  if (unsure.length) return { verdict: 'inconclusive', reason: unsure.map((c) => `${c.name}: ${c.reason}`).join('; '), checks };
  return { verdict: 'pass', reason: 'every check passed', checks };
}

/** The Wilson score interval (95%) of a proportion k/n; null estimate for n = 0. */
export function wilson(k: number, n: number, z = Z95): { estimate: number | null; low: number | null; high: number | null } {
  if (n <= 0) return { estimate: null, low: null, high: null };
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // The bounds are exact at the edges (rounding would leave 1e-18 above 0 with no errors).
  return { estimate: p, low: k === 0 ? 0 : Math.max(0, centre - half), high: k === n ? 1 : Math.min(1, centre + half) };
}

/** Newcombe's hybrid score interval (method 10) of p2 − p1 from the two Wilson intervals. */
export function proportionDifference(k1: number, n1: number, k2: number, n2: number): { estimate: number | null; low: number | null; high: number | null } {
  const a = wilson(k1, n1);
  const b = wilson(k2, n2);
  if (a.estimate === null || b.estimate === null) return { estimate: null, low: null, high: null };
  const d = b.estimate - a.estimate;
  return {
    estimate: d,
    low: d - Math.sqrt((b.estimate - b.low!) ** 2 + (a.high! - a.estimate) ** 2),
    high: d + Math.sqrt((b.high! - b.estimate) ** 2 + (a.estimate - a.low!) ** 2),
  };
}

/** The normal-approximation interval (95%) of a mean. */
export function meanInterval(mean: number | null, sd: number | null, n: number): { estimate: number | null; low: number | null; high: number | null } {
  if (mean === null || sd === null || n < 2) return { estimate: mean, low: null, high: null };
  const half = Z95 * (sd / Math.sqrt(n));
  return { estimate: mean, low: mean - half, high: mean + half };
}

/** The report an A/B experiment or a shadow rollout ends with: each arm and their differences with 95% intervals. */
export function experimentReport(
  arms: { stable: { deployment: string; version: string; m: ArmMetrics }; candidate: { deployment: string; version: string; m: ArmMetrics } },
  since: string,
  at: string,
): ExperimentReport {
  const { stable: s, candidate: c } = arms;
  const arm = (x: typeof s) => ({
    deployment: x.deployment,
    version: x.version,
    requests: x.m.requests,
    errorRate: wilson(x.m.errors, x.m.requests),
    meanLatencyMs: meanInterval(x.m.meanLatencyMs, x.m.latencySdMs, x.m.requests),
    p95LatencyMs: x.m.p95LatencyMs,
  });
  const errDiff = proportionDifference(s.m.errors, s.m.requests, c.m.errors, c.m.requests);
  let latDiff: { estimate: number | null; low: number | null; high: number | null } = { estimate: null, low: null, high: null };
  if (s.m.meanLatencyMs !== null && c.m.meanLatencyMs !== null && s.m.latencySdMs !== null && c.m.latencySdMs !== null && s.m.requests > 1 && c.m.requests > 1) {
    const d = c.m.meanLatencyMs - s.m.meanLatencyMs;
    const half = Z95 * Math.sqrt(c.m.latencySdMs ** 2 / c.m.requests + s.m.latencySdMs ** 2 / s.m.requests);
    latDiff = { estimate: d, low: d - half, high: d + half };
  }
  const parts: string[] = [];
  const excludesZero = (i: { low: number | null; high: number | null }) => i.low !== null && i.high !== null && (i.low > 0 || i.high < 0);
  if (errDiff.estimate === null) parts.push('not enough traffic on both arms to compare');
  else {
    parts.push(excludesZero(errDiff) ? `error rates differ: the candidate's is ${errDiff.estimate > 0 ? 'higher' : 'lower'} by ${pct(Math.abs(errDiff.estimate))}` : 'no significant difference in error rate');
    if (latDiff.estimate !== null) parts.push(excludesZero(latDiff) ? `mean latency differs: the candidate is ${latDiff.estimate > 0 ? 'slower' : 'faster'} by ${ms(Math.abs(latDiff.estimate))}` : 'no significant difference in mean latency');
  }
  return { stable: arm(s), candidate: arm(c), errorRateDifference: errDiff, latencyDifferenceMs: latDiff, conclusion: parts.join('; '), since, at };
}

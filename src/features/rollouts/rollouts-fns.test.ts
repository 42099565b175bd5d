import { describe, expect, it } from 'vitest';
import { AnalysisSpec, parseAnalysisLine, RolloutSpec, type ArmMetrics } from '../../contracts/rollouts.js';
import { experimentReport, judge, meanInterval, planSteps, proportionDifference, stableTraffic, stepTraffic, wilson } from './rollouts-fns.js';

const arm = (over: Partial<ArmMetrics> = {}): ArmMetrics => ({
  requests: 200,
  errors: 0,
  errorRate: 0,
  clientErrors: 0,
  p95LatencyMs: 100,
  meanLatencyMs: 80,
  latencySdMs: 10,
  p95TtftMs: null,
  tokensPerSecond: 50,
  truncated: false,
  ...over,
});
const ok = { unhealthy: 0, state: 'ready' };

describe('planSteps', () => {
  it('makes one analysed traffic step per canary weight', () => {
    const steps = planSteps(RolloutSpec.parse({ strategy: 'canary', steps: [5, 25, 50, 100], pause: '30s' }));
    expect(steps.map((s) => [s.kind, s.weight, s.holdSeconds, s.analyse])).toEqual([
      ['traffic', 5, 30, true],
      ['traffic', 25, 30, true],
      ['traffic', 50, 30, true],
      ['traffic', 100, 30, true],
    ]);
  });
  it('takes manual weights as one step at the candidate share before all of it', () => {
    expect(planSteps(RolloutSpec.parse({ strategy: 'canary', weights: [90, 10] })).map((s) => s.weight)).toEqual([10, 100]);
  });
  it('previews blue-green with a share, then switches everything and holds for the grace', () => {
    const steps = planSteps(RolloutSpec.parse({ strategy: 'blue-green', pause: 60, grace: '5m', previewPercent: 10 }));
    expect(steps.map((s) => [s.kind, s.weight, s.holdSeconds])).toEqual([
      ['traffic', 10, 60],
      ['switch', 100, 300],
    ]);
  });
  it('runs an A/B split and a shadow for the pause, and has no steps for rolling', () => {
    expect(planSteps(RolloutSpec.parse({ strategy: 'ab', weights: [70, 30], pause: '1h' }))).toEqual([{ kind: 'experiment', weight: 30, shadowPercent: null, holdSeconds: 3600, analyse: true }]);
    expect(planSteps(RolloutSpec.parse({ strategy: 'shadow', shadowPercent: 20 }))[0]).toMatchObject({ kind: 'shadow', weight: 0, shadowPercent: 20 });
    expect(planSteps(RolloutSpec.parse({}))).toEqual([]);
  });
  it('refuses weights that do not sum to 100, falling steps, and a canary that never reaches 100', () => {
    expect(RolloutSpec.safeParse({ weights: [90, 20] }).error?.issues[0]?.message).toMatch(/sum to 110/);
    expect(RolloutSpec.safeParse({ strategy: 'canary', steps: [50, 25, 100] }).success).toBe(false);
    expect(RolloutSpec.safeParse({ strategy: 'canary', steps: [5, 50] }).error?.issues[0]?.message).toMatch(/end the steps with 100/);
    expect(RolloutSpec.safeParse({ pause: 'soon' }).success).toBe(false);
  });
});

describe('stepTraffic', () => {
  it('splits by weight keeping a 0-weight arm, mirrors a shadow, and returns to stable', () => {
    const arms = { stable: 'dep_s', candidate: 'dep_c' };
    const [, , , last] = planSteps(RolloutSpec.parse({ strategy: 'canary' }));
    expect(stepTraffic(last!, arms, 'key', ['backup']).arms).toEqual([{ deployment: 'dep_s', weight: 0 }, { deployment: 'dep_c', weight: 100 }]);
    const shadow = stepTraffic(planSteps(RolloutSpec.parse({ strategy: 'shadow', shadowPercent: 30 }))[0]!, arms, 'key', []);
    expect(shadow.arms).toEqual([{ deployment: 'dep_s', weight: 100 }]);
    expect(shadow.shadow).toEqual({ deployment: 'dep_c', percent: 30 });
    expect(stepTraffic(planSteps(RolloutSpec.parse({ strategy: 'ab' }))[0]!, arms, 'header:x-user', []).sticky).toBe('header:x-user');
    expect(stableTraffic('dep_s', ['backup'])).toEqual({ arms: [{ deployment: 'dep_s', weight: 100 }], sticky: 'none', shadow: null, fallbacks: ['backup'] });
  });
});

describe('judge', () => {
  const spec = AnalysisSpec.parse({});
  it('passes a healthy candidate with enough traffic', () => {
    expect(judge(spec, arm(), arm(), ok).verdict).toBe('pass');
  });
  it('is inconclusive, never a pass, with too little traffic', () => {
    const v = judge(spec, arm({ requests: 10 }), arm(), ok);
    expect(v.verdict).toBe('inconclusive');
    expect(v.reason).toMatch(/10 request\(s\).*fewer than the 50/);
    expect(judge(spec, arm({ requests: 0, errorRate: null, p95LatencyMs: null }), null, ok).verdict).toBe('inconclusive');
  });
  it('fails on errors alone when they already exceed what minRequests allows', () => {
    // 5% of 50 is 2.5: three errors in ten requests fail whatever the remaining forty would be.
    expect(judge(spec, arm({ requests: 10, errors: 3, errorRate: 0.3 }), null, ok).verdict).toBe('fail');
  });
  it('fails on the absolute thresholds of the seed', () => {
    expect(judge(spec, arm({ errors: 40, errorRate: 0.2 }), null, ok).reason).toMatch(/error-rate: 40 error\(s\) in 200/);
    expect(judge(spec, arm({ p95LatencyMs: 2500 }), null, ok).checks.find((c) => c.name === 'p95-latency')?.status).toBe('fail');
    expect(judge(AnalysisSpec.parse({ minTokensPerSecond: 100 }), arm(), null, ok).verdict).toBe('fail');
    expect(judge(AnalysisSpec.parse({ maxP95TtftMs: 100 }), arm({ p95TtftMs: 300 }), null, ok).verdict).toBe('fail');
  });
  it('compares with the stable arm over the same window', () => {
    const vs = (c: ArmMetrics, st: ArmMetrics, name: string) => judge(spec, c, st, ok).checks.find((x) => x.name === name)?.status;
    // Worse by more than 2 points with 95% confidence: 4% of 400 against none of 400.
    expect(vs(arm({ requests: 400, errors: 16, errorRate: 0.04 }), arm({ requests: 400 }), 'error-rate-vs-stable')).toBe('fail');
    // 4% of 100 against none: the difference may be under 2 points; not proven.
    expect(vs(arm({ requests: 100, errors: 4, errorRate: 0.04 }), arm({ requests: 100 }), 'error-rate-vs-stable')).toBe('pass');
    expect(vs(arm({ p95LatencyMs: 900 }), arm({ p95LatencyMs: 300 }), 'p95-latency-vs-stable')).toBe('fail');
    // Small latencies: 300 ms against 100 ms is within the 250 ms margin.
    expect(judge(spec, arm({ p95LatencyMs: 300 }), arm({ p95LatencyMs: 100 }), ok).verdict).toBe('pass');
    // A p95 of fewer than 100 requests per arm is not compared.
    expect(vs(arm({ requests: 60, p95LatencyMs: 1900 }), arm({ requests: 60, p95LatencyMs: 100 }), 'p95-latency-vs-stable')).toBeUndefined();
  });
  it('fails a degraded or unhealthy candidate', () => {
    expect(judge(spec, arm(), null, { unhealthy: 1, state: 'ready' }).verdict).toBe('fail');
    expect(judge(spec, arm(), null, { unhealthy: 0, state: 'degraded' }).verdict).toBe('fail');
  });
});

describe('intervals', () => {
  it('computes Wilson intervals (known values)', () => {
    const w = wilson(10, 100);
    expect(w.estimate).toBe(0.1);
    expect(w.low).toBeCloseTo(0.0552, 3);
    expect(w.high).toBeCloseTo(0.1744, 3);
    const zero = wilson(0, 50);
    expect(zero.low).toBe(0);
    expect(zero.high).toBeCloseTo(0.0714, 3);
    expect(wilson(0, 0)).toEqual({ estimate: null, low: null, high: null });
  });
  it("computes Newcombe's difference interval (Newcombe 1998, example: 56/70 vs 48/80)", () => {
    const d = proportionDifference(48, 80, 56, 70);
    expect(d.estimate).toBeCloseTo(0.2, 6);
    expect(d.low).toBeCloseTo(0.0524, 3);
    expect(d.high).toBeCloseTo(0.3339, 3);
  });
  it('computes a normal interval of a mean, none from one value', () => {
    const m = meanInterval(100, 20, 400);
    expect(m.low).toBeCloseTo(100 - 1.96, 2);
    expect(meanInterval(100, null, 1)).toEqual({ estimate: 100, low: null, high: null });
  });
  it('reports an experiment: a real difference excludes zero, none does not', () => {
    const report = experimentReport(
      { stable: { deployment: 'a', version: '1.0.0', m: arm({ requests: 1000, errors: 10, errorRate: 0.01 }) }, candidate: { deployment: 'b', version: '2.0.0', m: arm({ requests: 1000, errors: 60, errorRate: 0.06, meanLatencyMs: 80 }) } },
      '2026-01-01T00:00:00.000Z',
      '2026-01-01T00:10:00.000Z',
    );
    expect(report.errorRateDifference.low!).toBeGreaterThan(0);
    expect(report.conclusion).toMatch(/the candidate's is higher by 5.0%/);
    expect(report.conclusion).toMatch(/no significant difference in mean latency/);
  });
});

describe('parseAnalysisLine', () => {
  it('reads the one-line criteria and none', () => {
    expect(parseAnalysisLine('error-rate<0.05,p95<2000')).toEqual({ ok: true, spec: { maxErrorRate: 0.05, maxP95LatencyMs: 2000 } });
    expect(parseAnalysisLine('tps>20, min-requests>100')).toEqual({ ok: true, spec: { minTokensPerSecond: 20, minRequests: 100 } });
    expect(parseAnalysisLine('none')).toEqual({ ok: true, spec: { enabled: false } });
    expect(parseAnalysisLine('error-rate>0.05')).toMatchObject({ ok: false, message: expect.stringMatching(/takes "<"/) as unknown });
    expect(parseAnalysisLine('latency<5')).toMatchObject({ ok: false });
  });
});

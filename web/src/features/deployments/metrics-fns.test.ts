import { describe, expect, it } from 'vitest';
import { figureSeries, pointsOf } from './metrics-fns.js';
import { shares } from './traffic-split.js';

describe('monitoring points', () => {
  it('reads flat points and nested percentiles; a missing figure is a gap, not a zero', () => {
    const pts = pointsOf({
      points: [
        { t: '2026-01-01T00:00:00Z', requests: 10, errors: 1, latencyP50Ms: 100, latencyP95Ms: 300, tokensPerSecond: 40 },
        { at: '2026-01-01T00:01:00Z', requests: 20, errors: 0, latency: { p50: 90, p95: 250 }, ttft: { p50: 30, p95: 70 } },
      ],
    });
    expect(pts).toHaveLength(2);
    expect(pts[0]).toMatchObject({ errorRate: 0.1, latencyP95Ms: 300, ttftP50Ms: null });
    expect(pts[1]).toMatchObject({ errorRate: 0, latencyP50Ms: 90, ttftP95Ms: 70, tokensPerSecond: null });
    expect(figureSeries(pts, 'tokensPerSecond')).toEqual([
      [1767225600, 40],
      [1767225660, null],
    ]);
  });
  it('reads the points of a series list, and nothing from what is not an answer', () => {
    expect(pointsOf({ series: [{ points: [{ t: 1767225600000, requests: 1 }] }] })[0]!.t).toBe(1767225600000);
    expect(pointsOf(null)).toEqual([]);
    expect(pointsOf({ points: [{ requests: 1 }] })).toEqual([]);
  });
});

describe('traffic shares', () => {
  it('are whole percentages that add up to 100', () => {
    expect(shares([{ deployment: 'a', weight: 90 }, { deployment: 'b', weight: 10 }])).toEqual([90, 10]);
    expect(shares([{ deployment: 'a', weight: 1 }, { deployment: 'b', weight: 1 }, { deployment: 'c', weight: 1 }])).toEqual([34, 33, 33]);
    expect(shares([{ deployment: 'a', weight: 0 }])).toEqual([0]);
  });
});

import { describe, expect, it } from 'vitest';
import { cost, latencyP50, latencyP95, outputTokensPerSecond, ttftP50, ttftP95 } from './metric-perf.js';
import type { CaseOutcome } from './metric-types.js';

function outcome(o: Partial<CaseOutcome> = {}): CaseOutcome {
  return {
    caseId: 'c1', input: 'q', output: 'a', expected: null, references: [], schema: null, tags: [],
    latencyMs: 100, ttftMs: null, inputTokens: null, outputTokens: null, logprobs: null, ...o,
  };
}

describe('latency percentiles', () => {
  it('take the latency per case and the numpy-linear percentile over cases', () => {
    expect(latencyP50.score(outcome({ latencyMs: 250 }), {}, {})).toEqual({ value: 250 });
    const values = [100, 200, 300, 400, 1000].map((v) => ({ value: v }));
    expect(latencyP50.aggregate(values, {})).toBe(300);
    // rank 0.95 × 4 = 3.8 → 400 + 0.8 × 600
    expect(latencyP95.aggregate(values, {})).toBeCloseTo(880, 9);
    expect(latencyP95.aggregate([], {})).toBeNaN();
  });

  it('are lower-is-better, in ms', () => {
    expect([latencyP50.higherIsBetter, latencyP50.unit, latencyP95.name]).toEqual([false, 'ms', 'latency_p95']);
  });

  it('refuse a negative or non-finite latency', () => {
    expect(latencyP50.score(outcome({ latencyMs: -1 }), {}, {}).value).toBeNull();
    expect(latencyP50.score(outcome({ latencyMs: Number.NaN }), {}, {}).value).toBeNull();
  });
});

describe('ttft percentiles', () => {
  it('need a streamed request', () => {
    expect(ttftP50.needs).toEqual({ stream: true });
    expect(ttftP95.score(outcome({ ttftMs: 42 }), {}, {})).toEqual({ value: 42 });
    const r = ttftP50.score(outcome({ ttftMs: null }), {}, {});
    expect(r.value).toBeNull();
    expect(r.error).toMatch(/not streamed/);
    expect(ttftP50.aggregate([{ value: 10 }, { value: 30 }], {})).toBe(20);
  });
});

describe('output_tokens_per_second', () => {
  it('divides output tokens by generation time: after the first token when streamed', () => {
    // 200 tokens in 2,500 ms with 500 ms to first token → 200 / 2 s
    expect(outputTokensPerSecond.score(outcome({ outputTokens: 200, latencyMs: 2500, ttftMs: 500 }), {}, {})).toEqual({ value: 100 });
    // not streamed: the whole latency
    expect(outputTokensPerSecond.score(outcome({ outputTokens: 200, latencyMs: 2500 }), {}, {})).toEqual({ value: 80 });
  });

  it('cannot score without a token count or without generation time', () => {
    expect(outputTokensPerSecond.score(outcome({ outputTokens: null }), {}, {}).error).toMatch(/output token count unknown/);
    expect(outputTokensPerSecond.score(outcome({ outputTokens: 5, latencyMs: 300, ttftMs: 300 }), {}, {}).value).toBeNull();
  });

  it('averages over cases; higher is better', () => {
    expect(outputTokensPerSecond.aggregate([{ value: 100 }, { value: 50 }], {})).toBe(75);
    expect(outputTokensPerSecond.higherIsBetter).toBe(true);
  });
});

describe('cost', () => {
  it('prices input and output tokens per million', () => {
    const p = cost.params.parse({ inputPerMillion: 3, outputPerMillion: 15 });
    // 1,000 × 3/1M + 500 × 15/1M = 0.003 + 0.0075
    const r = cost.score(outcome({ inputTokens: 1000, outputTokens: 500 }), p, {});
    expect(r.value).toBeCloseTo(0.0105, 12);
    expect(r.detail).toEqual({ inputTokens: 1000, outputTokens: 500 });
    expect(cost.aggregate([{ value: 0.01 }, { value: 0.03 }], p)).toBeCloseTo(0.02, 12);
  });

  it('needs both prices; the currency defaults to USD and becomes the unit', () => {
    expect(cost.params.safeParse({}).success).toBe(false);
    expect(cost.params.safeParse({ inputPerMillion: -1, outputPerMillion: 1 }).success).toBe(false);
    expect(cost.params.safeParse({ inputPerMillion: 1, outputPerMillion: 1, currency: 'euro' }).success).toBe(false);
    const p = cost.params.parse({ inputPerMillion: 1, outputPerMillion: 2, currency: 'EUR' });
    expect(cost.unitFor(p)).toBe('EUR');
    expect(cost.unitFor(cost.params.parse({ inputPerMillion: 1, outputPerMillion: 2 }))).toBe('USD');
    expect(cost.higherIsBetter).toBe(false);
  });

  it('cannot score without token counts', () => {
    const p = cost.params.parse({ inputPerMillion: 1, outputPerMillion: 2 });
    expect(cost.score(outcome({ inputTokens: 10, outputTokens: null }), p, {}).value).toBeNull();
  });
});

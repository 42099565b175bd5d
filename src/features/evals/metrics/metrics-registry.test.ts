import { describe, expect, it } from 'vitest';
import { bootstrapCI } from './bootstrap.js';
import { meanAggregate } from './metric-fns.js';
import type { CaseOutcome } from './metric-types.js';
import { METRICS, METRIC_NAMES, aggregatorFor, getMetric, metricUnit, parseMetricParams } from './metrics-registry.js';

const ALL_NAMES = [
  'bleu', 'contains', 'cost', 'exact_match', 'f1', 'json_schema', 'json_valid', 'latency_p50', 'latency_p95', 'llm_judge',
  'output_tokens_per_second', 'perplexity', 'refusal_rate', 'regex', 'rouge1', 'rouge2', 'rougeL', 'ttft_p50', 'ttft_p95',
];
/** Metrics with a parameter that has no default. */
const REQUIRED_PARAMS = new Set(['regex', 'cost', 'llm_judge']);

describe('metrics registry', () => {
  it('lists every metric once, sorted, under its own name', () => {
    expect(METRIC_NAMES).toEqual(ALL_NAMES);
    expect([...METRIC_NAMES].sort()).toEqual(METRIC_NAMES);
    for (const [name, m] of METRICS) expect(m.name).toBe(name);
    expect(getMetric('bleu')?.name).toBe('bleu');
    expect(getMetric('BLEU')).toBeUndefined();
  });

  it('parses {} (and absent params) for every metric without a required param', () => {
    for (const name of METRIC_NAMES) {
      const res = parseMetricParams(name, {});
      expect(res.ok, name).toBe(!REQUIRED_PARAMS.has(name));
      if (!REQUIRED_PARAMS.has(name)) expect(parseMetricParams(name, undefined).ok, name).toBe(true);
    }
  });

  it('applies defaults', () => {
    expect(parseMetricParams('exact_match', {})).toEqual({ ok: true, params: { normalize: 'squad', ignoreCase: false } });
    expect(parseMetricParams('rougeL', {})).toEqual({ ok: true, params: { stem: true } });
  });

  it('names the known metrics for an unknown name', () => {
    const res = parseMetricParams('bleurt', {});
    expect(res.ok).toBe(false);
    expect(!res.ok && res.message).toBe(`unknown metric "bleurt"; known metrics: ${ALL_NAMES.join(', ')}`);
  });

  it('reports bad params with their path', () => {
    expect(parseMetricParams('regex', { pattern: '(' })).toEqual({ ok: false, message: expect.stringMatching(/^invalid params for metric regex: pattern: invalid regular expression: /) as string });
    expect(parseMetricParams('llm_judge', { rubric: 'r', scale: { min: 1, max: 'ten' } })).toEqual({ ok: false, message: expect.stringContaining('scale.max: ') as string });
    const unknownKey = parseMetricParams('f1', { foo: 1 });
    expect(unknownKey.ok).toBe(false);
    expect(!unknownKey.ok && unknownKey.message).toMatch(/^invalid params for metric f1: \(params\): .*foo/);
    expect(parseMetricParams('json_schema', { schema: { type: 'nope' } })).toEqual({ ok: false, message: expect.stringContaining('schema: schema does not compile') as string });
    expect(parseMetricParams('cost', { inputPerMillion: 1 })).toEqual({ ok: false, message: expect.stringContaining('outputPerMillion: ') as string });
  });

  it('declares what each metric needs from the runner', () => {
    const needing = (k: 'stream' | 'logprobs' | 'judge') => METRIC_NAMES.filter((n) => getMetric(n)!.needs[k]);
    expect(needing('stream')).toEqual(['ttft_p50', 'ttft_p95']);
    expect(needing('logprobs')).toEqual(['perplexity']);
    expect(needing('judge')).toEqual(['llm_judge']);
  });

  it('aggregates to NaN with no values, for every metric', () => {
    const params: Record<string, Record<string, unknown>> = {
      regex: { pattern: 'x' }, cost: { inputPerMillion: 1, outputPerMillion: 1 }, llm_judge: { rubric: 'r' },
    };
    for (const name of METRIC_NAMES) {
      const p = parseMetricParams(name, params[name] ?? {});
      if (!p.ok) throw new Error(p.message);
      expect(getMetric(name)!.aggregate([], p.params), name).toBeNaN();
    }
  });

  it('scores a case end to end through the registry', async () => {
    const o: CaseOutcome = {
      caseId: 'c', input: 'q', output: 'Paris', expected: 'paris', references: ['paris'], schema: null, tags: [],
      latencyMs: 10, ttftMs: null, inputTokens: 3, outputTokens: 1, logprobs: null,
    };
    const p = parseMetricParams('exact_match', {});
    if (!p.ok) throw new Error(p.message);
    expect(await getMetric('exact_match')!.score(o, p.params, {})).toMatchObject({ value: 1 });
  });

  it("reports cost in its currency and other metrics in their unit", () => {
    const p = parseMetricParams('cost', { inputPerMillion: 1, outputPerMillion: 2, currency: 'EUR' });
    if (!p.ok) throw new Error(p.message);
    expect(metricUnit(getMetric('cost')!, p.params)).toBe('EUR');
    expect(metricUnit(getMetric('latency_p50')!, {})).toBe('ms');
  });

  it('hands bootstrap the mean fast path for mean metrics and a bound aggregate otherwise', () => {
    expect(aggregatorFor(getMetric('exact_match')!, {})).toBe(meanAggregate);
    const p95 = aggregatorFor(getMetric('latency_p95')!, {});
    expect(p95).not.toBe(meanAggregate);
    expect(p95([{ value: 1 }, { value: 2 }, { value: 3 }])).toBeCloseTo(2.9, 12);
    const ci = bootstrapCI([{ value: 1 }, { value: 0 }, { value: 1 }, { value: 1 }], aggregatorFor(getMetric('exact_match')!, {}), { seed: 1 });
    expect(ci.low).toBeLessThanOrEqual(0.75);
    expect(ci.high).toBeGreaterThanOrEqual(0.75);
  });
});

/**
 * Performance and cost metrics, read from what the runner measured for each case:
 * `latency_p50`/`latency_p95` (wall time of the request), `ttft_p50`/`ttft_p95` (time to first
 * content token, streamed requests only), `output_tokens_per_second`, and `cost`.
 *
 * Throughput definition: outputTokens / generation seconds, where generation time is
 * `latencyMs − ttftMs` when the request was streamed (the decode phase: prompt processing and
 * queueing, which TTFT covers, are left out) and the whole `latencyMs` otherwise. The per-case
 * figures are averaged over cases (each case weighs the same, whatever its length).
 */
import { z } from 'zod';
import { percentileInPlace } from './bootstrap.js';
import { failed, meanAggregate, type SyncMetricDefinition } from './metric-fns.js';
import type { CaseValue } from './metric-types.js';

const NoParams = z.strictObject({});
type NoParams = z.output<typeof NoParams>;

/** The p-th percentile of the non-null values (NaN when none). */
function percentileOf(values: readonly CaseValue[], p: number): number {
  const xs = new Float64Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!.value;
    if (v !== null) xs[n++] = v;
  }
  return n === 0 ? Number.NaN : percentileInPlace(xs.subarray(0, n), p);
}

function durationValue(ms: number | null, missing: string): CaseValue {
  if (ms === null) return failed(missing);
  if (!Number.isFinite(ms) || ms < 0) return failed(`invalid duration: ${ms}`);
  return { value: ms };
}

function latency(p: 50 | 95): SyncMetricDefinition<NoParams> {
  return {
    name: `latency_p${p}`,
    description: `${p}th percentile of request latency (send to last byte), in milliseconds.`,
    params: NoParams,
    higherIsBetter: false,
    unit: 'ms',
    binary: false,
    needs: {},
    score: (outcome) => durationValue(outcome.latencyMs, 'no latency measured'),
    aggregate: (values) => percentileOf(values, p),
  };
}

const NO_TTFT = 'no time to first token: the request was not streamed, or produced no content';

function ttft(p: 50 | 95): SyncMetricDefinition<NoParams> {
  return {
    name: `ttft_p${p}`,
    description: `${p}th percentile of time to first content token (streamed requests), in milliseconds.`,
    params: NoParams,
    higherIsBetter: false,
    unit: 'ms',
    binary: false,
    needs: { stream: true },
    score: (outcome) => durationValue(outcome.ttftMs, NO_TTFT),
    aggregate: (values) => percentileOf(values, p),
  };
}

export const latencyP50 = latency(50);
export const latencyP95 = latency(95);
export const ttftP50 = ttft(50);
export const ttftP95 = ttft(95);

const NO_OUTPUT_TOKENS = 'output token count unknown: the endpoint reported no usage';

export const outputTokensPerSecond: SyncMetricDefinition<NoParams> = {
  name: 'output_tokens_per_second',
  description: 'Output tokens per second of generation time (after the first token when streamed); mean over cases.',
  params: NoParams,
  higherIsBetter: true,
  unit: 'tokens/s',
  binary: false,
  needs: {},
  score(outcome): CaseValue {
    if (outcome.outputTokens === null) return failed(NO_OUTPUT_TOKENS);
    const generationMs = outcome.latencyMs - (outcome.ttftMs ?? 0);
    if (!(generationMs > 0)) return failed(`no generation time measured (latency ${outcome.latencyMs} ms, ttft ${outcome.ttftMs ?? 'n/a'} ms)`);
    return { value: outcome.outputTokens / (generationMs / 1000) };
  },
  aggregate: meanAggregate,
};

// ---- cost ---------------------------------------------------------------------------------------

const CostParams = z.strictObject({
  /** Price of one million input (prompt) tokens. */
  inputPerMillion: z.number().nonnegative(),
  /** Price of one million output (completion) tokens. */
  outputPerMillion: z.number().nonnegative(),
  /** ISO 4217 code; the metric's unit. */
  currency: z.string().regex(/^[A-Z]{3}$/, 'a three-letter ISO 4217 code such as USD').default('USD'),
});
type CostParams = z.output<typeof CostParams>;

/**
 * A metric whose unit depends on its parameters. `MetricDefinition.unit` is the unit for the
 * default parameters; `metricUnit()` in the registry reads `unitFor` when present.
 */
export interface ParamUnitMetric<P> extends SyncMetricDefinition<P> {
  unitFor(params: P): string;
}

export const cost: ParamUnitMetric<CostParams> = {
  name: 'cost',
  description: 'Token cost per case at the given prices per million tokens; mean over cases.',
  params: CostParams,
  higherIsBetter: false,
  unit: 'USD',
  unitFor: (params) => params.currency,
  binary: false,
  needs: {},
  score(outcome, params): CaseValue {
    if (outcome.inputTokens === null || outcome.outputTokens === null) {
      return failed('token counts unknown: the endpoint reported no usage');
    }
    const value = (outcome.inputTokens * params.inputPerMillion + outcome.outputTokens * params.outputPerMillion) / 1_000_000;
    return { value, detail: { inputTokens: outcome.inputTokens, outputTokens: outcome.outputTokens } };
  },
  aggregate: meanAggregate,
};

/**
 * The table of evaluation metrics, by the name suites use, and the one place their parameters
 * are checked. A suite names a metric and gives parameters; `parseMetricParams` runs the metric's
 * own zod schema (defaults applied) before anything is scored, so a bad regex, a schema that does
 * not compile or a missing rubric stops the suite at save time, not halfway through a run.
 */
import type { Aggregate } from './bootstrap.js';
import { meanAggregate } from './metric-fns.js';
import type { MetricDefinition } from './metric-types.js';
import { llmJudge } from './metric-judge.js';
import { jsonSchema, jsonValid } from './metric-json.js';
import { contains, exactMatch, regex } from './metric-match.js';
import { bleu, f1, rouge1, rouge2, rougeLMetric } from './metric-overlap.js';
import { cost, latencyP50, latencyP95, outputTokensPerSecond, ttftP50, ttftP95 } from './metric-perf.js';
import { perplexity } from './metric-perplexity.js';
import { refusalRate } from './metric-refusal.js';

/**
 * Every metric, erased to the base parameter type: each `score`/`aggregate` is only ever called
 * with parameters its own schema produced (`parseMetricParams`).
 */
const ALL: readonly MetricDefinition[] = [
  exactMatch, contains, regex,
  jsonValid, jsonSchema,
  f1, bleu, rouge1, rouge2, rougeLMetric,
  latencyP50, latencyP95, ttftP50, ttftP95, outputTokensPerSecond, cost,
  refusalRate, llmJudge, perplexity,
];

export const METRICS: ReadonlyMap<string, MetricDefinition> = new Map(ALL.map((m) => [m.name, m]));

/** Metric names, sorted (code-unit order, so `rougeL` sorts after `rouge2`). */
export const METRIC_NAMES: readonly string[] = [...METRICS.keys()].sort();

export function getMetric(name: string): MetricDefinition | undefined {
  return METRICS.get(name);
}

export type ParsedMetricParams = { ok: true; params: Record<string, unknown> } | { ok: false; message: string };

/**
 * Checks a suite's parameters for metric `name` (absent parameters read as `{}`) and returns them
 * with defaults applied, or a message: unknown metric → the known names; bad parameters → each
 * zod issue as `path: message`, joined by '; '.
 */
export function parseMetricParams(name: string, params: unknown): ParsedMetricParams {
  const metric = METRICS.get(name);
  if (!metric) return { ok: false, message: `unknown metric ${JSON.stringify(name)}; known metrics: ${METRIC_NAMES.join(', ')}` };
  const res = metric.params.safeParse(params ?? {});
  if (res.success) return { ok: true, params: res.data };
  const issues = res.error.issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '(params)'}: ${i.message}`);
  return { ok: false, message: `invalid params for metric ${name}: ${issues.join('; ')}` };
}

/** The unit of a metric's figure for given (parsed) parameters: `cost` reports in its currency. */
export function metricUnit(metric: MetricDefinition, params: Record<string, unknown>): string {
  const withUnitFor = metric as MetricDefinition & { unitFor?: (p: Record<string, unknown>) => string };
  return typeof withUnitFor.unitFor === 'function' ? withUnitFor.unitFor(params) : metric.unit;
}

/**
 * `aggregate` bound to its parameters, for bootstrap: mean metrics get `meanAggregate` itself,
 * which `bootstrapCI`/`pairedBootstrapDelta` recognise and resample over a numeric array.
 */
export function aggregatorFor(metric: MetricDefinition, params: Record<string, unknown>): Aggregate {
  return metric.aggregate === meanAggregate ? meanAggregate : (values) => metric.aggregate(values, params);
}

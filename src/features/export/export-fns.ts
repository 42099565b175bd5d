/**
 * Alert rules and a dashboard for teams that already run Prometheus and Grafana, generated for
 * one model from the metrics the gateway exports (contracts/gateway-metrics.ts), so the names
 * and labels cannot drift from what `/metrics` serves.
 *
 * Rules: the rollback triggers of a rollout as alerts (server error rate over 5 %, p95 latency
 * over 2 s by `histogram_quantile` on the duration histogram) and an availability SLO as
 * multi-window burn-rate alerts (the SRE workbook's 14.4× over 1 h and 5 m pages, 6× over 6 h
 * and 30 m opens a ticket), over recording rules of the error ratio per window. An error is a
 * 5xx answer (the gateway's own 502/503/504 included); a 4xx is the caller's mistake and pages
 * nobody.
 */
import { GATEWAY_METRICS as M } from '../../contracts/gateway-metrics.js';

export interface RuleOptions {
  model: string;
  /** One environment's traffic only (null: every environment, alerting per environment). */
  environment: string | null;
  /** Error ratio above which the error-rate alert fires (0.05). */
  errorRate: number;
  /** p95 latency in milliseconds above which the latency alert fires (2000). */
  p95Ms: number;
  /** Window of the error-rate and latency expressions (`5m`). */
  window: string;
  /** How long a condition holds before the alert fires (`5m`; `0s` at once). */
  for: string;
  /** The availability objective of the burn-rate alerts (0.995). */
  slo: number;
}

export const DEFAULT_RULE_OPTIONS = { errorRate: 0.05, p95Ms: 2000, window: '5m', for: '5m', slo: 0.995 } as const;

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}

/** A name usable in group and object names: `acme/chat-v2` → `acme-chat-v2`. */
export const slug = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');

/** The label matchers of the model (and environment): names are checked by the API, so they need no escaping. */
function selector(o: Pick<RuleOptions, 'model' | 'environment'>, extra = ''): string {
  return `{model="${o.model}"${o.environment ? `,environment="${o.environment}"` : ''}${extra}}`;
}

const BURN_WINDOWS = ['5m', '30m', '1h', '6h'] as const;

/** A threshold written as people write it: 14.4 × (1 − 0.995) is 0.072, not 0.07200000000000006. */
const round = (x: number): number => Number(x.toPrecision(6));

/** The rule groups (the plain rules file `promtool check rules` reads). */
export function ruleGroups(o: RuleOptions): RuleGroup[] {
  const by = 'model, environment';
  const all = selector(o);
  const errors = selector(o, ',status=~"5.."');
  const errorRatio = (w: string) => `sum by (${by}) (rate(${M.requests}${errors}[${w}])) / sum by (${by}) (rate(${M.requests}${all}[${w}]))`;
  const where = `{{ $labels.model }} in {{ $labels.environment }}`;
  const budget = round(1 - o.slo);
  const ratioName = (w: string) => `steward:gateway_error_ratio:rate${w}`;
  const sloSel = `{model="${o.model}"${o.environment ? `,environment="${o.environment}"` : ''}}`;
  return [
    {
      name: `steward-${slug(o.model)}-rollback`,
      rules: [
        {
          alert: 'StewardModelHighErrorRate',
          expr: `(${errorRatio(o.window)}) > ${o.errorRate}`,
          for: o.for,
          labels: { severity: 'page', model: o.model },
          annotations: {
            summary: `${where}: server error rate over ${Math.round(o.errorRate * 1000) / 10} %`,
            description: `{{ $value | humanizePercentage }} of requests to ${where} answered 5xx over the last ${o.window} (threshold ${o.errorRate}). Roll back: steward rollback ${o.model} --env {{ $labels.environment }}`,
          },
        },
        {
          alert: 'StewardModelHighP95Latency',
          expr: `histogram_quantile(0.95, sum by (le, ${by}) (rate(${M.duration}_bucket${all}[${o.window}]))) > ${o.p95Ms / 1000}`,
          for: o.for,
          labels: { severity: 'page', model: o.model },
          annotations: {
            summary: `${where}: p95 latency over ${o.p95Ms} ms`,
            description: `p95 latency of ${where} is {{ $value | humanizeDuration }} over the last ${o.window} (threshold ${o.p95Ms} ms).`,
          },
        },
      ],
    },
    {
      name: `steward-${slug(o.model)}-slo`,
      rules: [
        ...BURN_WINDOWS.map((w) => ({ record: ratioName(w), expr: errorRatio(w) })),
        {
          alert: 'StewardModelErrorBudgetBurnFast',
          expr: `${ratioName('1h')}${sloSel} > ${round(14.4 * budget)} and ${ratioName('5m')}${sloSel} > ${round(14.4 * budget)}`,
          labels: { severity: 'page', model: o.model },
          annotations: { summary: `${where}: error budget burning 14.4× too fast (SLO ${round(o.slo * 100)} %)`, description: `At this rate the 30-day error budget of ${where} is gone in about two days.` },
        },
        {
          alert: 'StewardModelErrorBudgetBurnSlow',
          expr: `${ratioName('6h')}${sloSel} > ${round(6 * budget)} and ${ratioName('30m')}${sloSel} > ${round(6 * budget)}`,
          labels: { severity: 'ticket', model: o.model },
          annotations: { summary: `${where}: error budget burning 6× too fast (SLO ${round(o.slo * 100)} %)`, description: `At this rate the 30-day error budget of ${where} is gone in five days.` },
        },
      ],
    },
  ];
}

/** The same groups as a Prometheus Operator `PrometheusRule` object. */
export function prometheusRule(o: RuleOptions): Record<string, unknown> {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: `steward-${slug(o.model)}${o.environment ? `-${slug(o.environment)}` : ''}`,
      labels: { 'app.kubernetes.io/managed-by': 'steward', 'steward.dev/model': slug(o.model) },
    },
    spec: { groups: ruleGroups(o) },
  };
}

/** Grafana dashboard JSON (schema 39) for one model: traffic, errors, latency, TTFT, tokens and cost per version. */
export function grafanaDashboard(model: string): Record<string, unknown> {
  const sel = `{model="${model}",environment=~"$environment"}`;
  const selStatus = (s: string) => `{model="${model}",environment=~"$environment",status=~"${s}"}`;
  const ds = { type: 'prometheus', uid: '${datasource}' };
  const rate = (metric: string, s = sel) => `rate(${metric}${s}[$__rate_interval])`;
  const quantile = (q: number, metric: string) => `histogram_quantile(${q}, sum by (le, version) (${rate(`${metric}_bucket`)}))`;
  const panels: [string, string, { expr: string; legend: string }[]][] = [
    ['Requests per second', 'reqps', [{ expr: `sum by (version) (${rate(M.requests)})`, legend: '{{version}}' }]],
    ['Error rate (5xx)', 'percentunit', [{ expr: `sum by (version) (${rate(M.requests, selStatus('5..'))}) / sum by (version) (${rate(M.requests)})`, legend: '{{version}}' }]],
    [
      'Latency p50 / p95',
      's',
      [
        { expr: quantile(0.5, M.duration), legend: 'p50 {{version}}' },
        { expr: quantile(0.95, M.duration), legend: 'p95 {{version}}' },
      ],
    ],
    [
      'Time to first token p50 / p95',
      's',
      [
        { expr: quantile(0.5, M.ttft), legend: 'p50 {{version}}' },
        { expr: quantile(0.95, M.ttft), legend: 'p95 {{version}}' },
      ],
    ],
    ['Tokens per second', 'short', [{ expr: `sum by (version, direction) (${rate(M.tokens)})`, legend: '{{direction}} {{version}}' }]],
    ['Cost per hour (USD)', 'currencyUSD', [{ expr: `sum by (version) (${rate(M.cost)}) * 3600`, legend: '{{version}}' }]],
  ];
  return {
    title: `Steward: ${model}`,
    uid: `steward-${slug(model)}`.slice(0, 40),
    tags: ['steward', 'llm'],
    timezone: 'utc',
    schemaVersion: 39,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    templating: {
      list: [
        { name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Data source' },
        {
          name: 'environment',
          type: 'query',
          datasource: ds,
          query: `label_values(${M.requests}{model="${model}"}, environment)`,
          includeAll: true,
          multi: true,
          current: { text: 'All', value: '$__all' },
          refresh: 2,
        },
      ],
    },
    panels: panels.map(([title, unit, targets], i) => ({
      id: i + 1,
      type: 'timeseries',
      title,
      datasource: ds,
      gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
      fieldConfig: { defaults: { unit }, overrides: [] },
      targets: targets.map((t, k) => ({ refId: String.fromCharCode(65 + k), datasource: ds, expr: t.expr, legendFormat: t.legend })),
    })),
  };
}

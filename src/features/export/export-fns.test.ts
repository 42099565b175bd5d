import { describe, expect, it } from 'vitest';
import { GATEWAY_METRICS } from '../../contracts/gateway-metrics.js';
import { DEFAULT_RULE_OPTIONS, grafanaDashboard, prometheusRule, ruleGroups, slug } from './export-fns.js';

const opts = { ...DEFAULT_RULE_OPTIONS, model: 'acme/chat-v2', environment: null };

describe('Prometheus rules', () => {
  it('alert on the 5xx ratio and the p95 of the duration histogram, per model and environment', () => {
    const [rollback] = ruleGroups(opts);
    expect(rollback!.name).toBe('steward-acme-chat-v2-rollback');
    const [errors, latency] = rollback!.rules;
    expect(errors).toMatchObject({ alert: 'StewardModelHighErrorRate', for: '5m', labels: { severity: 'page', model: 'acme/chat-v2' } });
    expect(errors!.expr).toBe(
      '(sum by (model, environment) (rate(steward_gateway_requests_total{model="acme/chat-v2",status=~"5.."}[5m])) / sum by (model, environment) (rate(steward_gateway_requests_total{model="acme/chat-v2"}[5m]))) > 0.05',
    );
    expect(latency!.expr).toBe('histogram_quantile(0.95, sum by (le, model, environment) (rate(steward_gateway_request_duration_seconds_bucket{model="acme/chat-v2"}[5m]))) > 2');
  });

  it('record the error ratio per window and page on a fast burn of the error budget', () => {
    const [, slo] = ruleGroups({ ...opts, environment: 'production', slo: 0.99 });
    expect(slo!.rules.filter((r) => r.record).map((r) => r.record)).toEqual(['steward:gateway_error_ratio:rate5m', 'steward:gateway_error_ratio:rate30m', 'steward:gateway_error_ratio:rate1h', 'steward:gateway_error_ratio:rate6h']);
    const fast = slo!.rules.find((r) => r.alert === 'StewardModelErrorBudgetBurnFast')!;
    expect(fast.expr).toBe('steward:gateway_error_ratio:rate1h{model="acme/chat-v2",environment="production"} > 0.144 and steward:gateway_error_ratio:rate5m{model="acme/chat-v2",environment="production"} > 0.144');
    expect(ruleGroups(opts)[1]!.rules.find((r) => r.alert === 'StewardModelErrorBudgetBurnSlow')!.expr).toMatch(/> 0\.03 and .* > 0\.03$/);
    expect(fast.expr).toContain(' and steward:gateway_error_ratio:rate5m');
    expect(slo!.rules.find((r) => r.alert === 'StewardModelErrorBudgetBurnSlow')!.labels!.severity).toBe('ticket');
  });

  it('take thresholds, windows and an environment', () => {
    const [rollback] = ruleGroups({ ...opts, environment: 'staging', errorRate: 0.1, p95Ms: 1500, window: '30s', for: '0s' });
    expect(rollback!.rules[0]!.expr).toContain('{model="acme/chat-v2",environment="staging",status=~"5.."}[30s]');
    expect(rollback!.rules[0]!.expr).toMatch(/> 0\.1$/);
    expect(rollback!.rules[1]!.expr).toMatch(/> 1\.5$/);
    expect(rollback!.rules[0]!.for).toBe('0s');
  });

  it('wrap the groups in a PrometheusRule', () => {
    const r = prometheusRule({ ...opts, environment: 'production' });
    expect(r).toMatchObject({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: 'steward-acme-chat-v2-production', labels: { 'app.kubernetes.io/managed-by': 'steward' } } });
    expect((r.spec as { groups: unknown[] }).groups).toEqual(ruleGroups({ ...opts, environment: 'production' }));
    expect(slug('Meta-Llama/Llama-3.1-8B')).toBe('meta-llama-llama-3-1-8b');
  });
});

describe('Grafana dashboard', () => {
  it('charts every gateway metric per version, filtered by the environment variable', () => {
    const d = grafanaDashboard('acme/chat') as { uid: string; panels: { title: string; gridPos: { x: number; y: number }; targets: { expr: string; refId: string }[] }[]; templating: { list: { name: string; query: string }[] } };
    expect(d.uid).toBe('steward-acme-chat');
    expect(d.templating.list.find((v) => v.name === 'environment')!.query).toBe('label_values(steward_gateway_requests_total{model="acme/chat"}, environment)');
    const exprs = d.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
    for (const m of Object.values(GATEWAY_METRICS)) expect(exprs).toContain(m);
    expect(exprs).toContain('histogram_quantile(0.95, sum by (le, version) (rate(steward_gateway_time_to_first_token_seconds_bucket{model="acme/chat",environment=~"$environment"}[$__rate_interval])))');
    expect(d.panels.map((p) => [p.gridPos.x, p.gridPos.y])).toEqual([[0, 0], [12, 0], [0, 8], [12, 8], [0, 16], [12, 16]]);
    expect(d.panels[2]!.targets.map((t) => t.refId)).toEqual(['A', 'B']);
  });
});

/** Endpoints of the Prometheus and Grafana export: readable by whoever may read the model. */
import { namespaceOf } from './asset-names.js';
import { endpoint } from './endpoint.js';
import { GrafanaDashboard, GrafanaQuery, PrometheusRulesQuery, PrometheusRulesResponse } from './export.js';

const tags = ['export'];

export const exportEndpoints = {
  prometheusRules: endpoint({
    method: 'GET', url: '/api/v1/export/prometheus-rules', summary: "Prometheus alert rules for a model: error rate, p95 latency, SLO burn rate, on the gateway's metrics", tags,
    permission: 'asset:read', scope: ({ query }) => [namespaceOf(query.model)], query: PrometheusRulesQuery, responses: { 200: PrometheusRulesResponse },
  }),
  grafana: endpoint({
    method: 'GET', url: '/api/v1/export/grafana', summary: 'A Grafana dashboard for a model: requests/s, error rate, p50/p95 latency, TTFT, tokens/s and cost per version', tags,
    permission: 'asset:read', scope: ({ query }) => [namespaceOf(query.model)], query: GrafanaQuery, responses: { 200: GrafanaDashboard },
  }),
};

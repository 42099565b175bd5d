/**
 * Contracts of the export for teams that run Prometheus and Grafana: alert rules (a
 * PrometheusRule object or the plain rules file) and a dashboard for one model.
 */
import { z } from 'zod';
import { EnvironmentName } from './promotions.js';

const Duration = z.string().regex(/^[0-9]+[smhd]$/, 'a Prometheus duration such as 30s, 5m or 1h');

export const PrometheusRulesQuery = z
  .object({
    model: z.string().min(1).max(256),
    env: EnvironmentName.optional(),
    format: z.enum(['crd', 'rules']).default('crd').describe('crd: a PrometheusRule object (Prometheus Operator); rules: the plain rules file (promtool check rules)'),
    errorRate: z.coerce.number().gt(0).lt(1).default(0.05),
    p95Ms: z.coerce.number().int().min(1).max(3_600_000).default(2000),
    window: Duration.default('5m'),
    for: Duration.default('5m'),
    slo: z.coerce.number().gt(0).lt(1).default(0.995),
  })
  .strict();

export const PrometheusRulesResponse = z
  .object({
    model: z.string(),
    environment: z.string().nullable(),
    format: z.enum(['crd', 'rules']),
    yaml: z.string().describe('the document, ready for kubectl apply -f or rule_files'),
    document: z.record(z.string(), z.unknown()),
  })
  .strict();

export const GrafanaQuery = z.object({ model: z.string().min(1).max(256) }).strict();
export const GrafanaDashboard = z.record(z.string(), z.unknown()).describe('a Grafana dashboard (import it as JSON)');

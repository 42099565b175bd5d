/**
 * The export module: Prometheus alert rules and a Grafana dashboard for a registered model,
 * generated from the gateway's metric names (export-fns.ts). Reads only: nothing to audit.
 */
import { stringify } from 'yaml';
import { exportEndpoints as E } from '../../contracts/export-endpoints.js';
import { route } from '../../platform/http/http-route.js';
import { defineModule } from '../../platform/module.js';
import { grafanaDashboard, prometheusRule, ruleGroups } from './export-fns.js';

declare module '../../platform/module.js' {
  interface Provided {
    export: Record<string, never>;
  }
}

export const exportModule = defineModule({
  name: 'export',
  needs: ['assets'],
  setup({ need }) {
    const assets = need('assets');
    return {
      provides: {},
      routes: () => [
        route(E.prometheusRules, async ({ query }) => {
          // A 404 for a model that does not exist, rather than rules that never match.
          await assets.getAsset('model', query.model);
          const o = { model: query.model, environment: query.env ?? null, errorRate: query.errorRate, p95Ms: query.p95Ms, window: query.window, for: query.for, slo: query.slo };
          const document = query.format === 'crd' ? prometheusRule(o) : { groups: ruleGroups(o) };
          return { model: query.model, environment: o.environment, format: query.format, yaml: stringify(document, { lineWidth: 0 }), document };
        }),
        route(E.grafana, async ({ query }) => {
          await assets.getAsset('model', query.model);
          return grafanaDashboard(query.model);
        }),
      ],
    };
  },
});

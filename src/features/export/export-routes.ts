/** Handlers of the export endpoints (contracts/export-endpoints.ts): a 404 for a model that does not exist, rather than rules that never match. */
import { stringify } from 'yaml';
import { exportEndpoints as E } from '../../contracts/export-endpoints.js';
import { route, type RouteDef } from '../../platform/http/http-route.js';
import type { AssetsService } from '../assets/assets-service.js';
import { grafanaDashboard, prometheusRule, ruleGroups } from './export-fns.js';

export function exportRoutes(assets: Pick<AssetsService, 'getAsset'>): RouteDef[] {
  return [
    route(E.prometheusRules, async ({ query }) => {
      await assets.getAsset('model', query.model);
      const o = { model: query.model, environment: query.env ?? null, errorRate: query.errorRate, p95Ms: query.p95Ms, window: query.window, for: query.for, slo: query.slo };
      const document = query.format === 'crd' ? prometheusRule(o) : { groups: ruleGroups(o) };
      return { model: query.model, environment: o.environment, format: query.format, yaml: stringify(document, { lineWidth: 0 }), document };
    }),
    route(E.grafana, async ({ query }) => {
      await assets.getAsset('model', query.model);
      return grafanaDashboard(query.model);
    }),
  ];
}

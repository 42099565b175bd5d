/** Handlers of the gateway's control-plane endpoints (contracts/gateway-endpoints.ts). */
import { gatewayEndpoints as E } from '../../contracts/gateway-endpoints.js';
import { route, type RouteDef } from '../../platform/http/http-route.js';
import type { GatewayFeature } from './gateway-wiring.js';

export function gatewayRoutes(svc: GatewayFeature): RouteDef[] {
  return [
    route(E.createKey, async ({ body, actor }) => svc.createKey(body, actor)),
    route(E.listKeys, async ({ query, actor }) => svc.listKeys(query, actor)),
    route(E.getKey, async ({ params, actor }) => svc.getKey(params.id, actor)),
    route(E.revokeKey, async ({ params, actor }) => svc.revokeKey(params.id, actor)),
    route(E.getTraffic, async ({ params }) => svc.getTraffic(params.name, params.environment)),
    route(E.putTraffic, async ({ params, body, actor }) => svc.putTraffic(params.name, params.environment, body, actor)),
    route(E.deleteTraffic, async ({ params, actor }) => svc.deleteTraffic(params.name, params.environment, actor)),
    route(E.putModelSettings, async ({ params, body, actor }) => svc.putModelSettings(params.name, body, actor)),
    route(E.snapshot, async ({ query, req, reply }) => {
      const gone = new AbortController();
      req.raw.once('close', () => gone.abort());
      const snap = await svc.snapshot(query.after, query.wait * 1000, gone.signal);
      if (!snap) void reply.code(204);
      return snap;
    }),
    route(E.ingestUsage, async ({ body }) => svc.ingestUsage(body)),
    route(E.usage, async ({ query, actor }) => svc.usageReport(query, actor)),
    route(E.cost, async ({ query, actor }) => svc.costReport(query, actor)),
  ];
}

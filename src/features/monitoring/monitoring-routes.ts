/** Handlers of monitoring's endpoints (contracts/monitoring-endpoints.ts). */
import { monitoringEndpoints as E } from '../../contracts/monitoring-endpoints.js';
import { route, type RouteDef } from '../../platform/http/http-route.js';
import type { MonitoringFeature } from './monitoring-wiring.js';

export function monitoringRoutes(svc: MonitoringFeature): RouteDef[] {
  return [
    route(E.metrics, async ({ query }) => svc.metrics(query)),
    route(E.drift, async ({ query }) => svc.drift(query)),
    route(E.createFeedback, async ({ body, actor }) => svc.createFeedback(body, actor)),
    route(E.feedbackSummary, async ({ query }) => svc.feedbackSummary(query.model, query.version)),
    route(E.listSlos, async ({ query, actor }) => svc.slos.list(query, actor)),
    route(E.getSlo, async ({ params }) => svc.slos.get(params.model, params.env)),
    route(E.putSlo, async ({ params, body, actor }) => svc.slos.put(params.model, params.env, body, actor)),
    route(E.deleteSlo, async ({ params, actor, reply }) => {
      await svc.slos.remove(params.model, params.env, actor);
      return reply.code(204).send();
    }),
  ];
}

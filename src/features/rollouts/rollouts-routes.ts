/** Handlers of the rollout endpoints (contracts/rollouts-endpoints.ts). */
import { rolloutsEndpoints as E } from '../../contracts/rollouts-endpoints.js';
import { route, type RouteDef } from '../../platform/http/http-route.js';
import type { RolloutsService } from './rollouts-service.js';

export function rolloutsRoutes(svc: RolloutsService): RouteDef[] {
  return [
    route(E.startRollout, async ({ body, actor }) => svc.start(body, actor)),
    route(E.listRollouts, async ({ query, actor }) => svc.list(query, actor)),
    route(E.getRollout, async ({ params, actor }) => svc.get(params.id, actor)),
    route(E.pauseRollout, async ({ params, body, actor }) => svc.pause(params.id, body.reason, actor)),
    route(E.resumeRollout, async ({ params, actor }) => svc.resume(params.id, actor)),
    route(E.promoteRollout, async ({ params, actor }) => svc.promote(params.id, actor)),
    route(E.abortRollout, async ({ params, body, actor }) => svc.abort(params.id, body.reason, actor)),
  ];
}

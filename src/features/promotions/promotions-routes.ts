/** Handlers of the environment and promotion endpoints (contracts/promotions-endpoints.ts). */
import { promotionsEndpoints as E } from '../../contracts/promotions-endpoints.js';
import { AppError } from '../../platform/errors.js';
import { route, type RouteDef } from '../../platform/http/http-route.js';
import type { PromotionsService } from './promotions-service.js';

export function promotionsRoutes(svc: PromotionsService): RouteDef[] {
  return [
    route(E.listEnvironments, async ({ actor }) => svc.listEnvironments(actor)),
    route(E.getEnvironment, async ({ params, query, actor }) => {
      if (query.namespace && !(actor.namespaces ?? [query.namespace]).includes(query.namespace)) {
        throw new AppError('permission_denied', `this token is limited to namespace(s) ${actor.namespaces!.join(', ')}`);
      }
      return svc.getEnvironment(params.env, query.namespace);
    }),
    route(E.putEnvironment, async ({ params, query, body, actor }) => svc.putEnvironment(params.env, query.namespace, body, actor)),
    route(E.listPointers, async ({ query }) => svc.pointers(query.model, query.environment)),
    route(E.pointerHistory, async ({ query }) => svc.history(query.model, query.environment, query.limit)),
    route(E.rollback, async ({ params, body, actor }) => svc.rollback(params.env, body, actor)),
    route(E.createPromotion, async ({ body, actor }) => svc.request(body, actor)),
    route(E.listPromotions, async ({ query, actor }) => svc.list(query, actor)),
    route(E.getPromotion, async ({ params, actor }) => svc.getFor(params.id, actor)),
    route(E.approvePromotion, async ({ params, body, actor }) => svc.approve(params.id, body.comment, actor)),
    route(E.rejectPromotion, async ({ params, body, actor }) => svc.reject(params.id, body.comment, actor)),
    route(E.cancelPromotion, async ({ params, actor }) => svc.cancel(params.id, actor)),
  ];
}

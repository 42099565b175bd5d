/** Handlers of the deployment endpoints (contracts/deployments-endpoints.ts). */
import { deploymentsEndpoints as E } from '../../contracts/deployments-endpoints.js';
import { route, type RouteDef } from '../../platform/http/http-route.js';
import type { DeploymentsService } from './deployments-service.js';

export function deploymentsRoutes(svc: DeploymentsService): RouteDef[] {
  return [
    route(E.createDeployment, async ({ body, actor, reply }) => {
      const res = await svc.create(body, actor);
      reply.code('dryRun' in res ? 200 : 201);
      return res;
    }),
    route(E.listDeployments, async ({ query, actor }) => svc.list(query, actor)),
    route(E.getDeployment, async ({ params, actor }) => svc.get(params.id, actor)),
    route(E.stopDeployment, async ({ params, actor }) => svc.stop(params.id, actor)),
    route(E.scaleDeployment, async ({ params, body, actor }) => svc.scale(params.id, body.replicas, actor)),
    route(E.deploymentLogs, async ({ params, query, actor }) => svc.logs(params.id, query.replica, query.tail, actor)),
  ];
}

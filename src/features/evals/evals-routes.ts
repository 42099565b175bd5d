/** Handlers of the evaluation endpoints (contracts/evals-endpoints.ts). */
import { z } from 'zod';
import { evalsEndpoints as E } from '../../contracts/evals-endpoints.js';
import { route, type RouteDef } from '../../platform/http/http-route.js';
import type { Gates } from './evals-gates.js';
import type { EvalsService } from './evals-service.js';
import { METRICS } from './metrics/metrics-registry.js';

export function evalRoutes(svc: EvalsService, gates: Gates): RouteDef[] {
  const metricList = {
    items: [...METRICS.values()].map((m) => ({
      name: m.name,
      description: m.description,
      unit: m.unit,
      higherIsBetter: m.higherIsBetter,
      binary: m.binary,
      needs: m.needs,
      params: z.toJSONSchema(m.params as z.ZodType, { io: 'input', unrepresentable: 'any' }),
    })),
  };
  return [
    route(E.listMetrics, async () => metricList),
    route(E.createRun, async ({ body, actor }) => svc.createRun(body, actor)),
    route(E.listRuns, async ({ query, actor }) => svc.listRuns(query, actor.namespaces)),
    route(E.getRun, async ({ params, actor }) => svc.getRun(params.id, actor.namespaces)),
    route(E.listResults, async ({ params, query, actor }) => svc.listResults(params.id, query, actor.namespaces)),
    route(E.cancelRun, async ({ params, actor }) => svc.cancelRun(params.id, actor)),
    route(E.resumeRun, async ({ params, body, actor }) =>
      svc.resumeRun(params.id, { ...(body.apiKey ? { apiKey: body.apiKey } : {}), ...(body.judgeApiKey ? { judgeApiKey: body.judgeApiKey } : {}) }, actor),
    ),
    route(E.deleteRun, async ({ params, actor }) => svc.deleteRun(params.id, actor)),
    route(E.compareRuns, async ({ query, actor }) => svc.compare(query.a, query.b, actor.namespaces)),
    route(E.evaluateGates, async ({ body, actor }) => gates.evaluate(body, actor.namespaces)),
  ];
}

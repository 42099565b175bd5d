/** Handlers of the prompt endpoints (contracts/prompts-endpoints.ts): render and diff. */
import { promptsEndpoints as E } from '../../contracts/prompts-endpoints.js';
import { route, type RouteDef } from '../../platform/http/http-route.js';
import type { PromptsService } from './prompts-service.js';

export function promptRoutes(svc: PromptsService): RouteDef[] {
  return [
    route(E.renderPrompt, async ({ params, body }) => svc.render(params.name, body)),
    route(E.diffPrompt, async ({ params, query }) => svc.diff(params.name, params.version, query.other)),
  ];
}

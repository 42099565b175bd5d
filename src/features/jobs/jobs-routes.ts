/** Handlers of the job runner's admin endpoints (contracts/jobs-endpoints.ts). */
import { jobsEndpoints as E } from '../../contracts/jobs-endpoints.js';
import { route, type RouteDef } from '../../platform/http/http-route.js';
import type { JobsService } from './jobs-service.js';

export function jobsRoutes(svc: Pick<JobsService, 'get' | 'list'>): RouteDef[] {
  return [route(E.listJobs, async ({ query }) => svc.list(query)), route(E.getJob, async ({ params }) => svc.get(params.id))];
}

/**
 * Admin listing of the job runner: what is queued, running, retrying or failed, across every
 * feature. Jobs are not tied to namespaces, so a token limited to some cannot read them.
 */
import { JobPage, JobParams, JobResponse, ListJobsQuery } from '../../contracts/jobs.js';
import { defineRoute, type RouteDef } from '../../platform/http/http-route.js';
import type { JobsService } from './jobs-service.js';

export function jobsRoutes(svc: Pick<JobsService, 'get' | 'list'>): RouteDef[] {
  const tags = ['jobs'];
  return [
    defineRoute({
      method: 'GET', url: '/api/v1/jobs', summary: 'List background jobs, newest first (filter by kind, state)', tags, permission: 'system:admin',
      query: ListJobsQuery, responses: { 200: JobPage },
      handler: async ({ query }) => svc.list(query),
    }),
    defineRoute({
      method: 'GET', url: '/api/v1/jobs/:id', summary: 'A background job: state, attempts, lease, last error', tags, permission: 'system:admin',
      params: JobParams, responses: { 200: JobResponse },
      handler: async ({ params }) => svc.get(params.id),
    }),
  ];
}

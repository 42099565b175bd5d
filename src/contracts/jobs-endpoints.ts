/**
 * Admin endpoints of the job runner: what is queued, running, retrying or failed, across every
 * feature. Jobs are not tied to namespaces, so a token limited to some cannot read them.
 */
import { endpoint } from './endpoint.js';
import { JobPage, JobParams, JobResponse, ListJobsQuery } from './jobs.js';

const tags = ['jobs'];

export const jobsEndpoints = {
  listJobs: endpoint({
    method: 'GET', url: '/api/v1/jobs', summary: 'List background jobs, newest first (filter by kind, state)', tags, permission: 'system:admin',
    query: ListJobsQuery, responses: { 200: JobPage },
  }),
  getJob: endpoint({
    method: 'GET', url: '/api/v1/jobs/:id', summary: 'A background job: state, attempts, lease, last error', tags, permission: 'system:admin',
    params: JobParams, responses: { 200: JobResponse },
  }),
};

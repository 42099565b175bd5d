/**
 * Builds the job runner and its admin routes. Features register their job kinds on
 * `service` before `service.start()`; the server starts it once listening and stops it first
 * on shutdown (running jobs go back to the queue for the next start or another replica).
 */
import type { Clock } from '../../platform/clock.js';
import type { Config } from '../../platform/config.js';
import type { Logger } from '../../platform/log.js';
import type { SqlDatabase } from '../../platform/sql/sql-db.js';
import { jobsMigrations } from './jobs-migrations.js';
import { jobsRoutes } from './jobs-routes.js';
import { createJobsService } from './jobs-service.js';

export { jobsMigrations, jobsRoutes };

export function wireJobs(deps: { sql: SqlDatabase; clock: Clock; log: Logger; config: Pick<Config, 'jobLeaseSeconds' | 'jobPollIntervalMs'> }) {
  const service = createJobsService({
    db: deps.sql.db,
    dialect: deps.sql.dialect,
    clock: deps.clock,
    log: deps.log,
    settings: { leaseSeconds: deps.config.jobLeaseSeconds, pollIntervalMs: deps.config.jobPollIntervalMs },
  });
  return { service, routes: jobsRoutes(service) };
}

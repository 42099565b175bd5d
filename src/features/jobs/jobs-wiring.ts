/**
 * The jobs module: the one job runner and its admin routes. Features register their job kinds
 * during their own setup; the runner starts once the server listens and stops first on
 * shutdown (running jobs go back to the queue for the next start or another replica).
 */
import { defineModule } from '../../platform/module.js';
import { jobsMigrations } from './jobs-migrations.js';
import { jobsRoutes } from './jobs-routes.js';
import { createJobsService, type JobsService } from './jobs-service.js';

declare module '../../platform/module.js' {
  interface Provided {
    jobs: JobsService;
  }
}

export const jobsModule = defineModule({
  name: 'jobs',
  needs: [],
  migrations: jobsMigrations,
  setup({ sql, clock, log, config }) {
    const service = createJobsService({
      db: sql.db,
      dialect: sql.dialect,
      clock,
      log,
      settings: { leaseSeconds: config.jobLeaseSeconds, pollIntervalMs: config.jobPollIntervalMs },
    });
    return { provides: service, routes: () => jobsRoutes(service), start: () => service.start(), stop: () => service.stop() };
  },
});

/** The events module: the domain event log, its durable subscribers and its long-poll route. */
import { defineModule } from '../../platform/module.js';
import { eventsMigrations } from './events-migrations.js';
import { createEventsRepo } from './events-repo.js';
import { eventsRoutes } from './events-routes.js';
import { createEventsService, type EventsService } from './events-service.js';

declare module '../../platform/module.js' {
  interface Provided {
    events: EventsService;
  }
}

export const eventsModule = defineModule({
  name: 'events',
  needs: [],
  migrations: eventsMigrations,
  setup({ sql, clock, log, config }) {
    const service = createEventsService({ repo: createEventsRepo(sql.db, sql.dialect), clock, log, settings: { pollMs: config.eventPollMs } });
    return { provides: service, routes: () => eventsRoutes(service), start: () => service.start(), stop: () => service.stop() };
  },
});

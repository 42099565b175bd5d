/** The event log over HTTP: other processes (gateway replicas, webhook senders) read it in order. */
import { EventPage, ListEventsQuery, parseTypeFilter } from '../../contracts/events.js';
import { errors } from '../../platform/errors.js';
import { defineRoute, type RouteDef } from '../../platform/http/http-route.js';
import type { EventsService } from './events-service.js';

export function eventsRoutes(svc: EventsService): RouteDef[] {
  return [
    defineRoute({
      method: 'GET', url: '/api/v1/events', tags: ['events'], permission: 'asset:read', scope: 'filter',
      summary: 'Read domain events after a sequence number, waiting up to `wait` seconds for one (long poll)',
      query: ListEventsQuery, responses: { 200: EventPage },
      handler: async ({ query, actor, req }) => {
        let filter;
        try {
          filter = parseTypeFilter(query.types);
        } catch (err) {
          throw errors.invalid((err as Error).message, { types: query.types });
        }
        const gone = new AbortController();
        req.raw.once('close', () => gone.abort());
        return svc.read({
          after: query.after,
          types: filter ? filter.exact : null,
          prefixes: filter?.prefixes ?? [],
          namespaces: actor.namespaces,
          limit: query.limit,
          waitMs: query.wait * 1000,
          signal: gone.signal,
        });
      },
    }),
  ];
}

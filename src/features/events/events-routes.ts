/** Handler of the event log endpoint (contracts/events-endpoints.ts). */
import { eventsEndpoints as E } from '../../contracts/events-endpoints.js';
import { parseTypeFilter } from '../../contracts/events.js';
import { errors } from '../../platform/errors.js';
import { route, type RouteDef } from '../../platform/http/http-route.js';
import type { EventsService } from './events-service.js';

export function eventsRoutes(svc: EventsService): RouteDef[] {
  return [
    route(E.listEvents, async ({ query, actor, req }) => {
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
    }),
  ];
}

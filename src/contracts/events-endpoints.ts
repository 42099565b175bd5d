/** The event log over HTTP: other processes (gateway replicas, webhook senders) read it in order. */
import { endpoint } from './endpoint.js';
import { EventPage, ListEventsQuery } from './events.js';

export const eventsEndpoints = {
  listEvents: endpoint({
    method: 'GET', url: '/api/v1/events', tags: ['events'], permission: 'asset:read', scope: 'filter',
    summary: 'Read domain events after a sequence number, waiting up to `wait` seconds for one (long poll)',
    query: ListEventsQuery, responses: { 200: EventPage },
  }),
};

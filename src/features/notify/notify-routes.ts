/** Handlers of the notification endpoints (contracts/notify-endpoints.ts). */
import { notifyEndpoints as E } from '../../contracts/notify-endpoints.js';
import { route, type RouteDef } from '../../platform/http/http-route.js';
import type { NotifyService } from './notify-service.js';
import type { TriggersService } from './notify-triggers-service.js';

export function notifyRoutes(hooks: NotifyService, triggers: TriggersService): RouteDef[] {
  return [
    route(E.createWebhook, async ({ body, actor }) => hooks.create(body, actor)),
    route(E.listWebhooks, async ({ query, actor }) => hooks.list(query, actor)),
    route(E.getWebhook, async ({ params, actor }) => hooks.get(params.id, actor)),
    route(E.deleteWebhook, async ({ params, actor }) => hooks.remove(params.id, actor)),
    route(E.listDeliveries, async ({ params, query, actor }) => hooks.deliveries(params.id, query, actor)),
    route(E.testWebhook, async ({ params, actor }) => hooks.test(params.id, actor)),
    route(E.createTrigger, async ({ body, actor }) => triggers.create(body, actor)),
    route(E.listTriggers, async ({ query, actor }) => triggers.list(query, actor)),
    route(E.getTrigger, async ({ params, actor }) => triggers.get(params.id, actor)),
    route(E.deleteTrigger, async ({ params, actor }) => triggers.remove(params.id, actor)),
  ];
}

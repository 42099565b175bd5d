/**
 * Webhooks: where events go (patterns of event types, a format, an optional namespace), and the
 * durable event subscriber that turns each matching event into a delivery job. The subscriber
 * only writes rows in the event transaction; sending is the jobs' (notify-delivery.ts), so
 * nothing an endpoint does can hold up the event stream. The signing secret is returned once,
 * at creation; it is never listed, logged or audited. Listings and the audit trail show the URL
 * with its tokens cut (`shownUrl`): a Slack webhook URL is itself a credential.
 */
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { EVENT_TYPES, type DomainEvent } from '../../contracts/events.js';
import type { CreateWebhookBody, ListDeliveriesQuery, ListWebhooksQuery, WebhookResponse } from '../../contracts/notify.js';
import { iso, type Clock } from '../../platform/clock.js';
import { decodeCursor, encodeCursor } from '../../platform/cursor.js';
import { AppError, errors } from '../../platform/errors.js';
import type { EndpointPolicy } from '../../platform/http/http-endpoint-policy.js';
import type { Actor } from '../../platform/http/http-route.js';
import type { AnyDb } from '../../platform/sql/sql-db.js';
import type { AuditService } from '../audit/audit-service.js';
import { deliveryView, type Deliveries } from './notify-delivery.js';
import { EVENT_FAMILIES, matchesPatterns, noticeOf, shownUrl, unknownPattern } from './notify-fns.js';
import type { NotifyRepo, WebhookRow } from './notify-repo.js';

export function webhookView(r: WebhookRow): WebhookResponse {
  return { id: r.id, name: r.name, url: shownUrl(r.url), events: JSON.parse(r.events) as string[], format: r.format as WebhookResponse['format'], namespace: r.namespace, createdAt: r.created_at, createdBy: r.created_by };
}

/** Whether a webhook takes `event`: one of its patterns matches, and it is of the webhook's namespace if it has one. */
export function webhookTakes(hook: Pick<WebhookRow, 'events' | 'namespace'>, event: Pick<DomainEvent, 'type' | 'namespace'>): boolean {
  if (hook.namespace !== null && event.namespace !== hook.namespace) return false;
  return matchesPatterns(JSON.parse(hook.events) as string[], event.type);
}

export function createNotifyService(deps: {
  repo: NotifyRepo;
  deliveries: Deliveries;
  audit: Pick<AuditService, 'record'>;
  policy: Pick<EndpointPolicy, 'check'>;
  clock: Clock;
}) {
  const { repo, deliveries, clock } = deps;

  /** The webhook, or a 404 when it does not exist or lies outside the caller's namespaces (no difference shown). */
  async function hookFor(id: string, actor: Actor): Promise<WebhookRow> {
    const h = await repo.webhook(id);
    if (!h || (actor.namespaces && (h.namespace === null || !actor.namespaces.includes(h.namespace)))) {
      throw new AppError('not_found', `webhook ${JSON.stringify(id)} not found; list them with steward webhooks ls`, { webhook: id });
    }
    return h;
  }

  return {
    hookFor,

    async create(body: CreateWebhookBody, actor: Actor) {
      const problems = body.events.map((p) => unknownPattern(p, EVENT_TYPES, EVENT_FAMILIES)).filter((p): p is string => p !== null);
      if (problems.length) throw errors.invalid(`events: ${problems.join('; ')}; known types: ${EVENT_TYPES.join(', ')}`, { events: body.events, known: EVENT_TYPES });
      await deps.policy.check(body.url, 'webhook url');
      const row: WebhookRow = {
        id: `whk_${randomBytes(9).toString('base64url')}`,
        name: body.name,
        url: body.url,
        events: JSON.stringify([...new Set(body.events)]),
        format: body.format,
        namespace: body.namespace,
        secret: body.secret ?? `whsec_${randomBytes(24).toString('base64url')}`,
        created_at: iso(clock.now()),
        created_by: actor.name,
      };
      await repo.transaction(async (r, tx) => {
        await r.insertWebhook(row);
        // webhookView never holds the secret: the audit chain does not either.
        await deps.audit.record(tx, actor, { action: 'webhook.create', target: `webhook:${row.id}`, change: { ...webhookView(row) } });
      });
      return { ...webhookView(row), secret: row.secret };
    },

    async get(id: string, actor: Actor) {
      return webhookView(await hookFor(id, actor));
    },

    async list(q: z.output<typeof ListWebhooksQuery>, actor: Actor) {
      const after = q.cursor ? (decodeCursor(q.cursor, 2) as [string, string]) : undefined;
      const rows = await repo.listWebhooks({ namespaces: actor.namespaces, ...(after ? { after } : {}), limit: q.limit + 1 });
      const items = rows.slice(0, q.limit);
      const last = items[items.length - 1];
      return { items: items.map(webhookView), nextCursor: rows.length > q.limit && last ? encodeCursor([last.created_at, last.id]) : null };
    },

    /** Deletes a webhook and its deliveries (their jobs find nothing and end); refused while a trigger fires it. */
    async remove(id: string, actor: Actor): Promise<void> {
      const h = await hookFor(id, actor);
      await repo.transaction(async (r, tx) => {
        const triggers = await r.triggersOfWebhook(h.id);
        if (triggers.length) {
          throw errors.conflict(`webhook ${h.id} is fired by trigger(s) ${triggers.map((t) => t.name).join(', ')}; delete them first (steward triggers rm ID)`, { triggers: triggers.map((t) => t.id) });
        }
        if (!(await r.deleteWebhook(h.id))) throw new AppError('not_found', `webhook ${JSON.stringify(id)} not found`, { webhook: id });
        await r.deleteDeliveries(h.id);
        await deps.audit.record(tx, actor, { action: 'webhook.delete', target: `webhook:${h.id}`, change: { name: h.name, url: shownUrl(h.url) } });
      });
    },

    async deliveries(id: string, q: z.output<typeof ListDeliveriesQuery>, actor: Actor) {
      const h = await hookFor(id, actor);
      const after = q.cursor ? (decodeCursor(q.cursor, 2) as [string, string]) : undefined;
      const rows = await repo.listDeliveries(h.id, { ...(q.state ? { state: q.state } : {}), ...(after ? { after } : {}), limit: q.limit + 1 });
      const items = rows.slice(0, q.limit);
      const last = items[items.length - 1];
      return { items: items.map(deliveryView), nextCursor: rows.length > q.limit && last ? encodeCursor([last.created_at, last.id]) : null };
    },

    /** Sends a `webhook.test` notice now, once, and answers how it went. */
    async test(id: string, actor: Actor) {
      const h = await hookFor(id, actor);
      const delivery = await deliveries.sendNow(h, { type: 'webhook.test', seq: null, at: iso(clock.now()), subject: `webhook:${h.id}`, namespace: h.namespace, data: { webhook: h.id, name: h.name, by: actor.name } });
      return { delivery };
    },

    /** The durable subscriber's handler: a delivery per webhook that takes the event, in the event's transaction. */
    async onEvent(event: DomainEvent, tx: AnyDb): Promise<number> {
      let n = 0;
      for (const h of await repo.on(tx).allWebhooks()) {
        if (webhookTakes(h, event) && (await deliveries.enqueue(tx, h, `event:${event.seq}`, noticeOf(event)))) n++;
      }
      return n;
    },
  };
}
export type NotifyService = ReturnType<typeof createNotifyService>;

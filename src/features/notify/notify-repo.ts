/** SQL of notifications: webhooks, deliveries, triggers. Knows tables, not rules. */
import type { Kysely, Selectable } from 'kysely';
import type { AnyDb } from '../../platform/sql/sql-db.js';

export interface WebhooksTable {
  id: string;
  name: string;
  url: string;
  /** JSON array of event patterns. */
  events: string;
  format: string;
  namespace: string | null;
  secret: string;
  created_at: string;
  created_by: string;
}
export interface DeliveriesTable {
  id: string;
  webhook_id: string;
  source: string;
  event_type: string;
  notice: string;
  state: string;
  attempts: number;
  response_status: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  delivered_at: string | null;
}
export interface TriggersTable {
  id: string;
  name: string;
  model: string;
  namespace: string | null;
  on_spec: string;
  event_type: string | null;
  webhook_id: string;
  next_at: string | null;
  last_fired_at: string | null;
  created_at: string;
  created_by: string;
}
interface Tables {
  webhooks: WebhooksTable;
  webhook_deliveries: DeliveriesTable;
  notify_triggers: TriggersTable;
}
export type WebhookRow = Selectable<WebhooksTable>;
export type DeliveryRow = Selectable<DeliveriesTable>;
export type TriggerRow = Selectable<TriggersTable>;

/** Keyset page: newest first, after (created_at, id). */
interface PageQuery {
  after?: [string, string];
  limit: number;
}

export function createNotifyRepo(root: AnyDb) {
  const bind = (db: Kysely<Tables>) => ({
    async insertWebhook(row: WebhookRow): Promise<void> {
      await db.insertInto('webhooks').values(row).execute();
    },
    async webhook(id: string): Promise<WebhookRow | undefined> {
      return db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async allWebhooks(): Promise<WebhookRow[]> {
      return db.selectFrom('webhooks').selectAll().orderBy('id').execute();
    },
    async listWebhooks(q: PageQuery & { namespaces: readonly string[] | null }): Promise<WebhookRow[]> {
      let s = db.selectFrom('webhooks').selectAll();
      if (q.namespaces) s = s.where('namespace', 'in', q.namespaces.length ? [...q.namespaces] : ['\u0000']);
      if (q.after) {
        const [at, id] = q.after;
        s = s.where((eb) => eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('id', '<', id)])]));
      }
      return s.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
    },
    async deleteWebhook(id: string): Promise<boolean> {
      const r = await db.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },

    /** Records a delivery; false when (webhook, source) has one already (the event came again). */
    async insertDelivery(row: DeliveryRow): Promise<boolean> {
      const r = await db
        .insertInto('webhook_deliveries')
        .values(row)
        .onConflict((oc) => oc.columns(['webhook_id', 'source']).doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
    },
    async delivery(id: string): Promise<DeliveryRow | undefined> {
      return db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async updateDelivery(id: string, set: Partial<Pick<DeliveryRow, 'state' | 'attempts' | 'response_status' | 'last_error' | 'updated_at' | 'delivered_at'>>): Promise<void> {
      await db.updateTable('webhook_deliveries').set(set).where('id', '=', id).execute();
    },
    async listDeliveries(webhookId: string, q: PageQuery & { state?: string }): Promise<DeliveryRow[]> {
      let s = db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId);
      if (q.state) s = s.where('state', '=', q.state);
      if (q.after) {
        const [at, id] = q.after;
        s = s.where((eb) => eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('id', '<', id)])]));
      }
      return s.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
    },
    async deleteDeliveries(webhookId: string): Promise<void> {
      await db.deleteFrom('webhook_deliveries').where('webhook_id', '=', webhookId).execute();
    },

    async insertTrigger(row: TriggerRow): Promise<void> {
      await db.insertInto('notify_triggers').values(row).execute();
    },
    async trigger(id: string): Promise<TriggerRow | undefined> {
      return db.selectFrom('notify_triggers').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async triggersOn(eventType: string): Promise<TriggerRow[]> {
      return db.selectFrom('notify_triggers').selectAll().where('event_type', '=', eventType).orderBy('id').execute();
    },
    async triggersOfWebhook(webhookId: string): Promise<TriggerRow[]> {
      return db.selectFrom('notify_triggers').selectAll().where('webhook_id', '=', webhookId).orderBy('id').execute();
    },
    async listTriggers(q: PageQuery & { model?: string; namespaces: readonly string[] | null }): Promise<TriggerRow[]> {
      let s = db.selectFrom('notify_triggers').selectAll();
      if (q.model) s = s.where('model', '=', q.model);
      if (q.namespaces) s = s.where('namespace', 'in', q.namespaces.length ? [...q.namespaces] : ['\u0000']);
      if (q.after) {
        const [at, id] = q.after;
        s = s.where((eb) => eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('id', '<', id)])]));
      }
      return s.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
    },
    async setTriggerTimes(id: string, set: Partial<Pick<TriggerRow, 'next_at' | 'last_fired_at'>>): Promise<void> {
      await db.updateTable('notify_triggers').set(set).where('id', '=', id).execute();
    },
    async deleteTrigger(id: string): Promise<boolean> {
      const r = await db.deleteFrom('notify_triggers').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },
  });
  return {
    ...bind(root as unknown as Kysely<Tables>),
    on: (tx: AnyDb) => bind(tx as unknown as Kysely<Tables>),
    transaction<T>(fn: (repo: ReturnType<typeof bind>, tx: AnyDb) => Promise<T>): Promise<T> {
      return (root as unknown as Kysely<Tables>).transaction().execute((trx) => fn(bind(trx), trx as unknown as AnyDb));
    },
  };
}
export type NotifyRepo = ReturnType<typeof createNotifyRepo>;

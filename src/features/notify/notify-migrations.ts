/**
 * Tables of notifications: webhooks (with the signing secret, never shown after creation), their
 * deliveries (one per webhook and source, so an event delivered twice to the subscriber is sent
 * once), and retraining triggers.
 */
import type { StewardMigration } from '../../platform/sql/sql-migrations.js';

export const notifyMigrations: StewardMigration[] = [
  {
    name: '0023_notify',
    async up(db) {
      await db.schema
        .createTable('webhooks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('events', 'text', (c) => c.notNull())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('namespace', 'text')
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('webhooks_created_idx').on('webhooks').columns(['created_at', 'id']).execute();
      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('webhook_id', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        /** The notice sent (type, seq, at, subject, namespace, data) as JSON: retries send the same body. */
        .addColumn('notice', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('response_status', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('delivered_at', 'text')
        .execute();
      await db.schema.createIndex('webhook_deliveries_source_idx').on('webhook_deliveries').columns(['webhook_id', 'source']).unique().execute();
      await db.schema.createIndex('webhook_deliveries_list_idx').on('webhook_deliveries').columns(['webhook_id', 'created_at', 'id']).execute();
      await db.schema
        .createTable('notify_triggers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('namespace', 'text')
        .addColumn('on_spec', 'text', (c) => c.notNull())
        /** The event type of an event trigger (null: scheduled), so the subscriber finds triggers by type. */
        .addColumn('event_type', 'text')
        .addColumn('webhook_id', 'text', (c) => c.notNull())
        .addColumn('next_at', 'text')
        .addColumn('last_fired_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('notify_triggers_event_idx').on('notify_triggers').columns(['event_type']).execute();
      await db.schema.createIndex('notify_triggers_created_idx').on('notify_triggers').columns(['created_at', 'id']).execute();
    },
  },
];

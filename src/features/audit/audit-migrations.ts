/** Tables of the audit feature: the append-only event chain and its head. */
import type { StewardMigration } from '../../platform/sql/sql-migrations.js';

export const auditMigrations: StewardMigration[] = [
  {
    name: '0004_audit_events',
    async up(db) {
      await db.schema
        .createTable('audit_events')
        // Assigned by the writer under a lock, never by a sequence: no gaps from rolled-back transactions.
        .addColumn('seq', 'bigint', (c) => c.primaryKey())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('token_id', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text')
        .addColumn('client_address', 'text')
        .addColumn('change_digest', 'text', (c) => c.notNull())
        .addColumn('change', 'text', (c) => c.notNull())
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_actor_idx').on('audit_events').columns(['actor', 'seq']).execute();
      await db.schema.createIndex('audit_target_idx').on('audit_events').columns(['target', 'seq']).execute();
      await db.schema.createIndex('audit_action_idx').on('audit_events').columns(['action', 'seq']).execute();
      await db.schema.createIndex('audit_at_idx').on('audit_events').columns(['at']).execute();
      await db.schema
        .createTable('audit_head')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
    },
  },
];

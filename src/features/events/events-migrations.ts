/** Tables of the domain event log: the events, and each durable subscriber's cursor. */
import type { StewardMigration } from '../../platform/sql/sql-migrations.js';

export const eventsMigrations: StewardMigration[] = [
  {
    name: '0008_domain_events',
    async up(db) {
      await db.schema
        .createTable('domain_events')
        // Assigned as max + 1 under the append lock, never by a sequence: no gaps, and no
        // number becomes visible before a smaller one commits (see platform/sql/sql-locks.ts).
        .addColumn('seq', 'bigint', (c) => c.primaryKey())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('namespace', 'text')
        .addColumn('data', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('domain_events_type_idx').on('domain_events').columns(['type', 'seq']).execute();
      await db.schema
        .createTable('event_cursors')
        .addColumn('subscriber', 'text', (c) => c.primaryKey())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
];

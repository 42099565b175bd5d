/**
 * The `jobs` table of the job runner. A key is unique among unfinished jobs only (a partial
 * unique index, on both engines), so a finished job never blocks enqueuing its work again.
 */
import { sql } from 'kysely';
import type { StewardMigration } from '../../platform/sql/sql-migrations.js';

export const jobsMigrations: StewardMigration[] = [
  {
    name: '0009_jobs_table',
    async up(db) {
      await db.schema
        .createTable('jobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('key', 'text')
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('max_attempts', 'integer', (c) => c.notNull())
        .addColumn('run_after', 'text', (c) => c.notNull())
        .addColumn('lease_owner', 'text')
        .addColumn('lease_expires_at', 'text')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .execute();
      // The predicate is written as literal text: enqueue's ON CONFLICT names the same one, and
      // PostgreSQL matches a partial index to a conflict target by its predicate.
      await sql`create unique index jobs_open_key_idx on jobs (key) where state in ('queued', 'running')`.execute(db);
      await db.schema.createIndex('jobs_claim_idx').on('jobs').columns(['kind', 'state', 'run_after']).execute();
      await db.schema.createIndex('jobs_created_idx').on('jobs').columns(['created_at', 'id']).execute();
    },
  },
];

/**
 * Tables of environments and promotions. Models are referred to by name and versions by number
 * (as evaluation runs do): versions are immutable and never renamed. At most one request per
 * model and environment is open at a time (a partial unique index), which is how two concurrent
 * promotions to one environment are told apart: the second is refused, naming the first.
 */
import { sql } from 'kysely';
import { DEFAULT_ENVIRONMENTS, EnvironmentPolicy } from '../../contracts/promotions.js';
import type { StewardMigration } from '../../platform/sql/sql-migrations.js';

export const promotionsMigrations: StewardMigration[] = [
  {
    name: '0017_promotions',
    async up(db, dialect) {
      const id = dialect === 'sqlite' ? 'integer' : 'bigserial';
      await db.schema
        .createTable('environments')
        .addColumn('namespace', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('policy', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('environments_pk', ['namespace', 'name'])
        .execute();
      const now = new Date().toISOString();
      for (const [name, policy] of Object.entries(DEFAULT_ENVIRONMENTS)) {
        await sql`insert into environments (namespace, name, policy, updated_at, updated_by) values ('', ${name}, ${JSON.stringify(EnvironmentPolicy.parse(policy))}, ${now}, 'system')`.execute(db);
      }

      await db.schema
        .createTable('env_pointers')
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('namespace', 'text')
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('since', 'text', (c) => c.notNull())
        .addColumn('moved_by', 'text', (c) => c.notNull())
        .addColumn('promotion_id', 'text')
        .addPrimaryKeyConstraint('env_pointers_pk', ['model', 'environment'])
        .execute();
      await db.schema.createIndex('env_pointers_version_idx').on('env_pointers').columns(['model', 'version']).execute();

      await db.schema
        .createTable('env_moves')
        .addColumn('seq', id as 'integer', (c) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('namespace', 'text')
        .addColumn('version', 'text')
        .addColumn('previous', 'text')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('promotion_id', 'text')
        .addColumn('reason', 'text')
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('moved_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('env_moves_model_idx').on('env_moves').columns(['model', 'environment', 'seq']).execute();

      await db.schema
        .createTable('promotions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('namespace', 'text')
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('from_env', 'text')
        .addColumn('to_env', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('comment', 'text', (c) => c.notNull())
        .addColumn('gates', 'text', (c) => c.notNull())
        .addColumn('approvals_required', 'integer', (c) => c.notNull())
        .addColumn('approval_role', 'text', (c) => c.notNull())
        .addColumn('requested_by', 'text', (c) => c.notNull())
        .addColumn('requested_at', 'text', (c) => c.notNull())
        .addColumn('decided_at', 'text')
        .addColumn('expires_at', 'text')
        .execute();
      await db.schema.createIndex('promotions_requested_idx').on('promotions').columns(['requested_at', 'id']).execute();
      await db.schema.createIndex('promotions_model_idx').on('promotions').columns(['model', 'version']).execute();
      // One open request per model and environment: the second concurrent one is refused.
      await sql`create unique index promotions_open_uq on promotions (model, to_env) where state in ('checking', 'pending')`.execute(db);

      await db.schema
        .createTable('promotion_decisions')
        .addColumn('promotion_id', 'text', (c) => c.notNull().references('promotions.id').onDelete('cascade'))
        .addColumn('decided_by', 'text', (c) => c.notNull())
        .addColumn('decision', 'text', (c) => c.notNull())
        .addColumn('comment', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('promotion_decisions_pk', ['promotion_id', 'decided_by'])
        .execute();
    },
  },
];

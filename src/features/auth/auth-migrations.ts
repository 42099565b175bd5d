/** Tables of the auth feature: API tokens, stored only as the sha256 of their secret. */
import type { StewardMigration } from '../../platform/sql/sql-migrations.js';

export const authMigrations: StewardMigration[] = [
  {
    name: '0003_auth_tokens',
    async up(db) {
      await db.schema
        .createTable('api_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('namespaces', 'text')
        .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('expires_at', 'text')
        .addColumn('revoked_at', 'text')
        .addColumn('last_used_at', 'text')
        .execute();
    },
  },
];

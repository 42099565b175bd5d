/** Tables of the uploads feature: the index of stored blobs and the resumable upload sessions. */
import type { StewardMigration } from '../../platform/sql/sql-migrations.js';

export const uploadsMigrations: StewardMigration[] = [
  {
    name: '0002_uploads_init',
    async up(db) {
      await db.schema
        .createTable('blobs')
        .addColumn('sha256', 'text', (c) => c.primaryKey())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('blobs_created_idx').on('blobs').columns(['created_at']).execute();
      await db.schema
        .createTable('upload_sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('upload_sessions_expires_idx').on('upload_sessions').columns(['expires_at']).execute();
    },
  },
  {
    // A session started without a sha256 is refused when a stored blob has its size (the bytes
    // might be that blob): one indexed lookup per large upload.
    name: '0008_uploads_blob_size_idx',
    async up(db) {
      await db.schema.createIndex('blobs_size_idx').on('blobs').columns(['size']).execute();
    },
  },
  {
    // A session belongs to the token that started it; others are told it does not exist.
    // Sessions started before this have no owner and serve nobody: their pushes start them again.
    name: '0014_uploads_owner',
    async up(db) {
      await db.schema.alterTable('upload_sessions').addColumn('token_id', 'text').execute();
    },
  },
];

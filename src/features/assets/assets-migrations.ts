/**
 * Tables of the assets feature. Typed columns for what is searched (state, version order,
 * architecture, framework, parameters, accuracy), JSON text for the rest of the metadata.
 * Timestamps are ISO-8601 UTC text on both engines: they sort as strings and read back the same.
 */
import { sql } from 'kysely';
import type { StewardMigration } from '../../platform/sql/sql-migrations.js';

export const assetsMigrations: StewardMigration[] = [
  {
    name: '0001_assets_init',
    async up(db, dialect) {
      const id = dialect === 'sqlite' ? 'integer' : 'bigserial';
      const ref = dialect === 'sqlite' ? 'integer' : 'bigint';
      const real = dialect === 'sqlite' ? 'real' : 'double precision';

      await db.schema
        .createTable('assets')
        .addColumn('id', id as 'integer', (c) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('namespace', 'text')
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('owner', 'text')
        .addColumn('labels', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('assets_kind_name_uq', ['kind', 'name'])
        .execute();
      await db.schema.createIndex('assets_kind_ns_idx').on('assets').columns(['kind', 'namespace', 'name']).execute();

      await db.schema
        .createTable('asset_labels')
        .addColumn('asset_id', ref as 'integer', (c) => c.notNull().references('assets.id').onDelete('cascade'))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('asset_labels_pk', ['asset_id', 'key'])
        .execute();
      await db.schema.createIndex('asset_labels_kv_idx').on('asset_labels').columns(['key', 'value']).execute();

      await db.schema
        .createTable('versions')
        .addColumn('id', id as 'integer', (c) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
        .addColumn('asset_id', ref as 'integer', (c) => c.notNull().references('assets.id').onDelete('cascade'))
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('version_key', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('file_count', 'integer', (c) => c.notNull())
        .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('labels', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('architecture', 'text')
        .addColumn('framework', 'text')
        .addColumn('parameters', real as 'real')
        .addColumn('accuracy', real as 'real')
        .addColumn('card', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('ready_at', 'text')
        .addColumn('expires_at', 'text')
        .addUniqueConstraint('versions_asset_version_uq', ['asset_id', 'version'])
        .execute();
      await db.schema.createIndex('versions_asset_key_idx').on('versions').columns(['asset_id', 'version_key']).execute();
      await db.schema.createIndex('versions_state_idx').on('versions').columns(['state', 'expires_at']).execute();
      await db.schema.createIndex('versions_arch_idx').on('versions').columns(['architecture']).execute();
      await db.schema.createIndex('versions_accuracy_idx').on('versions').columns(['accuracy', 'id']).execute();
      await db.schema.createIndex('versions_parameters_idx').on('versions').columns(['parameters', 'id']).execute();

      await db.schema
        .createTable('version_labels')
        .addColumn('version_id', ref as 'integer', (c) => c.notNull().references('versions.id').onDelete('cascade'))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('version_labels_pk', ['version_id', 'key'])
        .execute();
      await db.schema.createIndex('version_labels_kv_idx').on('version_labels').columns(['key', 'value', 'version_id']).execute();

      await db.schema
        .createTable('version_files')
        .addColumn('version_id', ref as 'integer', (c) => c.notNull().references('versions.id').onDelete('cascade'))
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('version_files_pk', ['version_id', 'path'])
        .execute();
      // GC asks "is this blob referenced?" by hash.
      await db.schema.createIndex('version_files_sha_idx').on('version_files').columns(['sha256']).execute();

      await db.schema
        .createTable('lineage_edges')
        .addColumn('version_id', ref as 'integer', (c) => c.notNull().references('versions.id').onDelete('cascade'))
        .addColumn('relation', 'text', (c) => c.notNull())
        .addColumn('target_version_id', ref as 'integer', (c) => c.references('versions.id').onDelete('set null'))
        .addColumn('target_ref', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('lineage_edges_pk', ['version_id', 'relation', 'target_ref'])
        .execute();
      await db.schema.createIndex('lineage_edges_target_idx').on('lineage_edges').columns(['target_version_id']).execute();

      await db.schema
        .createTable('aliases')
        .addColumn('asset_id', ref as 'integer', (c) => c.notNull().references('assets.id').onDelete('cascade'))
        .addColumn('alias', 'text', (c) => c.notNull())
        .addColumn('version_id', ref as 'integer', (c) => c.notNull().references('versions.id').onDelete('cascade'))
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('updated_by', 'text')
        .addPrimaryKeyConstraint('aliases_pk', ['asset_id', 'alias'])
        .execute();
      await db.schema.createIndex('aliases_version_idx').on('aliases').columns(['version_id']).execute();

      await db.schema
        .createTable('alias_events')
        .addColumn('id', id as 'integer', (c) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
        .addColumn('asset_id', ref as 'integer', (c) => c.notNull().references('assets.id').onDelete('cascade'))
        .addColumn('alias', 'text', (c) => c.notNull())
        .addColumn('version', 'text')
        .addColumn('previous_version', 'text')
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text')
        .execute();
      await db.schema.createIndex('alias_events_asset_idx').on('alias_events').columns(['asset_id', 'alias', 'id']).execute();
    },
  },
  {
    name: '0005_assets_read_indexes',
    async up(db) {
      // Search by architecture sorted by accuracy reads the index in order instead of sorting.
      await db.schema.dropIndex('versions_arch_idx').execute();
      await db.schema.createIndex('versions_arch_acc_idx').on('versions').columns(['architecture', 'accuracy', 'id']).execute();
      // …and by architecture newest first, the default order.
      await db.schema.createIndex('versions_arch_id_idx').on('versions').columns(['architecture', 'id']).execute();
      // Model listings count versions by state and find the latest: both answered from this index alone.
      await db.schema.createIndex('versions_asset_state_key_idx').on('versions').columns(['asset_id', 'state', 'version_key']).execute();
    },
  },
  {
    name: '0007_assets_listing_stats',
    async up(db) {
      // Model listings showed each model's version count and latest ready version by counting
      // its versions per row of the page (100 index entries a model, 50 models a page): kept
      // on the asset instead, by the repo's writes (refreshAssetStats), and filled in here.
      await db.schema.alterTable('assets').addColumn('version_count', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('assets').addColumn('latest_version', 'text').execute();
      await sql`update assets set
        version_count = (select count(*) from versions v where v.asset_id = assets.id and v.state <> 'pending'),
        latest_version = (select v.version from versions v where v.asset_id = assets.id and v.state = 'ready' order by v.version_key desc limit 1)`.execute(db);
      // One model's versions newest first (the default listing) read in order, without sorting all of them.
      await db.schema.createIndex('versions_asset_id_idx').on('versions').columns(['asset_id', 'id']).execute();
      // Searches walk these indexes in their sort order and test each entry against the other
      // filters; with accuracy and asset_id in the entry, a row that fails (95 in 100 for
      // "accuracy ≥ 0.95") costs no read of the table row. Measured on SQLite, 100k versions:
      // architecture + minAccuracy 0.95 + label, newest first, 2.5 ms → 0.55 ms.
      await db.schema.dropIndex('versions_arch_id_idx').execute();
      await db.schema.createIndex('versions_arch_id_idx').on('versions').columns(['architecture', 'id', 'accuracy', 'asset_id']).execute();
      await db.schema.dropIndex('versions_arch_acc_idx').execute();
      await db.schema.createIndex('versions_arch_acc_idx').on('versions').columns(['architecture', 'accuracy', 'id', 'asset_id']).execute();
      await db.schema.dropIndex('versions_accuracy_idx').execute();
      await db.schema.createIndex('versions_accuracy_idx').on('versions').columns(['accuracy', 'id', 'asset_id']).execute();
    },
  },
  {
    name: '0015_assets_delete',
    async up(db) {
      // An asset registered by a version's creation (`asset` in the body: what a push sends)
      // is provisional until a version of it becomes ready: should its versions all go (a push
      // abandoned and expired, or deleted), the asset goes with them, so a failed push leaves
      // nothing behind. Assets registered on their own, and every existing one, are not.
      await db.schema.alterTable('assets').addColumn('provisional', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    },
  },
  {
    name: '0016_cli_ux',
    async up(db) {
      // `latest` became the highest ready release (a pre-release only when no release is ready),
      // and an asset's `updated_at` the later of its own and its versions' times: the kept
      // statistics of existing assets are brought in line (refreshAssetStats keeps them so).
      await sql`update assets set
        latest_version = coalesce(
          (select v.version from versions v where v.asset_id = assets.id and v.state = 'ready' and v.version_key like '%~' order by v.version_key desc limit 1),
          (select v.version from versions v where v.asset_id = assets.id and v.state = 'ready' order by v.version_key desc limit 1)),
        updated_at = coalesce(
          (select max(v.updated_at) from versions v where v.asset_id = assets.id and v.state <> 'pending' and v.updated_at > assets.updated_at),
          updated_at)`.execute(db);
    },
  },
  {
    name: '0018_assets_retention',
    async up(db) {
      // The retention policy of an asset (keep the files of its N most recently archived
      // versions; null keeps all), when each version was archived (what "most recently" orders
      // by), and when the policy released a version's files (GC no longer counts them).
      await db.schema.alterTable('assets').addColumn('keep_archived_files', 'integer').execute();
      await db.schema.alterTable('versions').addColumn('archived_at', 'text').execute();
      await db.schema.alterTable('versions').addColumn('files_released_at', 'text').execute();
      // Versions archived before the column existed: their last change is the best record left.
      await sql`update versions set archived_at = updated_at where state = 'archived'`.execute(db);
    },
  },
];

/**
 * SQL of the assets feature, and only SQL: every query on assets, versions, files, labels,
 * lineage and aliases lives here. Driver errors are translated at this edge (a unique
 * violation becomes a conflict); business rules live in the service.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import { createCompiledCache } from '../../platform/sql/sql-compiled.js';
import type { AnyDb, Dialect } from '../../platform/sql/sql-db.js';
import { ASSET_COLUMNS, VERSION_COLUMNS, versionDocRow, versionListsSql, type AssetDocRow, type VersionDocRow } from './assets-repo-docs.js';
import { createListQueries, type AssetFilter, type RepoTables, type VersionFilter } from './assets-repo-lists.js';
import type { AssetRow, NewAssetRow, NewVersionRow, VersionRow } from './assets-types.js';

export type { AssetFilter, PageRow, VersionFilter } from './assets-repo-lists.js';
export type { AssetDocRow, VersionDocRow } from './assets-repo-docs.js';

type Db = Kysely<RepoTables>;

/** `version_key` of a release (no pre-release part): it ends in `~` (see versionKey). */
const RELEASE_KEY = '%~';

/** The highest ready version of an asset, among releases only or among all (a scalar subquery). */
function latestSql(assetId: number, releasesOnly: boolean) {
  return sql`(select v.version from versions v where v.asset_id = ${assetId} and v.state = 'ready'${releasesOnly ? sql` and v.version_key like ${RELEASE_KEY}` : sql``} order by v.version_key desc limit 1)`;
}

/** The newest change time of an asset's versions that are not pending (a scalar subquery). */
function newestVersionChange(assetId: number) {
  return sql<string>`(select max(v.updated_at) from versions v where v.asset_id = ${assetId} and v.state <> 'pending')`;
}

/** Which version of an asset a document query selects. */
export type VersionSelector = { version: string } | { alias: string } | { latestReady: true };

export function createAssetsRepo(anyDb: AnyDb, dialect: Dialect) {
  const root = anyDb as unknown as Db;
  const versionLists = versionListsSql(dialect);
  const lists = createListQueries(dialect);
  /** The document reads, compiled once per shape (sql-compiled.ts). */
  const compiled = createCompiledCache(32);

  function bind(db: Db | Transaction<RepoTables>) {
    return {
      async findAsset(kind: string, name: string): Promise<AssetRow | undefined> {
        return db.selectFrom('assets').selectAll().where('kind', '=', kind).where('name', '=', name).executeTakeFirst();
      },

      async insertAsset(row: NewAssetRow, labels: Record<string, string>): Promise<AssetRow> {
        const inserted = await db.insertInto('assets').values(row).returningAll().executeTakeFirstOrThrow();
        await this.replaceAssetLabels(inserted.id, labels);
        return inserted;
      },

      /**
       * Registers an asset unless one of that kind and name exists (a concurrent registration
       * included: nothing is raised, so a PostgreSQL transaction goes on); answers the row
       * inserted, or undefined. `provisional`: registered by a version's creation, removed with
       * its last version should none ever become ready.
       */
      async insertAssetIfAbsent(row: NewAssetRow, labels: Record<string, string>, provisional: boolean): Promise<AssetRow | undefined> {
        const inserted = await db
          .insertInto('assets')
          .values({ ...row, provisional: provisional ? 1 : 0 })
          .onConflict((oc) => oc.columns(['kind', 'name']).doNothing())
          .returning(['id', 'kind', 'name', 'namespace', 'description', 'owner', 'labels', 'created_at', 'created_by', 'updated_at', 'keep_archived_files'])
          .executeTakeFirst();
        if (inserted) await this.replaceAssetLabels(inserted.id, labels);
        return inserted;
      },

      async updateAsset(id: number, patch: Partial<Pick<AssetRow, 'description' | 'owner' | 'labels' | 'updated_at' | 'keep_archived_files'>>, labels?: Record<string, string>) {
        await db.updateTable('assets').set(patch).where('id', '=', id).execute();
        if (labels) await this.replaceAssetLabels(id, labels);
      },

      async replaceAssetLabels(assetId: number, labels: Record<string, string>) {
        await db.deleteFrom('asset_labels').where('asset_id', '=', assetId).execute();
        const rows = Object.entries(labels).map(([key, value]) => ({ asset_id: assetId, key, value }));
        if (rows.length) await db.insertInto('asset_labels').values(rows).execute();
      },

      listAssets: (f: AssetFilter) => lists.listAssets(db, f),

      /** One asset with its version statistics, as its document is built from it, or null. */
      async assetDocRow(kind: string, name: string): Promise<AssetDocRow | null> {
        const query = compiled.get<AssetDocRow>(
          'asset',
          (slot) => db.selectFrom('assets as a').select(ASSET_COLUMNS).where('a.kind', '=', slot<string>('kind')).where('a.name', '=', slot<string>('name')),
          { kind, name },
        );
        const { rows } = await db.executeQuery(query);
        return rows[0] ?? null;
      },

      /**
       * Serialises the read-modify-writes of one asset (alias moves, version state and label
       * changes, finalising) until the transaction ends. Called first in such a transaction: on
       * PostgreSQL (READ COMMITTED) every later statement then reads what the previous holder
       * committed, so what a change replaced is what it really replaced. FOR NO KEY UPDATE, the
       * lock an UPDATE takes, does not block version inserts' foreign-key checks. SQLite runs
       * one write transaction at a time already.
       */
      async lockAsset(assetId: number) {
        if (dialect === 'postgres') await db.selectFrom('assets').select('id').where('id', '=', assetId).forNoKeyUpdate().execute();
      },

      /**
       * Recomputes an asset's `version_count` (versions not pending), `latest_version` (the
       * highest ready release, else the highest ready pre-release: see `latestReady`) and
       * `updated_at` (the later of its own and its versions' times, so a listing's UPDATED moves
       * when a version is added or changed), which listings read instead of counting. Called by
       * every write that can change them, in the writer's transaction. On PostgreSQL the asset row is locked
       * first (FOR NO KEY UPDATE, the lock an UPDATE takes, so version inserts' foreign-key
       * checks are not blocked), so that the recount, a later statement with a fresh snapshot
       * under READ COMMITTED, sees the versions of any concurrent writer that committed meanwhile.
       */
      async refreshAssetStats(assetId: number) {
        await this.lockAsset(assetId);
        await db
          .updateTable('assets')
          .set((eb) => ({
            version_count: eb.selectFrom('versions').select(eb.fn.countAll<number>().as('n')).where('asset_id', '=', assetId).where('state', '!=', 'pending'),
            latest_version: sql<string | null>`coalesce(${latestSql(assetId, true)}, ${latestSql(assetId, false)})`,
            updated_at: sql<string>`case when ${newestVersionChange(assetId)} > updated_at then ${newestVersionChange(assetId)} else updated_at end`,
          }))
          .where('id', '=', assetId)
          .execute();
      },

      async insertVersion(row: NewVersionRow): Promise<VersionRow> {
        const v = await db.insertInto('versions').values(row).returningAll().executeTakeFirstOrThrow();
        if (v.state !== 'pending') {
          await this.refreshAssetStats(v.asset_id);
          await this.confirmAsset(v.asset_id);
        }
        return v;
      },

      /** An asset with a ready version is no longer provisional: it stays when its versions go. */
      async confirmAsset(assetId: number) {
        await db.updateTable('assets').set({ provisional: 0 }).where('id', '=', assetId).where('provisional', '=', 1).execute();
      },

      async insertFiles(versionId: number, files: readonly { path: string; size: number; sha256: string }[]) {
        // Batches keep each statement under SQLite's 32,766 bound-parameter limit.
        for (let i = 0; i < files.length; i += 5000) {
          const chunk = files.slice(i, i + 5000).map((f) => ({ version_id: versionId, path: f.path, size: f.size, sha256: f.sha256 }));
          await db.insertInto('version_files').values(chunk).execute();
        }
      },

      async insertVersionLabels(versionId: number, labels: Record<string, string>) {
        await db.deleteFrom('version_labels').where('version_id', '=', versionId).execute();
        const rows = Object.entries(labels).map(([key, value]) => ({ version_id: versionId, key, value }));
        if (rows.length) await db.insertInto('version_labels').values(rows).execute();
      },

      async insertLineage(versionId: number, edges: readonly { relation: string; targetVersionId: number | null; ref: string }[]) {
        if (!edges.length) return;
        await db
          .insertInto('lineage_edges')
          .values(edges.map((e) => ({ version_id: versionId, relation: e.relation, target_version_id: e.targetVersionId, target_ref: e.ref })))
          .execute();
      },

      /**
       * A version with its files, aliases and lineage, as its document is built from it, in one
       * statement: on PostgreSQL every round trip costs more than the lookups themselves. Null
       * when the asset, the version or the alias is missing (or, for `latestReady`, no version
       * is ready).
       */
      async versionDocRow(kind: string, name: string, which: VersionSelector, withFiles: boolean): Promise<VersionDocRow | null> {
        const by = 'version' in which ? 'version' : 'alias' in which ? 'alias' : 'latest';
        const query = compiled.get<Record<string, unknown>>(
          `version:${by}:${withFiles}`,
          (slot) => {
            const q = db
              .selectFrom('versions as v')
              .innerJoin('assets as a', 'a.id', 'v.asset_id')
              .select([...VERSION_COLUMNS, ...versionLists(db, withFiles)])
              .where('a.kind', '=', slot<string>('kind'))
              .where('a.name', '=', slot<string>('name'));
            if (by === 'version') return q.where('v.version', '=', slot<string>('ref'));
            if (by === 'alias') {
              return q.where((eb) => eb.exists(eb.selectFrom('aliases as al').select('al.version_id').whereRef('al.asset_id', '=', 'a.id').where('al.alias', '=', slot<string>('ref')).whereRef('al.version_id', '=', 'v.id')));
            }
            // latestReady in one statement: a release, or any version when the asset has no ready release.
            return q
              .where('v.state', '=', 'ready')
              .where((eb) =>
                eb.or([
                  eb('v.version_key', 'like', RELEASE_KEY),
                  eb.not(eb.exists(eb.selectFrom('versions as r').select('r.id').whereRef('r.asset_id', '=', 'a.id').where('r.state', '=', 'ready').where('r.version_key', 'like', RELEASE_KEY))),
                ]),
              )
              .orderBy('v.version_key', 'desc')
              .limit(sql.lit(1));
          },
          { kind, name, ref: 'version' in which ? which.version : 'alias' in which ? which.alias : undefined },
        );
        const { rows } = await db.executeQuery(query);
        return rows[0] ? versionDocRow(rows[0]) : null;
      },

      /** The same for a version already resolved to its id. */
      async versionDocRowById(id: number, withFiles: boolean): Promise<VersionDocRow | null> {
        const row = await db
          .selectFrom('versions as v')
          .innerJoin('assets as a', 'a.id', 'v.asset_id')
          .select([...VERSION_COLUMNS, ...versionLists(db, withFiles)])
          .where('v.id', '=', id)
          .executeTakeFirst();
        return row ? versionDocRow(row as Record<string, unknown>) : null;
      },

      /** Locks a version row against concurrent state changes (PostgreSQL; SQLite has one writer). */
      async lockVersion(versionId: number, mode: 'share' | 'update'): Promise<void> {
        if (dialect !== 'postgres') return;
        const q = db.selectFrom('versions').select('id').where('id', '=', versionId);
        await (mode === 'share' ? q.forShare() : q.forUpdate()).execute();
      },

      async findVersion(assetId: number, version: string): Promise<VersionRow | undefined> {
        return db.selectFrom('versions').selectAll().where('asset_id', '=', assetId).where('version', '=', version).executeTakeFirst();
      },

      /**
       * What `latest` means: the highest ready release by semantic-version precedence, so a
       * pre-release (`2.0.0-rc.1`) is never picked over `1.4.0`; the highest ready pre-release
       * only when no release is ready. A release's `version_key` ends in `~` (versionKey).
       */
      async latestReady(assetId: number): Promise<VersionRow | undefined> {
        const release = await db
          .selectFrom('versions')
          .selectAll()
          .where('asset_id', '=', assetId)
          .where('state', '=', 'ready')
          .where('version_key', 'like', RELEASE_KEY)
          .orderBy('version_key', 'desc')
          .limit(1)
          .executeTakeFirst();
        return release ?? this.latestVersion(assetId, ['ready']);
      },

      /** The highest version in one of `states` by semantic-version precedence; with `belowKey`, the highest below it. */
      async latestVersion(assetId: number, states: string[], belowKey?: string): Promise<VersionRow | undefined> {
        let q = db.selectFrom('versions').selectAll().where('asset_id', '=', assetId).where('state', 'in', states);
        if (belowKey !== undefined) q = q.where('version_key', '<', belowKey);
        return q
          .orderBy('version_key', 'desc')
          .limit(1)
          .executeTakeFirst();
      },

      async updateVersion(id: number, patch: Partial<Pick<VersionRow, 'state' | 'labels' | 'updated_at' | 'ready_at' | 'expires_at' | 'archived_at'>>) {
        const rows = await db.updateTable('versions').set(patch).where('id', '=', id).returning('asset_id').execute();
        if ((patch.state !== undefined || patch.updated_at !== undefined) && rows[0]) await this.refreshAssetStats(rows[0].asset_id);
      },

      /** An asset's archived versions, the most recently archived first (then the highest). */
      async archivedVersions(assetId: number) {
        return db
          .selectFrom('versions')
          .select(['id', 'version', 'size', 'file_count', 'archived_at', 'files_released_at'])
          .where('asset_id', '=', assetId)
          .where('state', '=', 'archived')
          .orderBy('archived_at', 'desc')
          .orderBy('version_key', 'desc')
          .orderBy('id', 'desc')
          .execute();
      },

      /** Marks a version's files released (once: false when they were already). */
      async releaseFiles(id: number, now: string): Promise<boolean> {
        const res = await db.updateTable('versions').set({ files_released_at: now, updated_at: now }).where('id', '=', id).where('files_released_at', 'is', null).executeTakeFirst();
        return Number(res.numUpdatedRows) === 1;
      },

      /** Flips pending → ready only if it is still pending: the losing finaliser sees 0 rows. */
      async markReady(id: number, now: string): Promise<boolean> {
        const res = await db
          .updateTable('versions')
          .set({ state: 'ready', ready_at: now, updated_at: now, expires_at: null })
          .where('id', '=', id)
          .where('state', '=', 'pending')
          .returning('asset_id')
          .execute();
        if (res[0]) {
          await this.refreshAssetStats(res[0].asset_id);
          await this.confirmAsset(res[0].asset_id);
        }
        return res.length === 1;
      },

      async listFiles(versionId: number) {
        return db.selectFrom('version_files').select(['path', 'size', 'sha256']).where('version_id', '=', versionId).orderBy('path').execute();
      },

      async findFile(versionId: number, path: string) {
        return db.selectFrom('version_files').select(['path', 'size', 'sha256']).where('version_id', '=', versionId).where('path', '=', path).executeTakeFirst();
      },

      async aliasesOf(versionIds: number[]): Promise<Map<number, string[]>> {
        const out = new Map<number, string[]>();
        if (!versionIds.length) return out;
        const rows = await db.selectFrom('aliases').select(['version_id', 'alias']).where('version_id', 'in', versionIds).orderBy('alias').execute();
        for (const r of rows) out.set(r.version_id, [...(out.get(r.version_id) ?? []), r.alias]);
        return out;
      },

      /** Lineage edges leaving `versionIds` (what they derive from), with the targets' identity and state. */
      async edgesFrom(versionIds: number[]) {
        if (!versionIds.length) return [];
        return db
          .selectFrom('lineage_edges as e')
          .leftJoin('versions as t', 't.id', 'e.target_version_id')
          .leftJoin('assets as ta', 'ta.id', 't.asset_id')
          .select(['e.version_id as from_id', 'e.target_version_id as to_id', 'e.relation', 'e.target_ref', 't.version', 't.state', 'ta.name', 'ta.kind'])
          .where('e.version_id', 'in', versionIds)
          .execute();
      },

      /** Lineage edges arriving at `versionIds` (what derives from them), with the sources' identity and state. */
      async edgesInto(versionIds: number[]) {
        if (!versionIds.length) return [];
        return db
          .selectFrom('lineage_edges as e')
          .innerJoin('versions as s', 's.id', 'e.version_id')
          .innerJoin('assets as sa', 'sa.id', 's.asset_id')
          .select(['e.version_id as from_id', 'e.target_version_id as to_id', 'e.relation', 'e.target_ref', 's.version', 's.state', 'sa.name', 'sa.kind'])
          .where('e.target_version_id', 'in', versionIds)
          .execute();
      },

      /** A page of versions as document rows (aliases and lineage, no files), with their cursor keys. */
      listVersions: (f: VersionFilter) => lists.listVersions(db, f),

      async setAlias(assetId: number, alias: string, versionId: number, now: string, actor: string | null) {
        await db
          .insertInto('aliases')
          .values({ asset_id: assetId, alias, version_id: versionId, updated_at: now, updated_by: actor })
          .onConflict((oc) => oc.columns(['asset_id', 'alias']).doUpdateSet({ version_id: versionId, updated_at: now, updated_by: actor }))
          .execute();
      },

      async findAlias(assetId: number, alias: string) {
        return db
          .selectFrom('aliases as al')
          .innerJoin('versions as v', 'v.id', 'al.version_id')
          .select(['al.alias', 'al.version_id', 'al.updated_at', 'al.updated_by', 'v.version'])
          .where('al.asset_id', '=', assetId)
          .where('al.alias', '=', alias)
          .executeTakeFirst();
      },

      async deleteAlias(assetId: number, alias: string) {
        await db.deleteFrom('aliases').where('asset_id', '=', assetId).where('alias', '=', alias).execute();
      },

      async listAliases(assetId: number) {
        return db
          .selectFrom('aliases as al')
          .innerJoin('versions as v', 'v.id', 'al.version_id')
          .select(['al.alias', 'al.updated_at', 'al.updated_by', 'v.version'])
          .where('al.asset_id', '=', assetId)
          .orderBy('al.alias')
          .execute();
      },

      async recordAliasEvent(e: { asset_id: number; alias: string; version: string | null; previous_version: string | null; at: string; actor: string | null }) {
        await db.insertInto('alias_events').values(e).execute();
      },

      async aliasHistory(assetId: number, alias?: string) {
        let q = db.selectFrom('alias_events').selectAll().where('asset_id', '=', assetId);
        if (alias) q = q.where('alias', '=', alias);
        return q.orderBy('id', 'desc').limit(1000).execute();
      },

      /**
       * Which of `shas` some version (in any state) lists, unless the retention policy released
       * that version's files: those blobs must not be collected.
       */
      async referencedAmong(shas: readonly string[]): Promise<Set<string>> {
        const out = new Set<string>();
        for (let i = 0; i < shas.length; i += 5000) {
          const chunk = shas.slice(i, i + 5000);
          const rows = await db
            .selectFrom('version_files as f')
            .innerJoin('versions as v', 'v.id', 'f.version_id')
            .select('f.sha256')
            .distinct()
            .where('f.sha256', 'in', chunk)
            .where('v.files_released_at', 'is', null)
            .execute();
          for (const r of rows) out.add(r.sha256);
        }
        return out;
      },

      /**
       * Locks rows a deletion is about to remove (PostgreSQL `FOR UPDATE`; SQLite has one
       * writer): a concurrent alias move, lineage edge or evaluation run that reached them first
       * has committed when the lock is granted, so the checks that follow see it; one that comes
       * later waits and then finds them gone.
       */
      async lockForDelete(assetId: number, versionId?: number) {
        if (dialect !== 'postgres') return;
        await db.selectFrom('assets').select('id').where('id', '=', assetId).forUpdate().execute();
        let q = db.selectFrom('versions').select('id').where('asset_id', '=', assetId);
        if (versionId !== undefined) q = q.where('id', '=', versionId);
        await q.forUpdate().execute();
      },

      /**
       * Keeps a version from being deleted until the caller's transaction ends (PostgreSQL
       * `FOR KEY SHARE`, which a deletion's `FOR UPDATE` waits for); false when it does not exist.
       */
      async holdVersion(kind: string, name: string, version: string): Promise<boolean> {
        let q = db
          .selectFrom('versions as v')
          .innerJoin('assets as a', 'a.id', 'v.asset_id')
          .select('v.id')
          .where('a.kind', '=', kind)
          .where('a.name', '=', name)
          .where('v.version', '=', version);
        if (dialect === 'postgres') q = q.forKeyShare('v');
        return (await q.executeTakeFirst()) !== undefined;
      },

      async versionsOf(assetId: number): Promise<VersionRow[]> {
        return db.selectFrom('versions').selectAll().where('asset_id', '=', assetId).orderBy('version_key').execute();
      },

      /** Aliases pointing at versions of an asset (or at one of them). */
      async aliasesInto(assetId: number, versionId?: number) {
        let q = db.selectFrom('aliases as al').innerJoin('versions as v', 'v.id', 'al.version_id').select(['al.alias', 'v.version']).where('al.asset_id', '=', assetId);
        if (versionId !== undefined) q = q.where('al.version_id', '=', versionId);
        return q.orderBy('al.alias').execute();
      },

      /**
       * Lineage edges into versions of an asset (or into one of them) from versions that are not
       * being deleted with them: from other assets, or (one version deleted) from its siblings.
       */
      async dependentEdges(assetId: number, versionId?: number) {
        let q = db
          .selectFrom('lineage_edges as e')
          .innerJoin('versions as t', 't.id', 'e.target_version_id')
          .innerJoin('versions as s', 's.id', 'e.version_id')
          .innerJoin('assets as sa', 'sa.id', 's.asset_id')
          .select(['t.version as target', 'e.relation', 'sa.kind', 'sa.name', 's.version', 's.state'])
          .where('t.asset_id', '=', assetId);
        q = versionId !== undefined ? q.where('t.id', '=', versionId).where('s.id', '!=', versionId) : q.where('s.asset_id', '!=', assetId);
        return q.orderBy('sa.name').orderBy('s.version_key').execute();
      },

      /** Deletes a version; its files, labels, outgoing lineage and aliases cascade (the caller refreshes the asset's stats). */
      async deleteVersion(id: number) {
        await db.deleteFrom('versions').where('id', '=', id).execute();
      },

      /** Deletes an asset and everything of it (versions, labels, aliases, alias history cascade). */
      async deleteAsset(id: number) {
        await db.deleteFrom('assets').where('id', '=', id).execute();
      },

      /** True when the asset is provisional (see insertAssetIfAbsent) and has no version left. */
      async provisionalAndEmpty(assetId: number): Promise<boolean> {
        const row = await db
          .selectFrom('assets as a')
          .select('a.id')
          .where('a.id', '=', assetId)
          .where('a.provisional', '=', 1)
          .where((eb) => eb.not(eb.exists(eb.selectFrom('versions as v').select('v.id').whereRef('v.asset_id', '=', 'a.id'))))
          .executeTakeFirst();
        return row !== undefined;
      },

      /** Pending versions whose deadline passed. */
      async expiredPending(now: string, limit: number) {
        return db
          .selectFrom('versions as v')
          .innerJoin('assets as a', 'a.id', 'v.asset_id')
          .select(['v.id', 'v.asset_id', 'v.version', 'v.digest', 'a.name', 'a.kind'])
          .where('v.state', '=', 'pending')
          .where('v.expires_at', '<', now)
          .limit(limit)
          .execute();
      },

      /** Deletes a version iff it is still pending and expired; files, labels and edges cascade. */
      async deleteExpiredVersion(id: number, now: string): Promise<boolean> {
        const res = await db.deleteFrom('versions').where('id', '=', id).where('state', '=', 'pending').where('expires_at', '<', now).executeTakeFirst();
        return Number(res.numDeletedRows) === 1;
      },
    };
  }

  const base = bind(root);
  return {
    ...base,
    dialect,
    /** The same queries on another executor (a transaction opened by another feature). */
    on(tx: AnyDb) {
      return bind(tx as unknown as Db);
    },
    /** Runs `fn` in one transaction with a repo bound to it. */
    transaction<T>(fn: (repo: ReturnType<typeof bind>, trx: Transaction<RepoTables>) => Promise<T>): Promise<T> {
      return root.transaction().execute((trx) => fn(bind(trx), trx));
    },
  };
}

export type AssetsRepo = ReturnType<typeof createAssetsRepo>;
export type AssetsTxRepo = Parameters<Parameters<AssetsRepo['transaction']>[0]>[0];

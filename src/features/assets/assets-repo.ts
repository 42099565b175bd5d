/**
 * SQL of the assets feature, and only SQL: every query on assets, versions, files, labels,
 * lineage and aliases lives here. Driver errors are translated at this edge (a unique
 * violation becomes a conflict); business rules live in the service.
 */
import { sql, type ExpressionBuilder, type Kysely, type Transaction } from 'kysely';
import type { AnyDb, Dialect } from '../../platform/sql/sql-db.js';
import type { AssetRow, AssetsTables, NewVersionRow, VersionRow, VersionWithAsset } from './assets-types.js';

type Db = Kysely<AssetsTables>;
type Eb = ExpressionBuilder<AssetsTables & { v: AssetsTables['versions']; a: AssetsTables['assets'] }, 'v' | 'a'>;

export interface VersionFilter {
  kind: string;
  /** Only this asset, by name (its id is not looked up first: one statement fewer). */
  assetName?: string | undefined;
  /** Only assets in these namespaces (a namespace-limited caller); null for all. */
  namespaces?: string[] | null | undefined;
  nameLike?: string | undefined;
  states?: string[] | undefined;
  labels?: Record<string, string> | undefined;
  architecture?: string | undefined;
  framework?: string | undefined;
  minAccuracy?: number | undefined;
  maxAccuracy?: number | undefined;
  minParameters?: number | undefined;
  maxParameters?: number | undefined;
  sort: 'version' | 'created' | 'accuracy' | 'parameters';
  order: 'asc' | 'desc';
  after?: [string | number, number] | undefined;
  limit: number;
}

export interface AssetFilter {
  kind: string;
  namespaces?: string[] | null | undefined;
  nameLike?: string | undefined;
  namespace?: string | undefined;
  labels?: Record<string, string> | undefined;
  sort: 'name' | 'created' | 'updated';
  order: 'asc' | 'desc';
  after?: [string | number, number] | undefined;
  limit: number;
}

export type AssetWithStats = AssetRow & { version_count: number; latest_version: string | null };

/** One lineage edge as the JSON aggregates render it. */
export interface LineageJson {
  relation: string;
  ref: string;
  version: string | null;
  name: string | null;
  kind: string | null;
}

/** pg parses json columns; SQLite's json_group_array returns text. */
const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

export interface VersionDocument {
  row: VersionRow & { asset_name: string };
  files: { path: string; size: number; sha256: string }[] | null;
  aliases: string[];
  lineage: LineageJson[];
}

const likePattern = (s: string) => `%${s.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export function createAssetsRepo(anyDb: AnyDb, dialect: Dialect) {
  const root = anyDb as unknown as Db;

  /** Correlated JSON aggregates of a version `v`: its files, aliases and lineage, in one statement with it. */
  const aggregates = dialect === 'postgres'
    ? {
        files: sql`(select coalesce(json_agg(json_build_object('path', f.path, 'size', f.size, 'sha256', f.sha256) order by f.path), '[]'::json) from version_files f where f.version_id = v.id)`,
        aliases: sql`(select coalesce(json_agg(al.alias order by al.alias), '[]'::json) from aliases al where al.version_id = v.id)`,
        lineage: sql`(select coalesce(json_agg(json_build_object('relation', e.relation, 'ref', e.target_ref, 'version', t.version, 'name', ta.name, 'kind', ta.kind) order by e.relation, e.target_ref), '[]'::json) from lineage_edges e left join versions t on t.id = e.target_version_id left join assets ta on ta.id = t.asset_id where e.version_id = v.id)`,
      }
    : {
        files: sql`(select json_group_array(json_object('path', path, 'size', size, 'sha256', sha256)) from (select path, size, sha256 from version_files where version_id = v.id order by path))`,
        aliases: sql`(select json_group_array(alias) from (select alias from aliases where version_id = v.id order by alias))`,
        lineage: sql`(select json_group_array(json_object('relation', relation, 'ref', ref, 'version', version, 'name', name, 'kind', kind)) from (select e.relation, e.target_ref as ref, t.version, ta.name, ta.kind from lineage_edges e left join versions t on t.id = e.target_version_id left join assets ta on ta.id = t.asset_id where e.version_id = v.id order by e.relation, e.target_ref))`,
      };

  function bind(db: Db | Transaction<AssetsTables>) {
    return {
      async findAsset(kind: string, name: string): Promise<AssetRow | undefined> {
        return db.selectFrom('assets').selectAll().where('kind', '=', kind).where('name', '=', name).executeTakeFirst();
      },

      async insertAsset(row: Omit<AssetRow, 'id'>, labels: Record<string, string>): Promise<AssetRow> {
        const inserted = await db.insertInto('assets').values(row).returningAll().executeTakeFirstOrThrow();
        await this.replaceAssetLabels(inserted.id, labels);
        return inserted;
      },

      async updateAsset(id: number, patch: Partial<Pick<AssetRow, 'description' | 'owner' | 'labels' | 'updated_at'>>, labels?: Record<string, string>) {
        await db.updateTable('assets').set(patch).where('id', '=', id).execute();
        if (labels) await this.replaceAssetLabels(id, labels);
      },

      async replaceAssetLabels(assetId: number, labels: Record<string, string>) {
        await db.deleteFrom('asset_labels').where('asset_id', '=', assetId).execute();
        const rows = Object.entries(labels).map(([key, value]) => ({ asset_id: assetId, key, value }));
        if (rows.length) await db.insertInto('asset_labels').values(rows).execute();
      },

      async listAssets(f: AssetFilter): Promise<AssetWithStats[]> {
        const col = f.sort === 'name' ? 'a.name' : f.sort === 'updated' ? 'a.updated_at' : 'a.id';
        const cmp = f.order === 'asc' ? '>' : '<';
        let q = db
          .selectFrom('assets as a')
          .selectAll('a')
          .select((eb) => [
            eb
              .selectFrom('versions as v')
              .select(eb.fn.countAll<number>().as('n'))
              .whereRef('v.asset_id', '=', 'a.id')
              .where('v.state', '!=', 'pending')
              .as('version_count'),
            eb
              .selectFrom('versions as v')
              .select('v.version')
              .whereRef('v.asset_id', '=', 'a.id')
              .where('v.state', '=', 'ready')
              .orderBy('v.version_key', 'desc')
              .limit(1)
              .as('latest_version'),
          ])
          .where('a.kind', '=', f.kind);
        if (f.nameLike) q = q.where(sql<boolean>`lower(a.name) like ${likePattern(f.nameLike)} escape '\\'`);
        if (f.namespace) q = q.where('a.namespace', '=', f.namespace);
        if (f.namespaces) q = f.namespaces.length ? q.where('a.namespace', 'in', f.namespaces) : q.where(sql<boolean>`1 = 0`);
        for (const [key, value] of Object.entries(f.labels ?? {})) {
          q = q.where((eb) =>
            eb.exists(eb.selectFrom('asset_labels as l').select('l.asset_id').whereRef('l.asset_id', '=', 'a.id').where('l.key', '=', key).where('l.value', '=', value)),
          );
        }
        if (f.after) {
          const [k, id] = f.after;
          q = col === 'a.id' ? q.where('a.id', cmp, id) : q.where(sql<boolean>`(${sql.ref(col)}, a.id) ${sql.raw(cmp)} (${k}, ${id})`);
        }
        const rows = await q.orderBy(col, f.order).orderBy('a.id', f.order).limit(f.limit).execute();
        return rows.map((r) => ({ ...r, version_count: Number(r.version_count ?? 0), latest_version: r.latest_version ?? null }));
      },

      async insertVersion(row: NewVersionRow): Promise<VersionRow> {
        return db.insertInto('versions').values(row).returningAll().executeTakeFirstOrThrow();
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
       * A whole version document (row, files, aliases, lineage) in one statement: on PostgreSQL
       * every round trip costs more than the lookups themselves. Null when the asset or version is missing.
       */
      async versionDocument(kind: string, name: string, version: string, withFiles: boolean): Promise<VersionDocument | null> {
        const agg = aggregates;
        const row = await db
          .selectFrom('versions as v')
          .innerJoin('assets as a', 'a.id', 'v.asset_id')
          .selectAll('v')
          .select((eb) => [
            eb.ref('a.name').as('asset_name'),
            (withFiles ? agg.files : sql`null`).as('files_json'),
            agg.aliases.as('aliases_json'),
            agg.lineage.as('lineage_json'),
          ])
          .where('a.kind', '=', kind)
          .where('a.name', '=', name)
          .where('v.version', '=', version)
          .executeTakeFirst();
        if (!row) return null;
        const { files_json, aliases_json, lineage_json, ...version_row } = row as typeof row & { files_json: unknown; aliases_json: unknown; lineage_json: unknown };
        return {
          row: version_row as VersionRow & { asset_name: string },
          files: withFiles ? json<{ path: string; size: number; sha256: string }[]>(files_json) : null,
          aliases: json<string[]>(aliases_json),
          lineage: json<LineageJson[]>(lineage_json),
        };
      },

      async findVersion(assetId: number, version: string): Promise<VersionRow | undefined> {
        return db.selectFrom('versions').selectAll().where('asset_id', '=', assetId).where('version', '=', version).executeTakeFirst();
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

      async updateVersion(id: number, patch: Partial<Pick<VersionRow, 'state' | 'labels' | 'updated_at' | 'ready_at' | 'expires_at'>>) {
        await db.updateTable('versions').set(patch).where('id', '=', id).execute();
      },

      /** Flips pending → ready only if it is still pending: the losing finaliser sees 0 rows. */
      async markReady(id: number, now: string): Promise<boolean> {
        const res = await db
          .updateTable('versions')
          .set({ state: 'ready', ready_at: now, updated_at: now, expires_at: null })
          .where('id', '=', id)
          .where('state', '=', 'pending')
          .executeTakeFirst();
        return Number(res.numUpdatedRows) === 1;
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

      async lineageOf(versionIds: number[]) {
        if (!versionIds.length) return [];
        return db
          .selectFrom('lineage_edges as e')
          .leftJoin('versions as t', 't.id', 'e.target_version_id')
          .leftJoin('assets as ta', 'ta.id', 't.asset_id')
          .select(['e.version_id', 'e.relation', 'e.target_ref', 't.version as target_version', 'ta.name as target_name', 'ta.kind as target_kind'])
          .where('e.version_id', 'in', versionIds)
          .orderBy('e.relation')
          .orderBy('e.target_ref')
          .execute();
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

      /** A page of versions, each with its aliases and lineage (aggregated in the same statement). */
      async listVersions(f: VersionFilter): Promise<(VersionWithAsset & { aliases: string[]; lineage: LineageJson[] })[]> {
        const col = f.sort === 'version' ? 'v.version_key' : f.sort === 'accuracy' ? 'v.accuracy' : f.sort === 'parameters' ? 'v.parameters' : 'v.id';
        const cmp = f.order === 'asc' ? '>' : '<';
        // Across all assets, walk versions first: SQLite keeps the order of a CROSS JOIN, and
        // starting from `assets` (every row a model) would visit every version and sort them.
        // PostgreSQL plans both forms the same.
        const base = f.assetName === undefined && !f.nameLike
          ? db.selectFrom('versions as v').crossJoin('assets as a').whereRef('a.id', '=', 'v.asset_id')
          : db.selectFrom('versions as v').innerJoin('assets as a', 'a.id', 'v.asset_id');
        let q = base
          .selectAll('v')
          .select(['a.name as asset_name', 'a.kind as asset_kind', aggregates.aliases.as('aliases_json'), aggregates.lineage.as('lineage_json')])
          .where('a.kind', '=', f.kind);
        if (f.assetName !== undefined) q = q.where('a.name', '=', f.assetName);
        if (f.namespaces) q = f.namespaces.length ? q.where('a.namespace', 'in', f.namespaces) : q.where(sql<boolean>`1 = 0`);
        if (f.nameLike) q = q.where(sql<boolean>`lower(a.name) like ${likePattern(f.nameLike)} escape '\\'`);
        if (f.states?.length) q = q.where('v.state', 'in', f.states);
        if (f.architecture) q = q.where('v.architecture', '=', f.architecture);
        if (f.framework) q = q.where('v.framework', '=', f.framework);
        // A range on a column we do not sort by is better checked while walking the sort order
        // than answered from its own index and sorted afterwards; on SQLite a unary "+" keeps the
        // planner (which has no statistics on a young database) from using that index.
        const range = (col: 'accuracy' | 'parameters', op: '>=' | '<=', value: number) =>
          dialect === 'sqlite' && f.sort !== col ? sql<boolean>`+${sql.ref(`v.${col}`)} ${sql.raw(op)} ${value}` : sql<boolean>`${sql.ref(`v.${col}`)} ${sql.raw(op)} ${value}`;
        if (f.minAccuracy !== undefined) q = q.where(range('accuracy', '>=', f.minAccuracy));
        if (f.maxAccuracy !== undefined) q = q.where(range('accuracy', '<=', f.maxAccuracy));
        if (f.minParameters !== undefined) q = q.where(range('parameters', '>=', f.minParameters));
        if (f.maxParameters !== undefined) q = q.where(range('parameters', '<=', f.maxParameters));
        if (f.sort === 'accuracy') q = q.where('v.accuracy', 'is not', null);
        if (f.sort === 'parameters') q = q.where('v.parameters', 'is not', null);
        for (const [key, value] of Object.entries(f.labels ?? {})) {
          q = q.where((eb: Eb) =>
            eb.exists(eb.selectFrom('version_labels as l').select('l.version_id').whereRef('l.version_id', '=', 'v.id').where('l.key', '=', key).where('l.value', '=', value)),
          );
        }
        if (f.after) {
          const [k, id] = f.after;
          q = col === 'v.id' ? q.where('v.id', cmp, id) : q.where(sql<boolean>`(${sql.ref(col)}, v.id) ${sql.raw(cmp)} (${k}, ${id})`);
        }
        if (col !== 'v.id') q = q.orderBy(col, f.order);
        const rows = await q.orderBy('v.id', f.order).limit(f.limit).execute();
        return rows.map(({ aliases_json, lineage_json, ...r }) => ({ ...r, aliases: json<string[]>(aliases_json), lineage: json<LineageJson[]>(lineage_json) }));
      },

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

      /** Which of `shas` some version (in any state) lists: those blobs must not be collected. */
      async referencedAmong(shas: readonly string[]): Promise<Set<string>> {
        const out = new Set<string>();
        for (let i = 0; i < shas.length; i += 5000) {
          const chunk = shas.slice(i, i + 5000);
          const rows = await db.selectFrom('version_files').select('sha256').distinct().where('sha256', 'in', chunk).execute();
          for (const r of rows) out.add(r.sha256);
        }
        return out;
      },

      /** Pending versions whose deadline passed. */
      async expiredPending(now: string, limit: number) {
        return db
          .selectFrom('versions as v')
          .innerJoin('assets as a', 'a.id', 'v.asset_id')
          .select(['v.id', 'v.version', 'v.digest', 'a.name', 'a.kind'])
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
    transaction<T>(fn: (repo: ReturnType<typeof bind>, trx: Transaction<AssetsTables>) => Promise<T>): Promise<T> {
      return root.transaction().execute((trx) => fn(bind(trx), trx));
    },
  };
}

export type AssetsRepo = ReturnType<typeof createAssetsRepo>;
export type AssetsTxRepo = Parameters<Parameters<AssetsRepo['transaction']>[0]>[0];

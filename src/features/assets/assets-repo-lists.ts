/**
 * Listing and searching the registry: pages of versions (across assets or within one) and of
 * assets, keyset-paginated. Each page is read in two steps inside one statement: the inner query
 * finds the page's ids in order (from indexes where it can), the outer one renders only those
 * rows as API documents. The documents' subqueries (aliases, lineage, labels) therefore never run
 * for rows that a sort or a filter throws away.
 */
import { sql, type ExpressionBuilder, type Generated, type Kysely, type Transaction } from 'kysely';
import type { AssetResponse, VersionResponse } from '../../contracts/assets.js';
import type { Dialect } from '../../platform/sql/sql-db.js';
import { assetDocSql, fromJson, versionDocSql } from './assets-repo-docs.js';
import type { AssetsTables } from './assets-types.js';

/** The assets table as the repo sees it: with the version statistics of migration 0007. */
export type RepoTables = Omit<AssetsTables, 'assets'> & {
  assets: AssetsTables['assets'] & { version_count: Generated<number>; latest_version: string | null };
};
export type Db = Kysely<RepoTables> | Transaction<RepoTables>;
type Eb = ExpressionBuilder<RepoTables & { v: RepoTables['versions']; a: RepoTables['assets'] }, 'v' | 'a'>;

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

/** One item of a page: its API document, and the id and sort key its cursor is made of. */
export interface PageRow<T> {
  id: number;
  key: string | number;
  doc: T;
}

const likePattern = (s: string) => `%${s.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export function createListQueries(dialect: Dialect) {
  const docs = versionDocSql(dialect);
  const assetDoc = assetDocSql(dialect);
  /**
   * Case-insensitive substring match on the name. SQLite's LIKE already ignores ASCII case and
   * its lower() folds only ASCII, so `name LIKE` matches exactly what `lower(name) LIKE` did
   * without a function call per scanned row; PostgreSQL's lower() is Unicode-aware and stays.
   */
  const nameLike = (s: string) =>
    dialect === 'sqlite' ? sql<boolean>`a.name like ${likePattern(s)} escape '\\'` : sql<boolean>`lower(a.name) like ${likePattern(s)} escape '\\'`;

  return {
    /** A page of versions as API documents (aliases and lineage included, files not). */
    async listVersions(db: Db, f: VersionFilter): Promise<PageRow<VersionResponse>[]> {
      const col = f.sort === 'version' ? 'v.version_key' : f.sort === 'accuracy' ? 'v.accuracy' : f.sort === 'parameters' ? 'v.parameters' : 'v.id';
      const cmp = f.order === 'asc' ? '>' : '<';
      // Across all assets, walk versions first: SQLite keeps the order of a CROSS JOIN, and
      // starting from `assets` (every row a model) would visit every version and sort them.
      // PostgreSQL plans both forms the same.
      const base = f.assetName === undefined && !f.nameLike
        ? db.selectFrom('versions as v').crossJoin('assets as a').whereRef('a.id', '=', 'v.asset_id')
        : db.selectFrom('versions as v').innerJoin('assets as a', 'a.id', 'v.asset_id');
      let q = base.select(['v.id as id', sql.ref<string | number>(col).as('k')]).where('a.kind', '=', f.kind);
      if (f.assetName !== undefined) q = q.where('a.name', '=', f.assetName);
      if (f.namespaces) q = f.namespaces.length ? q.where('a.namespace', 'in', f.namespaces) : q.where(sql<boolean>`1 = 0`);
      if (f.nameLike) q = q.where(nameLike(f.nameLike));
      if (f.states?.length) q = q.where('v.state', 'in', f.states);
      if (f.architecture) q = q.where('v.architecture', '=', f.architecture);
      if (f.framework) q = q.where('v.framework', '=', f.framework);
      // A range on a column we do not sort by is better checked while walking the sort order
      // than answered from its own index and sorted afterwards; on SQLite a unary "+" keeps the
      // planner (which has no statistics on a young database) from using that index.
      const range = (c: 'accuracy' | 'parameters', op: '>=' | '<=', value: number) =>
        dialect === 'sqlite' && f.sort !== c ? sql<boolean>`+${sql.ref(`v.${c}`)} ${sql.raw(op)} ${value}` : sql<boolean>`${sql.ref(`v.${c}`)} ${sql.raw(op)} ${value}`;
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
      const page = q.orderBy('v.id', f.order).limit(f.limit);
      let outer = db
        .selectFrom(page.as('p'))
        .innerJoin('versions as v', 'v.id', 'p.id')
        .innerJoin('assets as a', 'a.id', 'v.asset_id')
        .select(['p.id', 'p.k', docs.doc.as('doc')]);
      if (col !== 'v.id') outer = outer.orderBy('p.k', f.order);
      const rows = await outer.orderBy('p.id', f.order).execute();
      return rows.map((r) => ({ id: r.id, key: r.k, doc: fromJson<VersionResponse>(r.doc) }));
    },

    /** A page of assets as API documents, with their version count and latest ready version. */
    async listAssets(db: Db, f: AssetFilter): Promise<PageRow<AssetResponse>[]> {
      const col = f.sort === 'name' ? 'a.name' : f.sort === 'updated' ? 'a.updated_at' : 'a.id';
      const cmp = f.order === 'asc' ? '>' : '<';
      let q = db.selectFrom('assets as a').select(['a.id as id', sql.ref<string | number>(col).as('k')]).where('a.kind', '=', f.kind);
      if (f.nameLike) q = q.where(nameLike(f.nameLike));
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
      const page = q.orderBy(col, f.order).orderBy('a.id', f.order).limit(f.limit);
      let outer = db.selectFrom(page.as('p')).innerJoin('assets as a', 'a.id', 'p.id').select(['p.id', 'p.k', assetDoc.as('doc')]);
      if (col !== 'a.id') outer = outer.orderBy('p.k', f.order);
      const rows = await outer.orderBy('p.id', f.order).execute();
      return rows.map((r) => ({ id: r.id, key: r.k, doc: fromJson<AssetResponse>(r.doc) }));
    },
  };
}

/**
 * Listing and searching the registry: pages of versions (across assets or within one) and of
 * assets, keyset-paginated. Each page is read in two steps inside one statement: the inner query
 * finds the page's ids in order (from indexes where it can), the outer one reads only those
 * rows' document columns (see assets-repo-docs.ts). The documents' subqueries (aliases,
 * lineage) therefore never run for rows that a sort or a filter throws away.
 *
 * Each statement is built and compiled once per shape (sql-compiled.ts): the shape key lists
 * every choice that changes the SQL text, the values go in as slots.
 */
import { sql, type ExpressionBuilder, type Generated, type Kysely, type Transaction } from 'kysely';
import { createCompiledCache, type SlotFn } from '../../platform/sql/sql-compiled.js';
import type { Dialect } from '../../platform/sql/sql-db.js';
import { ASSET_COLUMNS, VERSION_COLUMNS, versionDocRow, versionListsSql, type AssetDocRow, type VersionDocRow } from './assets-repo-docs.js';
import type { AssetsTables } from './assets-types.js';

/** The assets table as the repo sees it: with the version statistics of migration 0007. */
export type RepoTables = Omit<AssetsTables, 'assets'> & {
  assets: AssetsTables['assets'] & { version_count: Generated<number>; latest_version: string | null; provisional: Generated<number> };
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

/** One item of a page: the row its document is built from, and the id and sort key its cursor is made of. */
export interface PageRow<R> {
  id: number;
  key: string | number;
  row: R;
}

const likePattern = (s: string) => `%${s.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
const flag = (b: unknown) => (b ? 1 : 0);

/**
 * The page size is written into the statement, not bound: PostgreSQL keeps a generic plan of a
 * prepared statement only when it costs about as much as the plans it makes for each run's
 * values, and with an unknown LIMIT a generic plan reckons with reading every match and sorting
 * it; with the LIMIT known it walks the sort index like the custom plans do, and is kept, so a
 * search is no longer planned on every run (a search: 1.4 ms → 1.1 ms on one connection). Sizes
 * are few (the contract bounds them), so the texts stay few.
 */
function pageLimit(limit: number) {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`page limit ${limit} is not a positive integer`);
  return sql.lit(limit);
}

export function createListQueries(dialect: Dialect) {
  const versionLists = versionListsSql(dialect);
  const compiled = createCompiledCache();
  /**
   * Case-insensitive substring match on the name (the pattern is lower-cased in JavaScript).
   * SQLite's LIKE already ignores ASCII case and its lower() folds only ASCII, so `name LIKE`
   * matches exactly what `lower(name) LIKE` did without a function call per scanned row. On
   * PostgreSQL lower() under the "C" collation folds only ASCII too, through a byte loop instead
   * of the locale's (a name listing scans every asset: 320 → 240 µs for 1,000): the same result,
   * because names are ASCII (NAME_RE).
   */
  const nameLike = (pattern: unknown) =>
    dialect === 'sqlite' ? sql<boolean>`a.name like ${pattern} escape '\\'` : sql<boolean>`lower(a.name collate "C") like ${pattern} escape '\\'`;

  /** The statement of a version page, with slots for every value (see versionValues). */
  function versionPage(db: Db, f: VersionFilter, slot: SlotFn) {
    const col = f.sort === 'version' ? 'v.version_key' : f.sort === 'accuracy' ? 'v.accuracy' : f.sort === 'parameters' ? 'v.parameters' : 'v.id';
    const cmp = f.order === 'asc' ? '>' : '<';
    // Across all assets, walk versions first: SQLite keeps the order of a CROSS JOIN, and
    // starting from `assets` (every row a model) would visit every version and sort them.
    // PostgreSQL plans both forms the same. On SQLite the asset's kind and namespace are read
    // by a lookup per walked version instead of a join: a join with a filter on `assets` makes
    // SQLite build a Bloom filter over the whole assets table before every search (~30 µs of a
    // 100 µs page at 1,000 assets), which the page's few dozen primary-key lookups never repay.
    const across = f.assetName === undefined && !f.nameLike;
    const joined = () => {
      const base = across
        ? db.selectFrom('versions as v').crossJoin('assets as a').whereRef('a.id', '=', 'v.asset_id')
        : db.selectFrom('versions as v').innerJoin('assets as a', 'a.id', 'v.asset_id');
      let j = base.select(['v.id as id', sql.ref<string | number>(col).as('k')]).where('a.kind', '=', slot<string>('kind'));
      if (f.namespaces) j = f.namespaces.length ? j.where('a.namespace', 'in', f.namespaces.map((_, i) => slot<string>(`ns${i}`))) : j.where(sql<boolean>`1 = 0`);
      return j;
    };
    let q: ReturnType<typeof joined>;
    if (across && dialect === 'sqlite') {
      const assetCol = (c: 'kind' | 'namespace') => sql`(select ${sql.ref(`a.${c}`)} from assets as a where a.id = v.asset_id)`;
      let lone = db.selectFrom('versions as v').select(['v.id as id', sql.ref<string | number>(col).as('k')]).where(sql<boolean>`${assetCol('kind')} = ${slot('kind')}`);
      if (f.namespaces) lone = f.namespaces.length ? lone.where(sql<boolean>`${assetCol('namespace')} in (${sql.join(f.namespaces.map((_, i) => slot(`ns${i}`)))})`) : lone.where(sql<boolean>`1 = 0`);
      // Typed as the joined form: nothing below refers to `a` when searching across assets.
      q = lone as unknown as ReturnType<typeof joined>;
    } else {
      q = joined();
    }
    if (f.assetName !== undefined) q = q.where('a.name', '=', slot<string>('assetName'));
    if (f.nameLike) q = q.where(nameLike(slot('nameLike')));
    if (f.states?.length) q = q.where('v.state', 'in', f.states.map((_, i) => slot<string>(`state${i}`)));
    if (f.architecture) q = q.where('v.architecture', '=', slot<string>('architecture'));
    if (f.framework) q = q.where('v.framework', '=', slot<string>('framework'));
    // A range on a column we do not sort by is better checked while walking the sort order
    // than answered from its own index and sorted afterwards; on SQLite a unary "+" keeps the
    // planner (which has no statistics on a young database) from using that index.
    const range = (c: 'accuracy' | 'parameters', op: '>=' | '<=', name: string) =>
      dialect === 'sqlite' && f.sort !== c ? sql<boolean>`+${sql.ref(`v.${c}`)} ${sql.raw(op)} ${slot(name)}` : sql<boolean>`${sql.ref(`v.${c}`)} ${sql.raw(op)} ${slot(name)}`;
    if (f.minAccuracy !== undefined) q = q.where(range('accuracy', '>=', 'minAccuracy'));
    if (f.maxAccuracy !== undefined) q = q.where(range('accuracy', '<=', 'maxAccuracy'));
    if (f.minParameters !== undefined) q = q.where(range('parameters', '>=', 'minParameters'));
    if (f.maxParameters !== undefined) q = q.where(range('parameters', '<=', 'maxParameters'));
    if (f.sort === 'accuracy') q = q.where('v.accuracy', 'is not', null);
    if (f.sort === 'parameters') q = q.where('v.parameters', 'is not', null);
    // A label is checked per version walked in the sort order, by one probe of the label index.
    // PostgreSQL would rewrite EXISTS into a semi-join and, with a generic plan (which the page
    // statements get, see pageLimit), hash every version carrying the label (20,000 for a team of
    // the benchmark: 3 ms) and sort them; OFFSET 0 keeps the subquery a per-row probe (0.5 ms).
    Object.keys(f.labels ?? {}).forEach((_, i) => {
      q = q.where((eb: Eb) => {
        const probe = eb.selectFrom('version_labels as l').select('l.version_id').whereRef('l.version_id', '=', 'v.id').where('l.key', '=', slot<string>(`labelKey${i}`)).where('l.value', '=', slot<string>(`labelValue${i}`));
        return eb.exists(dialect === 'postgres' ? probe.offset(sql.lit(0)) : probe);
      });
    });
    if (f.after) {
      q = col === 'v.id' ? q.where('v.id', cmp, slot<number>('afterId')) : q.where(sql<boolean>`(${sql.ref(col)}, v.id) ${sql.raw(cmp)} (${slot('afterKey')}, ${slot('afterId')})`);
    }
    if (col !== 'v.id') q = q.orderBy(col, f.order);
    const page = q.orderBy('v.id', f.order).limit(pageLimit(f.limit));
    let docRows = db.selectFrom(page.as('p')).innerJoin('versions as v', 'v.id', 'p.id').innerJoin('assets as a', 'a.id', 'v.asset_id');
    if (col !== 'v.id') docRows = docRows.orderBy('p.k', f.order);
    docRows = docRows.orderBy('p.id', f.order);
    return docRows.select(['p.id', 'p.k', ...VERSION_COLUMNS, ...versionLists(db, false)]);
  }

  /** Everything that changes the text of versionPage's statement. */
  const versionShape = (f: VersionFilter) =>
    [
      'versions', flag(f.assetName !== undefined), f.namespaces ? f.namespaces.length : -1, flag(f.nameLike), f.states?.length ?? 0, flag(f.architecture), flag(f.framework),
      flag(f.minAccuracy !== undefined), flag(f.maxAccuracy !== undefined), flag(f.minParameters !== undefined), flag(f.maxParameters !== undefined),
      f.sort, f.order, Object.keys(f.labels ?? {}).length, flag(f.after), f.limit,
    ].join(':');

  function versionValues(f: VersionFilter): Record<string, unknown> {
    const values: Record<string, unknown> = {
      kind: f.kind, assetName: f.assetName, nameLike: f.nameLike ? likePattern(f.nameLike) : undefined, architecture: f.architecture, framework: f.framework,
      minAccuracy: f.minAccuracy, maxAccuracy: f.maxAccuracy, minParameters: f.minParameters, maxParameters: f.maxParameters,
      afterKey: f.after?.[0], afterId: f.after?.[1],
    };
    f.namespaces?.forEach((ns, i) => (values[`ns${i}`] = ns));
    f.states?.forEach((st, i) => (values[`state${i}`] = st));
    Object.entries(f.labels ?? {}).forEach(([k, v], i) => {
      values[`labelKey${i}`] = k;
      values[`labelValue${i}`] = v;
    });
    return values;
  }

  /** The statement of an asset page, with slots for every value (see assetValues). */
  function assetPage(db: Db, f: AssetFilter, slot: SlotFn) {
    const col = f.sort === 'name' ? 'a.name' : f.sort === 'updated' ? 'a.updated_at' : 'a.id';
    const cmp = f.order === 'asc' ? '>' : '<';
    let q = db.selectFrom('assets as a').select(['a.id as id', sql.ref<string | number>(col).as('k')]).where('a.kind', '=', slot<string>('kind'));
    if (f.nameLike) q = q.where(nameLike(slot('nameLike')));
    if (f.namespace) q = q.where('a.namespace', '=', slot<string>('namespace'));
    if (f.namespaces) q = f.namespaces.length ? q.where('a.namespace', 'in', f.namespaces.map((_, i) => slot<string>(`ns${i}`))) : q.where(sql<boolean>`1 = 0`);
    Object.keys(f.labels ?? {}).forEach((_, i) => {
      q = q.where((eb) =>
        eb.exists(eb.selectFrom('asset_labels as l').select('l.asset_id').whereRef('l.asset_id', '=', 'a.id').where('l.key', '=', slot<string>(`labelKey${i}`)).where('l.value', '=', slot<string>(`labelValue${i}`))),
      );
    });
    if (f.after) {
      q = col === 'a.id' ? q.where('a.id', cmp, slot<number>('afterId')) : q.where(sql<boolean>`(${sql.ref(col)}, a.id) ${sql.raw(cmp)} (${slot('afterKey')}, ${slot('afterId')})`);
    }
    const page = q.orderBy(col, f.order).orderBy('a.id', f.order).limit(pageLimit(f.limit));
    let outer = db.selectFrom(page.as('p')).innerJoin('assets as a', 'a.id', 'p.id').select(['p.id', 'p.k', ...ASSET_COLUMNS]);
    if (col !== 'a.id') outer = outer.orderBy('p.k', f.order);
    return outer.orderBy('p.id', f.order);
  }

  const assetShape = (f: AssetFilter) =>
    ['assets', flag(f.nameLike), flag(f.namespace), f.namespaces ? f.namespaces.length : -1, Object.keys(f.labels ?? {}).length, f.sort, f.order, flag(f.after), f.limit].join(':');

  function assetValues(f: AssetFilter): Record<string, unknown> {
    const values: Record<string, unknown> = {
      kind: f.kind, nameLike: f.nameLike ? likePattern(f.nameLike) : undefined, namespace: f.namespace, afterKey: f.after?.[0], afterId: f.after?.[1],
    };
    f.namespaces?.forEach((ns, i) => (values[`ns${i}`] = ns));
    Object.entries(f.labels ?? {}).forEach(([k, v], i) => {
      values[`labelKey${i}`] = k;
      values[`labelValue${i}`] = v;
    });
    return values;
  }

  type Row = { id: number; k: string | number } & Record<string, unknown>;

  return {
    /** A page of versions as document rows (aliases and lineage included, files not). */
    async listVersions(db: Db, f: VersionFilter): Promise<PageRow<VersionDocRow>[]> {
      const { rows } = await db.executeQuery(compiled.get<Row>(versionShape(f), (slot) => versionPage(db, f, slot), versionValues(f)));
      return rows.map((r) => ({ id: r.id, key: r.k, row: versionDocRow(r) }));
    },

    /** A page of assets as document rows, with their version count and latest ready version. */
    async listAssets(db: Db, f: AssetFilter): Promise<PageRow<AssetDocRow>[]> {
      const { rows } = await db.executeQuery(compiled.get<Row>(assetShape(f), (slot) => assetPage(db, f, slot), assetValues(f)));
      return rows.map((r) => ({ id: r.id, key: r.k, row: r as unknown as AssetDocRow }));
    },
  };
}

/**
 * What the registry's documents are read from: the plain columns of a version (or an asset) and,
 * for a version, its aliases, lineage and (when asked) files as nested lists in the same row, so
 * that a document is one statement on both engines. The lists travel as JSON arrays of rows
 * (Kysely's `jsonArrayFrom`: json_group_array on SQLite, json_agg on PostgreSQL) and are parsed
 * here; the document itself — its keys, their order, nulls — is built in TypeScript by the
 * mappers in assets-fns.ts and serialised from the contract's schema. Expressions refer to the
 * aliases `v` (versions) and `a` (assets).
 */
import { sql, type AliasedRawBuilder, type RawBuilder } from 'kysely';
import { jsonArrayFrom as pgArrayFrom } from 'kysely/helpers/postgres';
import { jsonArrayFrom as sqliteArrayFrom } from 'kysely/helpers/sqlite';
import type { ManifestFile } from '../../contracts/assets.js';
import type { Dialect } from '../../platform/sql/sql-db.js';
import type { Db } from './assets-repo-lists.js';
import type { AssetRow, VersionRow } from './assets-types.js';

/** One lineage edge of a version, with the target's identity when it is in the registry. */
export interface LineageRow {
  relation: string;
  kind: string | null;
  name: string | null;
  version: string | null;
  ref: string;
}

/** A version row as a document is built from it: lists parsed; `files` only when they were read. */
export type VersionDocRow = Pick<
  VersionRow,
  | 'version' | 'state' | 'digest' | 'size' | 'file_count' | 'metadata' | 'labels' | 'card' | 'created_at' | 'created_by' | 'ready_at' | 'expires_at' | 'archived_at'
  | 'files_released_at' | 'updated_at'
> & { kind: string; name: string; files?: ManifestFile[] | undefined; aliases: string[]; lineage: LineageRow[] };

/** An asset row with the version statistics kept on it (migration 0007). */
export type AssetDocRow = Omit<AssetRow, 'id'> & { version_count: number; latest_version: string | null };

/** The plain columns of a version document (with the asset's kind and name). */
export const VERSION_COLUMNS = [
  'a.kind', 'a.name', 'v.version', 'v.state', 'v.digest', 'v.size', 'v.file_count', 'v.metadata', 'v.labels', 'v.card',
  'v.created_at', 'v.created_by', 'v.ready_at', 'v.expires_at', 'v.archived_at', 'v.files_released_at', 'v.updated_at',
] as const;

export const ASSET_COLUMNS = [
  'a.kind', 'a.name', 'a.namespace', 'a.description', 'a.owner', 'a.labels', 'a.version_count', 'a.latest_version', 'a.keep_archived_files', 'a.created_at', 'a.created_by', 'a.updated_at',
] as const;

/**
 * The nested lists of `v` as selections: aliases, lineage, and files when `withFiles`. Most
 * versions have no aliases and no lineage: an index probe answers that for less than starting
 * the aggregate, on every row of a page.
 */
export function versionListsSql(dialect: Dialect) {
  const arrayFrom = (dialect === 'postgres' ? pgArrayFrom : sqliteArrayFrom) as (expr: never) => RawBuilder<unknown>;
  const empty = dialect === 'postgres' ? sql`'[]'::json` : sql`'[]'`;
  const unlessEmpty = (table: 'aliases' | 'lineage_edges', expr: unknown) =>
    sql`case when exists (select 1 from ${sql.table(table)} where version_id = v.id) then ${arrayFrom(expr as never)} else ${empty} end`;
  return (db: Db, withFiles: boolean): AliasedRawBuilder<unknown, string>[] => {
    const aliases = db.selectFrom('aliases as al').select('al.alias').where('al.version_id', '=', sql.ref<number>('v.id')).orderBy('al.alias');
    const lineage = db
      .selectFrom('lineage_edges as e')
      .leftJoin('versions as t', 't.id', 'e.target_version_id')
      .leftJoin('assets as ta', 'ta.id', 't.asset_id')
      .select(['e.relation', 'ta.kind', 'ta.name', 't.version', 'e.target_ref as ref'])
      .where('e.version_id', '=', sql.ref<number>('v.id'))
      .orderBy('e.relation')
      .orderBy('e.target_ref');
    const lists: AliasedRawBuilder<unknown, string>[] = [unlessEmpty('aliases', aliases).as('aliases'), unlessEmpty('lineage_edges', lineage).as('lineage')];
    if (withFiles) {
      const files = db.selectFrom('version_files as f').select(['f.path', 'f.size', 'f.sha256']).where('f.version_id', '=', sql.ref<number>('v.id')).orderBy('f.path');
      lists.push(arrayFrom(files as never).as('files'));
    }
    return lists;
  };
}

/** PostgreSQL hands json columns over parsed; SQLite as text. */
function list<T>(value: unknown): T[] {
  if (typeof value !== 'string') return value as T[];
  return value === '[]' ? [] : (JSON.parse(value) as T[]);
}

/** A row as read with VERSION_COLUMNS and versionListsSql, its lists parsed. */
export function versionDocRow(raw: Record<string, unknown>): VersionDocRow {
  const row = raw as unknown as VersionDocRow;
  row.aliases = list<{ alias: string }>(raw.aliases).map((a) => a.alias);
  row.lineage = list<LineageRow>(raw.lineage);
  if (raw.files !== undefined) row.files = list(raw.files);
  return row;
}

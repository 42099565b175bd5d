/**
 * API documents rendered by the database: a version (`VersionResponse`) or an asset
 * (`AssetResponse`) as one JSON text per row, built from the row, its files, aliases and lineage
 * (correlated aggregates). The text is the response body: the server sends it without parsing
 * and re-serialising it, so it must be exactly what `JSON.stringify` made of the document before
 * (assets-repo-docs.int.test.ts compares the raw text on both engines, escapes and large numbers
 * included):
 * - compact, keys in the contract's order: SQLite's json_object writes no whitespace; on
 *   PostgreSQL json_build_object and json_agg do (`"a" : 1`, `, `), so the document is
 *   row_to_json of a sub-select whose column names are the keys, and arrays are string_agg'd;
 * - strings escaped as JSON.stringify escapes them (json_quote / to_json: `\"`, `\\`, `\n`…, other
 *   controls as lowercase `\u00xx`, everything else raw);
 * - metadata and labels embedded from their stored text, which the service wrote with
 *   JSON.stringify (SQLite's json() keeps number literals as written; PostgreSQL's json type
 *   keeps the text verbatim);
 * - integers only (sizes, counts): no float formatting differs between the engines and V8.
 * Expressions refer to the aliases `v` (versions) and `a` (assets).
 */
import { sql, type RawBuilder } from 'kysely';
import type { Dialect } from '../../platform/sql/sql-db.js';

export interface VersionDocSql {
  /** The version document of `v` without files, as JSON text. */
  doc: RawBuilder<string>;
  /** The same with `files` (after `fileCount`, as the service placed it). */
  docWithFiles: RawBuilder<string>;
}

// PostgreSQL: the aliases and the lineage of `v` as json. Most versions have no aliases and no lineage: an index probe answers that for ~2 µs less
// per row than starting the aggregate (a search page of 50: PostgreSQL CPU 600 → 480 µs).
const PG_ALIASES = sql`case when exists (select from aliases al where al.version_id = v.id) then (select ('[' || string_agg(to_json(al.alias)::text, ',' order by al.alias) || ']')::json from aliases al where al.version_id = v.id) else '[]'::json end`;
const PG_LINEAGE = sql`case when exists (select from lineage_edges e where e.version_id = v.id) then (select ('[' || string_agg(row_to_json(l)::text, ',' order by l.relation, l.ref) || ']')::json from (select e.relation, ta.kind, ta.name, t.version, e.target_ref as ref from lineage_edges e left join versions t on t.id = e.target_version_id left join assets ta on ta.id = t.asset_id where e.version_id = v.id) l) else '[]'::json end`;

export function versionDocSql(dialect: Dialect): VersionDocSql {
  if (dialect === 'postgres') {
    // Each array is text cast to json, so that row_to_json embeds it as it is.
    const files = sql`(select coalesce('[' || string_agg(row_to_json(f)::text, ',' order by f.path) || ']', '[]')::json from (select path, size, sha256 from version_files where version_id = v.id) f)`;
    const [aliases, lineage] = [PG_ALIASES, PG_LINEAGE];
    const build = (withFiles: boolean) =>
      sql<string>`(select row_to_json(d)::text from (select a.kind as "kind", a.name as "name", v.version as "version", v.state as "state", v.digest as "digest", v.size as "size", v.file_count as "fileCount", ${withFiles ? sql`${files} as "files", ` : sql``}v.metadata::json as "metadata", v.labels::json as "labels", v.card as "card", ${lineage} as "lineage", ${aliases} as "aliases", v.created_at as "createdAt", v.created_by as "createdBy", v.ready_at as "readyAt", v.expires_at as "expiresAt", v.updated_at as "updatedAt") d)`;
    return { doc: build(false), docWithFiles: build(true) };
  }
  // A scalar subquery loses the JSON subtype of json_group_array: json(...) marks it as JSON again.
  const files = sql`json((select json_group_array(json_object('path', path, 'size', size, 'sha256', sha256)) from (select path, size, sha256 from version_files where version_id = v.id order by path)))`;
  // As on PostgreSQL, the aggregates start only for versions that have aliases or lineage (a
  // search page of 50: ~17% less time rendering documents).
  const aliases = sql`case when exists (select 1 from aliases where version_id = v.id) then json((select json_group_array(alias) from (select alias from aliases where version_id = v.id order by alias))) else json('[]') end`;
  const lineage = sql`case when exists (select 1 from lineage_edges where version_id = v.id) then json((select json_group_array(json_object('relation', relation, 'kind', kind, 'name', name, 'version', version, 'ref', ref)) from (select e.relation, e.target_ref as ref, t.version, ta.name, ta.kind from lineage_edges e left join versions t on t.id = e.target_version_id left join assets ta on ta.id = t.asset_id where e.version_id = v.id order by e.relation, e.target_ref))) else json('[]') end`;
  const build = (withFiles: boolean) =>
    sql<string>`json_object('kind', a.kind, 'name', a.name, 'version', v.version, 'state', v.state, 'digest', v.digest, 'size', v.size, 'fileCount', v.file_count, ${withFiles ? sql`'files', ${files}, ` : sql``}'metadata', json(v.metadata), 'labels', json(v.labels), 'card', v.card, 'lineage', ${lineage}, 'aliases', ${aliases}, 'createdAt', v.created_at, 'createdBy', v.created_by, 'readyAt', v.ready_at, 'expiresAt', v.expires_at, 'updatedAt', v.updated_at)`;
  return { doc: build(false), docWithFiles: build(true) };
}

/**
 * The asset document of `a` (`AssetResponse`) as JSON text; its version count and latest ready
 * version are the statistics kept on the row (migration 0007), not counted per listing.
 */
export function assetDocSql(dialect: Dialect): RawBuilder<string> {
  if (dialect === 'postgres') {
    return sql<string>`(select row_to_json(d)::text from (select a.kind as "kind", a.name as "name", a.namespace as "namespace", a.description as "description", a.owner as "owner", a.labels::json as "labels", a.version_count as "versionCount", a.latest_version as "latestVersion", a.created_at as "createdAt", a.created_by as "createdBy", a.updated_at as "updatedAt") d)`;
  }
  return sql<string>`json_object('kind', a.kind, 'name', a.name, 'namespace', a.namespace, 'description', a.description, 'owner', a.owner, 'labels', json(a.labels), 'versionCount', a.version_count, 'latestVersion', a.latest_version, 'createdAt', a.created_at, 'createdBy', a.created_by, 'updatedAt', a.updated_at)`;
}


/**
 * Endpoints of the registry, declared once per asset kind: `/api/v1/models/...`,
 * `/api/v1/datasets/...`, `/api/v1/prompts/...` share one shape. Names with a namespace travel
 * URL-encoded (`meta-llama%2FLlama-3.1-8B`); `-` as the name lists versions across all assets.
 */
import { z } from 'zod';
import { ASSET_COLLECTION, namespaceOf, namespaceOfRef, type AssetKind } from './asset-names.js';
import {
  AliasHistory,
  AliasList,
  AliasName,
  AliasResponse,
  AssetName,
  AssetPage,
  AssetResponse,
  CompareQuery,
  CompareResponse,
  CreateAssetBody,
  CreateVersionBody,
  CreateVersionResponse,
  DeleteResponse,
  LineageGraph,
  LineageQuery,
  ListAssetsQuery,
  ListVersionsQuery,
  SemVer,
  SetAliasBody,
  UpdateAssetBody,
  UpdateVersionBody,
  VersionPage,
  VersionRef,
  VersionResponse,
} from './assets.js';
import { endpoint } from './endpoint.js';

const ns = namespaceOf;
/**
 * Namespaces a lineage `NAME:VERSION` pointer reaches into (anything else names none: validation
 * refuses it, or, for a base model, keeps it as an external id that is never looked up).
 */
const pointerNs = (p: unknown): (string | null)[] => (typeof p === 'string' && /^[^:\s]+:[^:\s]+$/.test(p) ? [namespaceOfRef(p)] : []);
const byName = ({ params }: { params: { name: string } }) => [ns(params.name)];

const NameParams = z.object({ name: AssetName }).strict();
const ListParams = z.object({ name: z.union([z.literal('-'), AssetName]) }).strict();
const VersionParams = z.object({ name: AssetName, version: VersionRef }).strict();
/** Deletion names a version by its number: never an alias or `latest`, which move. */
const ExactVersionParams = z.object({ name: AssetName, version: SemVer }).strict();
const AliasParams = z.object({ name: AssetName, alias: AliasName }).strict();
// A file path in NFC, as manifests store it: the decomposed spelling of a name finds it too.
const FileParams = z.object({ name: AssetName, version: VersionRef, '*': z.string().min(1).normalize('NFC') }).strict();
const ShowQuery = z.object({ files: z.enum(['true', 'false']).default('true') }).strict();
const HistoryQuery = z.object({ alias: AliasName.optional() }).strict();

/** Manifests of very large models list many files; 64 MiB holds about half a million entries. */
const VERSION_BODY_LIMIT = 64 * 1024 * 1024;

function declare(kind: AssetKind) {
  const collection = ASSET_COLLECTION[kind];
  const base = `/api/v1/${collection}`;
  const tags = [collection];
  return {
    createAsset: endpoint({
      method: 'POST', url: base, summary: `Register a ${kind}`, tags, permission: 'asset:write', scope: ({ body }) => [ns(body.name)],
      body: CreateAssetBody, responses: { 201: AssetResponse },
    }),
    listAssets: endpoint({
      method: 'GET', url: base, summary: `List or search ${collection}`, tags, permission: 'asset:read', scope: 'filter',
      query: ListAssetsQuery, responses: { 200: AssetPage },
    }),
    getAsset: endpoint({
      method: 'GET', url: `${base}/:name`, summary: `Get a ${kind}`, tags, permission: 'asset:read', scope: byName,
      params: NameParams, responses: { 200: AssetResponse },
    }),
    updateAsset: endpoint({
      method: 'PATCH', url: `${base}/:name`, summary: `Update a ${kind}'s description, owner, labels or retention policy (keepArchivedFiles)`, tags, permission: 'asset:write', scope: byName,
      params: NameParams, body: UpdateAssetBody, responses: { 200: AssetResponse },
    }),
    deleteAsset: endpoint({
      method: 'DELETE', url: `${base}/:name`, summary: `Delete a ${kind} with all its versions (refused with the reasons while anything depends on one of them)`, tags,
      permission: 'asset:write', scope: byName, params: NameParams, responses: { 200: DeleteResponse },
    }),
    createVersion: endpoint({
      method: 'POST', url: `${base}/:name/versions`, summary: `Create a pending ${kind} version from a manifest; answers the blobs still missing`, tags,
      permission: 'asset:write',
      scope: ({ params, body }) => [ns(params.name), ...pointerNs(body.lineage?.parent), ...pointerNs(body.lineage?.baseModel), ...(Array.isArray(body.lineage?.datasets) ? body.lineage.datasets : []).flatMap(pointerNs)],
      params: NameParams, body: CreateVersionBody, bodyLimit: VERSION_BODY_LIMIT, responses: { 201: CreateVersionResponse },
    }),
    listVersions: endpoint({
      method: 'GET', url: `${base}/:name/versions`, summary: `List or search versions (name "-" searches all ${collection})`, tags,
      permission: 'asset:read', scope: ({ params }) => (params.name === '-' ? [] : [ns(params.name)]), params: ListParams, query: ListVersionsQuery, responses: { 200: VersionPage },
    }),
    getVersion: endpoint({
      method: 'GET', url: `${base}/:name/versions/:version`, summary: 'Get a version by number or alias', tags, permission: 'asset:read', scope: byName,
      params: VersionParams, query: ShowQuery, responses: { 200: VersionResponse },
    }),
    updateVersion: endpoint({
      method: 'PATCH', url: `${base}/:name/versions/:version`, summary: "Change a version's state (deprecate, archive) or labels", tags,
      permission: 'asset:write', scope: byName, params: VersionParams, body: UpdateVersionBody, responses: { 200: VersionResponse },
    }),
    deleteVersion: endpoint({
      method: 'DELETE', url: `${base}/:name/versions/:version`, summary: 'Delete a version (refused with the reasons while an alias, lineage or another feature depends on it); GC then frees its blobs', tags,
      permission: 'asset:write', scope: byName, params: ExactVersionParams, responses: { 200: DeleteResponse },
    }),
    finalizeVersion: endpoint({
      method: 'POST', url: `${base}/:name/versions/:version/finalize`, summary: 'Make a pending version ready once all its blobs are stored', tags,
      permission: 'asset:write', scope: byName, params: VersionParams, responses: { 200: VersionResponse },
    }),
    compareVersions: endpoint({
      method: 'GET', url: `${base}/:name/versions/:version/compare`, summary: 'Compare two versions: files, metadata, labels, metric deltas', tags,
      permission: 'asset:read', scope: ({ params, query }) => [ns(params.name), ...(query.other.includes(':') ? [namespaceOfRef(query.other)] : [])],
      params: VersionParams, query: CompareQuery, responses: { 200: CompareResponse },
    }),
    downloadFile: endpoint({
      method: 'GET', url: `${base}/:name/versions/:version/files/*`, summary: 'Download one file (Range and If-None-Match supported; ETag is the sha256)', tags,
      permission: 'asset:read', scope: byName, params: FileParams, responses: { 200: null, 206: null },
    }),
    lineage: endpoint({
      method: 'GET', url: `${base}/:name/versions/:version/lineage`, summary: 'Lineage graph: what this version derives from (upstream) and what derives from it (downstream)', tags,
      permission: 'asset:read', scope: byName, params: VersionParams, query: LineageQuery, responses: { 200: LineageGraph },
    }),
    listAliases: endpoint({
      method: 'GET', url: `${base}/:name/aliases`, summary: 'List aliases', tags, permission: 'asset:read', scope: byName,
      params: NameParams, responses: { 200: AliasList },
    }),
    aliasHistory: endpoint({
      method: 'GET', url: `${base}/:name/alias-history`, summary: 'History of alias moves, newest first', tags, permission: 'asset:read', scope: byName,
      params: NameParams, query: HistoryQuery, responses: { 200: AliasHistory },
    }),
    getAlias: endpoint({
      method: 'GET', url: `${base}/:name/aliases/:alias`, summary: 'Get an alias', tags, permission: 'asset:read', scope: byName,
      params: AliasParams, responses: { 200: AliasResponse },
    }),
    setAlias: endpoint({
      method: 'PUT', url: `${base}/:name/aliases/:alias`, summary: 'Point an alias at a version', tags, permission: 'asset:write', scope: byName,
      params: AliasParams, body: SetAliasBody, responses: { 200: AliasResponse },
    }),
    deleteAlias: endpoint({
      method: 'DELETE', url: `${base}/:name/aliases/:alias`, summary: 'Remove an alias', tags, permission: 'asset:write', scope: byName,
      params: AliasParams, responses: { 204: null },
    }),
  };
}

export type AssetEndpoints = ReturnType<typeof declare>;

/** The registry's endpoints of each kind. */
export const assetEndpoints: Record<AssetKind, AssetEndpoints> = { model: declare('model'), dataset: declare('dataset'), prompt: declare('prompt') };

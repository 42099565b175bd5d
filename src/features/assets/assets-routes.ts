/**
 * REST routes of the registry, generated once per asset kind: `/api/v1/models/...`,
 * `/api/v1/datasets/...`, `/api/v1/prompts/...` share one shape. Names with a namespace travel
 * URL-encoded (`meta-llama%2FLlama-3.1-8B`); `-` as the name lists versions across all assets.
 */
import { z } from 'zod';
import {
  ASSET_COLLECTION,
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
  LineageGraph,
  LineageQuery,
  ListAssetsQuery,
  ListVersionsQuery,
  SetAliasBody,
  UpdateAssetBody,
  UpdateVersionBody,
  VersionPage,
  VersionRef,
  VersionResponse,
  namespaceOf,
  type AssetKind,
} from '../../contracts/assets.js';
import { AppError } from '../../platform/errors.js';
import { envelope } from '../../platform/http/http-errors.js';
import { parseRange } from '../../platform/http/http-range.js';
import { defineRoute, type RouteDef } from '../../platform/http/http-route.js';
import type { AssetsService } from './assets-service.js';

/** The namespace of an asset name ("ns/name" → "ns"; a bare name has none). */
const ns = namespaceOf;
/** Namespaces a `NAME:VERSION` pointer reaches into. */
const pointerNs = (p: string | undefined): (string | null)[] => (p && /^[^:\s]+:[^:\s]+$/.test(p) ? [ns(p.slice(0, p.lastIndexOf(':')))] : []);
const byName = ({ params }: { params: { name: string } }) => [ns(params.name)];

const NameParams = z.object({ name: AssetName }).strict();
const ListParams = z.object({ name: z.union([z.literal('-'), AssetName]) }).strict();
const VersionParams = z.object({ name: AssetName, version: VersionRef }).strict();
const AliasParams = z.object({ name: AssetName, alias: AliasName }).strict();
const FileParams = z.object({ name: AssetName, version: VersionRef, '*': z.string().min(1) }).strict();
const ShowQuery = z.object({ files: z.enum(['true', 'false']).default('true') }).strict();
const HistoryQuery = z.object({ alias: AliasName.optional() }).strict();

/** Manifests of very large models list many files; 64 MiB holds about half a million entries. */
const VERSION_BODY_LIMIT = 64 * 1024 * 1024;

/** What another feature adds to the document of one version (evaluations of a model version). */
export type VersionExtras = (kind: AssetKind, doc: Pick<VersionResponse, 'name' | 'version'>) => Promise<Partial<VersionResponse>>;

export function assetRoutes(kind: AssetKind, svc: AssetsService, extras?: () => VersionExtras | null): RouteDef[] {
  const base = `/api/v1/${ASSET_COLLECTION[kind]}`;
  const tags = [ASSET_COLLECTION[kind]];
  return [
    defineRoute({
      method: 'POST', url: base, summary: `Register a ${kind}`, tags, permission: 'asset:write', scope: ({ body }) => [ns(body.name)],
      body: CreateAssetBody, responses: { 201: AssetResponse },
      handler: async ({ body, actor, reply }) => {
        reply.code(201);
        return svc.createAsset(kind, body, actor);
      },
    }),
    defineRoute({
      method: 'GET', url: base, summary: `List or search ${ASSET_COLLECTION[kind]}`, tags, permission: 'asset:read', scope: 'filter',
      query: ListAssetsQuery, responses: { 200: AssetPage },
      handler: async ({ query, actor }) => svc.listAssets(kind, query, actor.namespaces),
    }),
    defineRoute({
      method: 'GET', url: `${base}/:name`, summary: `Get a ${kind}`, tags, permission: 'asset:read', scope: byName,
      params: NameParams, responses: { 200: AssetResponse },
      handler: async ({ params }) => svc.getAsset(kind, params.name),
    }),
    defineRoute({
      method: 'PATCH', url: `${base}/:name`, summary: `Update a ${kind}'s description, owner or labels`, tags, permission: 'asset:write', scope: byName,
      params: NameParams, body: UpdateAssetBody, responses: { 200: AssetResponse },
      handler: async ({ params, body, actor }) => svc.updateAsset(kind, params.name, body, actor),
    }),
    defineRoute({
      method: 'POST', url: `${base}/:name/versions`, summary: `Create a pending ${kind} version from a manifest; answers the blobs still missing`, tags,
      permission: 'asset:write', scope: ({ params, body }) => [ns(params.name), ...pointerNs(body.lineage?.parent), ...pointerNs(body.lineage?.baseModel), ...(body.lineage?.datasets ?? []).flatMap(pointerNs)], params: NameParams, body: CreateVersionBody, bodyLimit: VERSION_BODY_LIMIT, responses: { 201: CreateVersionResponse },
      handler: async ({ params, body, actor, reply }) => {
        reply.code(201);
        return svc.createVersion(kind, params.name, body, actor);
      },
    }),
    defineRoute({
      method: 'GET', url: `${base}/:name/versions`, summary: `List or search versions (name "-" searches all ${ASSET_COLLECTION[kind]})`, tags,
      permission: 'asset:read', scope: ({ params }) => (params.name === '-' ? [] : [ns(params.name)]), params: ListParams, query: ListVersionsQuery, responses: { 200: VersionPage },
      handler: async ({ params, query, actor }) => svc.listVersions(kind, params.name, query, actor.namespaces),
    }),
    defineRoute({
      method: 'GET', url: `${base}/:name/versions/:version`, summary: 'Get a version by number or alias', tags, permission: 'asset:read', scope: byName,
      params: VersionParams, query: ShowQuery, responses: { 200: VersionResponse },
      handler: async ({ params, query }) => {
        const doc = await svc.getVersion(kind, params.name, params.version, { files: query.files === 'true' });
        const more = extras?.();
        return more ? { ...doc, ...(await more(kind, doc)) } : doc;
      },
    }),
    defineRoute({
      method: 'PATCH', url: `${base}/:name/versions/:version`, summary: 'Change a version\'s state (deprecate, archive) or labels', tags,
      permission: 'asset:write', scope: byName, params: VersionParams, body: UpdateVersionBody, responses: { 200: VersionResponse },
      handler: async ({ params, body, actor }) => svc.updateVersion(kind, params.name, params.version, body, actor),
    }),
    defineRoute({
      method: 'POST', url: `${base}/:name/versions/:version/finalize`, summary: 'Make a pending version ready once all its blobs are stored', tags,
      permission: 'asset:write', scope: byName, params: VersionParams, responses: { 200: VersionResponse },
      handler: async ({ params, actor }) => svc.finalizeVersion(kind, params.name, params.version, actor),
    }),
    defineRoute({
      method: 'GET', url: `${base}/:name/versions/:version/compare`, summary: 'Compare two versions: files, metadata, labels, metric deltas', tags,
      permission: 'asset:read', scope: ({ params, query }) => [ns(params.name), ...(query.other.includes(':') ? pointerNs(query.other) : [])], params: VersionParams, query: CompareQuery, responses: { 200: CompareResponse },
      handler: async ({ params, query }) => svc.compare(kind, params.name, params.version, query.other),
    }),
    defineRoute({
      method: 'GET', url: `${base}/:name/versions/:version/files/*`, summary: 'Download one file (Range and If-None-Match supported; ETag is the sha256)', tags,
      permission: 'asset:read', scope: byName, params: FileParams, responses: { 200: null, 206: null },
      handler: async ({ params, req, reply }) => {
        const f = await svc.openFile(kind, params.name, params.version, params['*']);
        const etag = `"${f.sha256}"`;
        reply.header('etag', etag).header('accept-ranges', 'bytes').header('x-steward-sha256', f.sha256).header('cache-control', 'private, max-age=31536000, immutable');
        if (req.headers['if-none-match'] === etag) return reply.code(304).send();
        const ifRange = req.headers['if-range'];
        let range: { start: number; end: number } | null = null;
        try {
          range = ifRange && ifRange !== etag ? null : parseRange(req.headers.range, f.size);
        } catch (err) {
          // Answered here: the error handler would replace 416 with the code's own status (400).
          if (err instanceof AppError && err.details?.rangeNotSatisfiable) {
            return reply.code(416).header('content-range', `bytes */${f.size}`).send(envelope(err, req.id));
          }
          throw err;
        }
        reply.header('content-type', 'application/octet-stream');
        if (range) {
          reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${f.size}`).header('content-length', range.end - range.start + 1);
        } else {
          reply.header('content-length', f.size);
        }
        if (req.method === 'HEAD') return reply.send();
        return reply.send(await f.open(range ?? undefined));
      },
    }),
    defineRoute({
      method: 'GET', url: `${base}/:name/versions/:version/lineage`, summary: 'Lineage graph: what this version derives from (upstream) and what derives from it (downstream)', tags,
      permission: 'asset:read', scope: byName, params: VersionParams, query: LineageQuery, responses: { 200: LineageGraph },
      handler: async ({ params, query }) => svc.lineage(kind, params.name, params.version, query),
    }),
    defineRoute({
      method: 'GET', url: `${base}/:name/aliases`, summary: 'List aliases', tags, permission: 'asset:read', scope: byName,
      params: NameParams, responses: { 200: AliasList },
      handler: async ({ params }) => svc.listAliases(kind, params.name),
    }),
    defineRoute({
      method: 'GET', url: `${base}/:name/alias-history`, summary: 'History of alias moves, newest first', tags, permission: 'asset:read', scope: byName,
      params: NameParams, query: HistoryQuery, responses: { 200: AliasHistory },
      handler: async ({ params, query }) => svc.aliasHistory(kind, params.name, query.alias),
    }),
    defineRoute({
      method: 'GET', url: `${base}/:name/aliases/:alias`, summary: 'Get an alias', tags, permission: 'asset:read', scope: byName,
      params: AliasParams, responses: { 200: AliasResponse },
      handler: async ({ params }) => svc.getAlias(kind, params.name, params.alias),
    }),
    defineRoute({
      method: 'PUT', url: `${base}/:name/aliases/:alias`, summary: 'Point an alias at a version', tags, permission: 'asset:write', scope: byName,
      params: AliasParams, body: SetAliasBody, responses: { 200: AliasResponse },
      handler: async ({ params, body, actor }) => svc.setAlias(kind, params.name, params.alias, body.version, actor),
    }),
    defineRoute({
      method: 'DELETE', url: `${base}/:name/aliases/:alias`, summary: 'Remove an alias', tags, permission: 'asset:write', scope: byName,
      params: AliasParams, responses: { 204: null },
      handler: async ({ params, actor, reply }) => {
        await svc.deleteAlias(kind, params.name, params.alias, actor);
        return reply.code(204).send();
      },
    }),
  ];
}

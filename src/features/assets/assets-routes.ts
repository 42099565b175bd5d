/**
 * Handlers of the registry endpoints (contracts/assets-endpoints.ts), registered once per asset
 * kind. The document of one version carries what other features contribute to it (`extras`).
 */
import { assetEndpoints } from '../../contracts/assets-endpoints.js';
import type { z } from 'zod';
import { VersionResponse, type AssetKind } from '../../contracts/assets.js';
import { parseRange } from '../../platform/http/http-range.js';
import { route, type RouteDef } from '../../platform/http/http-route.js';
import { lineageFor } from './assets-fns.js';
import type { AssetsService } from './assets-service.js';

/**
 * What other features add to the document of one version (evaluations of a model version), by
 * key, as the caller may see it (`namespaces` of a limited token, null when unrestricted).
 */
export type VersionExtras = (kind: AssetKind, doc: Pick<VersionResponse, 'name' | 'version'>, namespaces: readonly string[] | null) => Promise<Record<string, unknown>>;

/**
 * `contributed`: the schema of each key other features add to a version document of this kind;
 * the document's response schema is the registry's extended with them. Every version document
 * goes out through `lineageFor`: a limited token sees no name of another namespace's asset.
 */
export function assetRoutes(kind: AssetKind, svc: AssetsService, extras: VersionExtras, contributed: Record<string, z.ZodType>): RouteDef[] {
  const E = assetEndpoints[kind];
  const versionDocument = VersionResponse.extend(contributed).strict();
  return [
    route(E.createAsset, async ({ body, actor }) => svc.createAsset(kind, body, actor)),
    route(E.listAssets, async ({ query, actor }) => svc.listAssets(kind, query, actor.namespaces)),
    route(E.getAsset, async ({ params }) => svc.getAsset(kind, params.name)),
    route(E.updateAsset, async ({ params, body, actor }) => svc.updateAsset(kind, params.name, body, actor)),
    route(E.deleteAsset, async ({ params, actor }) => svc.deleteAsset(kind, params.name, actor)),
    route(E.createVersion, async ({ params, body, actor }) => lineageFor(await svc.createVersion(kind, params.name, body, actor), actor.namespaces)),
    route(E.listVersions, async ({ params, query, actor }) => {
      const page = await svc.listVersions(kind, params.name, query, actor.namespaces);
      return actor.namespaces ? { ...page, items: page.items.map((v) => lineageFor(v, actor.namespaces)) } : page;
    }),
    {
      ...route(E.getVersion, async ({ params, query, actor }) => {
        const doc = lineageFor(await svc.getVersion(kind, params.name, params.version, { files: query.files === 'true' }), actor.namespaces);
        return { ...doc, ...(await extras(kind, doc, actor.namespaces)) };
      }),
      responses: { 200: versionDocument },
    },
    route(E.updateVersion, async ({ params, body, actor }) => lineageFor(await svc.updateVersion(kind, params.name, params.version, body, actor), actor.namespaces)),
    route(E.deleteVersion, async ({ params, actor }) => svc.deleteVersion(kind, params.name, params.version, actor)),
    route(E.finalizeVersion, async ({ params, actor }) => lineageFor(await svc.finalizeVersion(kind, params.name, params.version, actor), actor.namespaces)),
    route(E.compareVersions, async ({ params, query }) => svc.compare(kind, params.name, params.version, query.other)),
    route(E.downloadFile, async ({ params, req, reply }) => {
      const f = await svc.openFile(kind, params.name, params.version, params['*']);
      const etag = `"${f.sha256}"`;
      reply.header('etag', etag).header('accept-ranges', 'bytes').header('x-steward-sha256', f.sha256).header('cache-control', 'private, max-age=31536000, immutable');
      if (req.headers['if-none-match'] === etag) return reply.code(304).send();
      const ifRange = req.headers['if-range'];
      const range = ifRange && ifRange !== etag ? null : parseRange(req.headers.range, f.size);
      reply.header('content-type', 'application/octet-stream');
      if (range) reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${f.size}`).header('content-length', range.end - range.start + 1);
      else reply.header('content-length', f.size);
      if (req.method === 'HEAD') return reply.send();
      return reply.send(await f.open(range ?? undefined));
    }),
    route(E.lineage, async ({ params, query, actor }) => svc.lineage(kind, params.name, params.version, query, actor.namespaces)),
    route(E.listAliases, async ({ params }) => svc.listAliases(kind, params.name)),
    route(E.aliasHistory, async ({ params, query }) => svc.aliasHistory(kind, params.name, query.alias)),
    route(E.getAlias, async ({ params }) => svc.getAlias(kind, params.name, params.alias)),
    route(E.setAlias, async ({ params, body, actor }) => svc.setAlias(kind, params.name, params.alias, body.version, actor)),
    route(E.deleteAlias, async ({ params, actor, reply }) => {
      await svc.deleteAlias(kind, params.name, params.alias, actor);
      return reply.code(204).send();
    }),
  ];
}

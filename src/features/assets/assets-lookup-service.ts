/**
 * Reading the registry: how assets and versions are looked up (by number, alias or `latest`)
 * and rendered as API documents. Shared by the registry service and the lineage/compare service.
 */
import {
  parseSemver,
  type AssetKind,
  type AssetResponse,
  type VersionResponse,
  type VersionState,
} from '../../contracts/assets.js';
import { AppError, errors } from '../../platform/errors.js';
import type { AssetsRepo, AssetsTxRepo } from './assets-repo.js';
import type { AssetRow, VersionRow } from './assets-types.js';

export const KIND_LABEL: Record<AssetKind, string> = { model: 'model', dataset: 'dataset', prompt: 'prompt' };

/** Lineage edges as aggregated by the repo's JSON subqueries, as the API renders them. */
export function lineageView(edges: { relation: string; ref: string; version: string | null; name: string | null; kind: string | null }[]): VersionResponse['lineage'] {
  return edges.map((e) => ({ relation: e.relation as 'parent' | 'base_model' | 'dataset', kind: (e.kind as AssetKind | null) ?? null, name: e.name, version: e.version, ref: e.ref }));
}

export function createAssetLookups(repo: AssetsRepo) {
  const parse = <T>(labels: string): T => JSON.parse(labels) as T;

  function assetView(a: AssetRow, versionCount: number, latest: string | null): AssetResponse {
    return {
      kind: a.kind as AssetKind,
      name: a.name,
      namespace: a.namespace,
      description: a.description,
      owner: a.owner,
      labels: parse(a.labels),
      versionCount,
      latestVersion: latest,
      createdAt: a.created_at,
      createdBy: a.created_by,
      updatedAt: a.updated_at,
    };
  }

  function rowView(kind: AssetKind, r: VersionRow, name: string, files?: VersionResponse['files']): VersionResponse {
    return {
      kind,
      name,
      version: r.version,
      state: r.state as VersionState,
      digest: r.digest,
      size: r.size,
      fileCount: r.file_count,
      ...(files ? { files } : {}),
      metadata: parse(r.metadata),
      labels: parse(r.labels),
      card: r.card,
      lineage: [],
      aliases: [],
      createdAt: r.created_at,
      createdBy: r.created_by,
      readyAt: r.ready_at,
      expiresAt: r.expires_at,
      updatedAt: r.updated_at,
    };
  }

  async function views(kind: AssetKind, rows: (VersionRow & { asset_name: string })[], files?: Map<number, VersionResponse['files']>): Promise<VersionResponse[]> {
    const ids = rows.map((r) => r.id);
    const [aliases, lineage] = await Promise.all([repo.aliasesOf(ids), repo.lineageOf(ids)]);
    return rows.map((r) => ({
      ...rowView(kind, r, r.asset_name, files?.get(r.id)),
      lineage: lineage
        .filter((e) => e.version_id === r.id)
        .map((e) => ({
          relation: e.relation as 'parent' | 'base_model' | 'dataset',
          kind: (e.target_kind as AssetKind | null) ?? null,
          name: e.target_name ?? null,
          version: e.target_version ?? null,
          ref: e.target_ref,
        })),
      aliases: aliases.get(r.id) ?? [],
    }));
  }

  async function requireAsset(kind: AssetKind, name: string, r: Pick<AssetsTxRepo, 'findAsset'> = repo): Promise<AssetRow> {
    const a = await r.findAsset(kind, name);
    if (!a) throw errors.notFound(KIND_LABEL[kind], name);
    return a;
  }

  /** A version, an alias, or `latest` (the highest ready version unless an alias of that name exists). */
  async function resolve(kind: AssetKind, a: AssetRow, ref: string, r: AssetsTxRepo = repo): Promise<VersionRow> {
    const semver = parseSemver(ref);
    if (semver) {
      const v = await r.findVersion(a.id, semver.text);
      if (!v) throw new AppError('not_found', `${KIND_LABEL[kind]} ${a.name} has no version ${semver.text}`, { name: a.name, version: semver.text });
      return v;
    }
    const alias = await r.findAlias(a.id, ref);
    if (alias) return (await r.findVersion(a.id, alias.version))!;
    if (ref === 'latest') {
      const v = await r.latestVersion(a.id, ['ready']);
      if (v) return v;
      throw new AppError('not_found', `${KIND_LABEL[kind]} ${a.name} has no ready version yet`, { name: a.name });
    }
    throw new AppError('not_found', `${KIND_LABEL[kind]} ${a.name} has no version or alias ${JSON.stringify(ref)}`, { name: a.name, ref });
  }

  async function getVersion(kind: AssetKind, name: string, ref: string, opts: { files?: boolean } = {}): Promise<VersionResponse> {
    const semver = parseSemver(ref);
    // One statement for the common case (a version number); aliases and errors take the long way.
    const doc = semver ? await repo.versionDocument(kind, name, semver.text, opts.files ?? false) : null;
    if (doc) {
      return {
        ...rowView(kind, doc.row, doc.row.asset_name, doc.files ?? undefined),
        aliases: doc.aliases,
        lineage: lineageView(doc.lineage),
      };
    }
    const a = await requireAsset(kind, name);
    const row = { ...(await resolve(kind, a, ref)), asset_name: a.name };
    const files = opts.files ? new Map([[row.id, await repo.listFiles(row.id)]]) : undefined;
    return (await views(kind, [row], files))[0]!;
  }

  async function getAsset(kind: AssetKind, name: string): Promise<AssetResponse> {
    const a = await requireAsset(kind, name);
    const [row] = await repo.listAssets({ kind, nameLike: undefined, sort: 'created', order: 'asc', after: [0, a.id - 1], limit: 1 });
    return assetView(a, row?.version_count ?? 0, row?.latest_version ?? null);
  }

  async function getAlias(kind: AssetKind, name: string, alias: string) {
    const a = await requireAsset(kind, name);
    const al = await repo.findAlias(a.id, alias);
    if (!al) throw new AppError('not_found', `${KIND_LABEL[kind]} ${name} has no alias ${alias}`, { name, alias });
    return { name, alias, version: al.version, updatedAt: al.updated_at, updatedBy: al.updated_by };
  }

  return { assetView, rowView, views, requireAsset, resolve, getVersion, getAsset, getAlias };
}

export type AssetLookups = ReturnType<typeof createAssetLookups>;

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
import type { AssetsRepo, AssetsTxRepo, VersionDoc } from './assets-repo.js';
import type { AssetRow, VersionRow } from './assets-types.js';

export const KIND_LABEL: Record<AssetKind, string> = { model: 'model', dataset: 'dataset', prompt: 'prompt' };

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

  /**
   * A version document (JSON text, the response body as it is) by number, alias or `latest`,
   * in one statement when the ref names a version (two for `latest` without such an alias); a
   * ref that names nothing takes the long way, through `resolve`, for the precise not-found error.
   */
  async function getVersionJson(kind: AssetKind, name: string, ref: string, opts: { files?: boolean } = {}): Promise<VersionDoc> {
    const withFiles = opts.files ?? false;
    const semver = parseSemver(ref);
    const doc = semver
      ? await repo.versionDocument(kind, name, { version: semver.text }, withFiles)
      : ((await repo.versionDocument(kind, name, { alias: ref }, withFiles)) ??
        (ref === 'latest' ? await repo.versionDocument(kind, name, { latestReady: true }, withFiles) : null));
    if (doc !== null) return doc;
    const a = await requireAsset(kind, name);
    const v = await resolve(kind, a, ref);
    // Only reached when the version appeared between the two reads.
    const again = await repo.versionDocumentById(v.id, withFiles);
    if (again === null) throw new AppError('not_found', `${KIND_LABEL[kind]} ${a.name} has no version ${v.version}`, { name: a.name, version: v.version });
    return again;
  }

  /** The same document as an object, for callers that read it. */
  async function getVersion(kind: AssetKind, name: string, ref: string, opts: { files?: boolean } = {}): Promise<VersionResponse> {
    return JSON.parse((await getVersionJson(kind, name, ref, opts)).json) as VersionResponse;
  }

  /** An asset document as JSON text. */
  async function getAssetJson(kind: AssetKind, name: string): Promise<string> {
    const doc = await repo.assetDocument(kind, name);
    if (doc === null) throw errors.notFound(KIND_LABEL[kind], name);
    return doc;
  }

  async function getAsset(kind: AssetKind, name: string): Promise<AssetResponse> {
    return JSON.parse(await getAssetJson(kind, name)) as AssetResponse;
  }

  async function getAlias(kind: AssetKind, name: string, alias: string) {
    const a = await requireAsset(kind, name);
    const al = await repo.findAlias(a.id, alias);
    if (!al) throw new AppError('not_found', `${KIND_LABEL[kind]} ${name} has no alias ${alias}`, { name, alias });
    return { name, alias, version: al.version, updatedAt: al.updated_at, updatedBy: al.updated_by };
  }

  return { assetView, rowView, requireAsset, resolve, getVersionJson, getVersion, getAssetJson, getAsset, getAlias };
}

export type AssetLookups = ReturnType<typeof createAssetLookups>;

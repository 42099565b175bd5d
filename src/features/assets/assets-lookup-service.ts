/**
 * Reading the registry: how assets and versions are looked up (by number, alias or `latest`)
 * and built into API documents (the mappers of assets-fns.ts). Shared by the registry service and the lineage/compare service.
 */
import { parseSemver, type AssetKind, type AssetResponse, type VersionResponse } from '../../contracts/assets.js';
import { AppError, errors } from '../../platform/errors.js';
import { assetDocument, versionDocument } from './assets-fns.js';
import type { AssetsRepo, AssetsTxRepo } from './assets-repo.js';
import type { LineageRow } from './assets-repo-docs.js';
import type { AssetRow, VersionRow } from './assets-types.js';

/** The ref that always means the newest ready version; reserved as an alias name. */
export const LATEST = 'latest';

export const KIND_LABEL: Record<AssetKind, string> = { model: 'model', dataset: 'dataset', prompt: 'prompt' };

export function createAssetLookups(repo: AssetsRepo) {
  /** An asset's document from its row, with statistics the caller knows (a new asset has none). */
  function assetView(a: AssetRow, versionCount: number, latest: string | null): AssetResponse {
    return assetDocument({ ...a, version_count: versionCount, latest_version: latest });
  }

  /** A version's document from what its creator wrote: no aliases yet; lineage as given. */
  function rowView(kind: AssetKind, r: VersionRow, name: string, files: VersionResponse['files'], lineage: LineageRow[]): VersionResponse {
    return versionDocument({ ...r, kind, name, files, aliases: [], lineage });
  }

  async function requireAsset(kind: AssetKind, name: string, r: Pick<AssetsTxRepo, 'findAsset'> = repo): Promise<AssetRow> {
    const a = await r.findAsset(kind, name);
    if (!a) throw errors.notFound(KIND_LABEL[kind], name);
    return a;
  }

  /**
   * The asset, locked until `r`'s transaction ends (`lockAsset` in the repo): taken first by
   * every change that reads what it replaces, so concurrent changes of one asset queue up.
   */
  async function lockAsset(kind: AssetKind, name: string, r: AssetsTxRepo): Promise<AssetRow> {
    const a = await requireAsset(kind, name, r);
    await r.lockAsset(a.id);
    return a;
  }

  /**
   * A version, an alias, or `latest`: the highest ready release, else (no release ready) the
   * highest ready pre-release. `latest` is reserved: no alias may take the name, and one left
   * from before the reservation is not consulted.
   */
  async function resolve(kind: AssetKind, a: AssetRow, ref: string, r: AssetsTxRepo = repo): Promise<VersionRow> {
    const semver = parseSemver(ref);
    if (semver) {
      const v = await r.findVersion(a.id, semver.text);
      if (!v) throw new AppError('not_found', `${KIND_LABEL[kind]} ${a.name} has no version ${semver.text}`, { name: a.name, version: semver.text });
      return v;
    }
    if (ref === LATEST) {
      const v = await r.latestReady(a.id);
      if (v) return v;
      throw new AppError('not_found', `${KIND_LABEL[kind]} ${a.name} has no ready version yet`, { name: a.name });
    }
    const alias = await r.findAlias(a.id, ref);
    if (alias) return (await r.findVersion(a.id, alias.version))!;
    throw new AppError('not_found', `${KIND_LABEL[kind]} ${a.name} has no version or alias ${JSON.stringify(ref)}`, { name: a.name, ref });
  }

  /**
   * A version document by number, alias or `latest`, in one statement when the ref names a
   * version; a ref that names nothing takes the long
   * way, through `resolve`, for the precise not-found error.
   */
  async function getVersion(kind: AssetKind, name: string, ref: string, opts: { files?: boolean } = {}): Promise<VersionResponse> {
    const withFiles = opts.files ?? false;
    const semver = parseSemver(ref);
    const row = semver
      ? await repo.versionDocRow(kind, name, { version: semver.text }, withFiles)
      : await repo.versionDocRow(kind, name, ref === LATEST ? { latestReady: true } : { alias: ref }, withFiles);
    if (row !== null) return versionDocument(row);
    const a = await requireAsset(kind, name);
    const v = await resolve(kind, a, ref);
    // Only reached when the version appeared between the two reads.
    const again = await repo.versionDocRowById(v.id, withFiles);
    if (again === null) throw new AppError('not_found', `${KIND_LABEL[kind]} ${a.name} has no version ${v.version}`, { name: a.name, version: v.version });
    return versionDocument(again);
  }

  async function getAsset(kind: AssetKind, name: string): Promise<AssetResponse> {
    const row = await repo.assetDocRow(kind, name);
    if (row === null) throw errors.notFound(KIND_LABEL[kind], name);
    return assetDocument(row);
  }

  async function getAlias(kind: AssetKind, name: string, alias: string) {
    const a = await requireAsset(kind, name);
    const al = await repo.findAlias(a.id, alias);
    if (!al) throw new AppError('not_found', `${KIND_LABEL[kind]} ${name} has no alias ${alias}`, { name, alias });
    return { name, alias, version: al.version, updatedAt: al.updated_at, updatedBy: al.updated_by };
  }

  return { assetView, rowView, requireAsset, lockAsset, resolve, getVersion, getAsset, getAlias };
}

export type AssetLookups = ReturnType<typeof createAssetLookups>;

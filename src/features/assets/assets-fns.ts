/**
 * Pure rules of the assets feature: the canonical manifest and its digest (a version's
 * identity), the sort key that orders semantic versions as text, cursors, the documents built
 * from rows, and comparison.
 */
import { createHash } from 'node:crypto';
import { namespaceGranted, parseAssetRef, parseSemver, type AssetKind, type AssetResponse, type ManifestFile, type VersionResponse, type VersionState } from '../../contracts/assets.js';
import { AppError } from '../../platform/errors.js';
import type { AssetDocRow, VersionDocRow } from './assets-repo-docs.js';

type LineageRelation = VersionResponse['lineage'][number]['relation'];

/**
 * The canonical manifest: files sorted by path (code-unit order), each rendered with a fixed
 * key order, no whitespace. Its sha256 is the version's digest, so two versions with the same
 * files have the same identity whatever order a client listed them in.
 */
export function canonicalManifest(files: readonly ManifestFile[]): string {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return `[${sorted.map((f) => `{"path":${JSON.stringify(f.path)},"sha256":"${f.sha256}","size":${f.size}}`).join(',')}]`;
}

export function manifestDigest(files: readonly ManifestFile[]): string {
  return `sha256:${createHash('sha256').update(canonicalManifest(files)).digest('hex')}`;
}

const pad = (n: number) => String(n).padStart(10, '0');

/**
 * Text whose byte order is semantic-version precedence: numeric fields zero-padded; a release
 * sorts after its pre-releases ("~" > any pre-release character); numeric pre-release
 * identifiers padded so rc.10 follows rc.2. Build metadata does not take part (semver §10).
 */
export function versionKey(version: string): string {
  const p = parseSemver(version);
  if (!p) throw new AppError('invalid_argument', `version ${JSON.stringify(version)} is not a semantic version`);
  const core = `${pad(p.major)}.${pad(p.minor)}.${pad(p.patch)}`;
  if (!p.prerelease) return `${core}~`;
  const pre = p.prerelease
    .split('.')
    .map((id) => (/^\d+$/.test(id) ? `0${id.padStart(10, '0')}` : `1${id}`))
    .join('.');
  return `${core}-${pre}`;
}

export { encodeCursor, decodeCursor } from '../../platform/cursor.js';

/**
 * The version document (`VersionResponse`) of a row: the one place its keys are built. `files`
 * only when the row carries them; metadata and labels from their stored JSON text.
 */
export function versionDocument(r: VersionDocRow): VersionResponse {
  return {
    kind: r.kind as AssetKind,
    name: r.name,
    version: r.version,
    state: r.state as VersionState,
    digest: r.digest,
    size: r.size,
    fileCount: r.file_count,
    ...(r.files ? { files: r.files } : {}),
    metadata: JSON.parse(r.metadata) as Record<string, unknown>,
    labels: JSON.parse(r.labels) as Record<string, string>,
    card: r.card,
    lineage: r.lineage.map((e) => ({ relation: e.relation as LineageRelation, kind: e.kind as AssetKind | null, name: e.name, version: e.version, ref: e.ref })),
    aliases: r.aliases,
    createdAt: r.created_at,
    createdBy: r.created_by,
    readyAt: r.ready_at,
    expiresAt: r.expires_at,
    archivedAt: r.archived_at,
    filesReleasedAt: r.files_released_at,
    updatedAt: r.updated_at,
  };
}

/** The asset document (`AssetResponse`) of a row with its version statistics. */
export function assetDocument(a: AssetDocRow): AssetResponse {
  return {
    kind: a.kind as AssetKind,
    name: a.name,
    namespace: a.namespace,
    description: a.description,
    owner: a.owner,
    labels: JSON.parse(a.labels) as Record<string, string>,
    versionCount: a.version_count,
    latestVersion: a.latest_version,
    keepArchivedFiles: a.keep_archived_files,
    createdAt: a.created_at,
    createdBy: a.created_by,
    updatedAt: a.updated_at,
  };
}

export interface Change {
  key: string;
  change: 'added' | 'removed' | 'changed';
  before: unknown;
  after: unknown;
}

/** Key-by-key diff of two flat records, deep-comparing values by their JSON text. */
export function diffRecords(a: Record<string, unknown>, b: Record<string, unknown>): Change[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const out: Change[] = [];
  for (const key of keys) {
    const inA = Object.prototype.hasOwnProperty.call(a, key);
    const inB = Object.prototype.hasOwnProperty.call(b, key);
    if (inA && !inB) out.push({ key, change: 'removed', before: a[key], after: null });
    else if (!inA && inB) out.push({ key, change: 'added', before: null, after: b[key] });
    else if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) out.push({ key, change: 'changed', before: a[key], after: b[key] });
  }
  return out;
}

export interface FileDiff {
  files: { path: string; change: 'added' | 'removed' | 'changed'; before: ManifestFile | null; after: ManifestFile | null }[];
  unchanged: number;
}

export function diffManifests(a: readonly ManifestFile[], b: readonly ManifestFile[]): FileDiff {
  const before = new Map(a.map((f) => [f.path, f]));
  const after = new Map(b.map((f) => [f.path, f]));
  const files: FileDiff['files'] = [];
  let unchanged = 0;
  for (const [path, f] of before) {
    const g = after.get(path);
    if (!g) files.push({ path, change: 'removed', before: f, after: null });
    else if (g.sha256 !== f.sha256 || g.size !== f.size) files.push({ path, change: 'changed', before: f, after: g });
    else unchanged++;
  }
  for (const [path, g] of after) if (!before.has(path)) files.push({ path, change: 'added', before: null, after: g });
  files.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
  return { files, unchanged };
}

/** Numeric metrics of a version's metadata: top-level numbers plus `benchmark_results.*`. */
export function metricsOf(metadata: Record<string, unknown>): Map<string, number> {
  const out = new Map<string, number>();
  const numeric = ['accuracy_score', 'latency_p95_ms', 'throughput_tokens_per_second'];
  for (const k of numeric) if (typeof metadata[k] === 'number') out.set(k, metadata[k] as number);
  const bench = metadata.benchmark_results;
  if (bench && typeof bench === 'object') {
    for (const [k, v] of Object.entries(bench as Record<string, unknown>)) if (typeof v === 'number') out.set(`benchmark_results.${k}`, v);
  }
  return out;
}

export function metricDeltas(a: Record<string, unknown>, b: Record<string, unknown>) {
  const ma = metricsOf(a);
  const mb = metricsOf(b);
  const names = [...new Set([...ma.keys(), ...mb.keys()])].sort();
  return names.map((metric) => {
    const before = ma.get(metric) ?? null;
    const after = mb.get(metric) ?? null;
    return { metric, before, after, delta: before !== null && after !== null ? after - before : null };
  });
}

type Lineage = VersionResponse['lineage'];

/**
 * Whether the target of a lineage edge is a registry asset outside `namespaces`. `name` is the
 * target's when it is in the registry. An external base model id is no registry asset; a parent
 * or dataset edge always points into the registry (should its target be gone, its ref names it).
 */
export function lineageTargetHidden(e: { name: string | null; relation: string; ref: string | null }, namespaces: readonly string[] | null): boolean {
  if (namespaces === null) return false;
  if (e.name !== null) return !namespaceGranted(e.name, namespaces);
  if (e.relation === 'base_model' || e.ref === null) return false;
  const p = parseAssetRef(e.ref);
  return typeof p === 'string' || !namespaceGranted(p.name, namespaces);
}

/**
 * A version's lineage as a token limited to `namespaces` may see it: an edge to a registry asset
 * outside them names nothing (see `Hidden`). External base model ids are not registry assets and
 * stay; an unrestricted caller (null) gets the document untouched.
 */
export function lineageFor<T extends { lineage: Lineage }>(doc: T, namespaces: readonly string[] | null): T {
  if (namespaces === null || !doc.lineage.length) return doc;
  const hide = (e: Lineage[number]) => lineageTargetHidden(e, namespaces);
  if (!doc.lineage.some(hide)) return doc;
  return { ...doc, lineage: doc.lineage.map((e) => (hide(e) ? { relation: e.relation, kind: e.kind, name: null, version: null, ref: null, hidden: true } : e)) };
}

/** Splits `NAME:REF` (a lineage pointer, a compare target); 400 when it has no REF. */
export function splitPointer(pointer: string): { name: string; ref: string } {
  const r = parseAssetRef(pointer, { requireRef: true });
  if (typeof r === 'string') throw new AppError('invalid_argument', r);
  return { name: r.name, ref: r.ref! };
}


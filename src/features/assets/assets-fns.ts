/**
 * Pure rules of the assets feature: the canonical manifest and its digest (a version's
 * identity), the sort key that orders semantic versions as text, cursors, and comparison.
 */
import { createHash } from 'node:crypto';
import { parseAssetRef, parseSemver, type ManifestFile } from '../../contracts/assets.js';
import { AppError } from '../../platform/errors.js';

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

/** A page (`{ items, nextCursor }`) as JSON text around documents that already are JSON text. */
export function pageJson(items: readonly string[], nextCursor: string | null): string {
  return `{"items":[${items.join(',')}],"nextCursor":${JSON.stringify(nextCursor)}}`;
}

/**
 * The JSON text of `{ ...doc, ...fields }` for a document given as compact JSON text whose
 * keys are `docKeys`: new keys are appended in their order, as the spread appends them; a
 * field that replaces one of the document's own keys (the spread keeps its position) or a
 * document that is not an object takes the slow way, through parsing.
 */
export function withFieldsJson(doc: string, fields: Readonly<Record<string, unknown>>, docKeys: ReadonlySet<string>): string {
  let tail = '';
  for (const [k, v] of Object.entries(fields)) {
    const text = JSON.stringify(v) as string | undefined; // undefined, functions: no key, as in JSON.stringify
    if (text === undefined) continue;
    if (docKeys.has(k) || !doc.endsWith('}') || doc === '{}') return JSON.stringify({ ...(JSON.parse(doc) as Record<string, unknown>), ...fields });
    tail += `,${JSON.stringify(k)}:${text}`;
  }
  return tail ? `${doc.slice(0, -1)}${tail}}` : doc;
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

/** Splits `NAME:REF` (a lineage pointer, a compare target); 400 when it has no REF. */
export function splitPointer(pointer: string): { name: string; ref: string } {
  const r = parseAssetRef(pointer, { requireRef: true });
  if (typeof r === 'string') throw new AppError('invalid_argument', r);
  return { name: r.name, ref: r.ref! };
}

export function namespaceOf(name: string): string | null {
  const i = name.indexOf('/');
  return i === -1 ? null : name.slice(0, i);
}

/**
 * Pushing a directory as a new version: hash locally, send the manifest, upload only the blobs
 * the server lacks (large ones through resumable sessions), then finalise. Re-running an
 * interrupted push resumes it: the pending version is reused and each session continues from
 * the server's offset. Used by `steward push`, `steward dataset push` and anything else that
 * publishes files (CI jobs); it reports progress through a callback and prints nothing.
 *
 * Hashing and uploading overlap: each file that had to be hashed is queued for upload as soon
 * as its hash is known (blobs may precede their version: GC spares blobs younger than its grace
 * period), and the version is created once every hash is known; its `missing` list then drops
 * queued blobs the server holds. Files whose hash came from the cache are not sent before the
 * version answers: they were pushed before, so a warm re-push sends the manifest and no byte.
 * The large files of a new version are not hashed first: they are hashed as they are sent, in
 * one read (see upload-queue.ts), and the version is created once their uploads completed.
 */
import path from 'node:path';
import type { AssetKind, CreateVersionBody, VersionResponse } from '../../contracts/assets.js';
import { StewardApiError, type StewardClient } from '../client.js';
import { HashWorker } from './hash-worker.js';
import { HashCache, listFiles, SessionMemory, type ListOptions, type LocalFile, type SkippedLink } from './push-files.js';
import { SESSION_THRESHOLD, UploadQueue, type PushProgress } from './upload-queue.js';

export type { PushProgress, SkippedLink };

export interface PushOptions {
  client: StewardClient;
  kind: AssetKind;
  name: string;
  dir: string;
  /** The version to create, without its files (they come from `dir`). */
  version: Omit<CreateVersionBody, 'files'>;
  /** Description of the asset, when this push creates it. */
  description?: string | undefined;
  /** Where the hash cache and the remembered upload sessions live. */
  cacheDir: string;
  /** Create a version without files when `dir` holds none (refused otherwise: an empty push is usually a wrong path). */
  allowEmpty?: boolean | undefined;
  onProgress?: (e: PushProgress) => void;
  /** gitignore-style patterns of files not to push, besides the directory's `.stewardignore`. */
  exclude?: ListOptions['exclude'];
  /** Follow symbolic links that lead outside `dir` (off: they are skipped and reported in `skipped`). */
  followExternalLinks?: ListOptions['followExternalLinks'];
}

export interface PushResult {
  version: VersionResponse;
  files: number;
  bytes: number;
  /** Bytes of blobs this push supplied (the server lacked them). */
  uploadedBytes: number;
  /** True when the push continued an interrupted one (a pending version or a session). */
  resumed: boolean;
  /** True when the version already existed, ready, with these very files: nothing was done. */
  alreadyReady: boolean;
  /** Symbolic links not pushed: leading outside the directory, broken, or looping. */
  skipped: SkippedLink[];
}

const isCode = (err: unknown, code: string) => err instanceof StewardApiError && err.code === code;

function sameManifest(v: VersionResponse, local: LocalFile[]): boolean {
  const remote = new Map((v.files ?? []).map((f) => [f.path, `${f.sha256}:${f.size}`]));
  return remote.size === local.length && local.every((f) => remote.get(f.path) === `${f.sha256}:${f.size}`);
}

export async function pushVersion(o: PushOptions): Promise<PushResult> {
  const { client, kind, name } = o;
  const emit = o.onProgress ?? (() => undefined);
  const { files: listed, skipped } = await listFiles(o.dir, { exclude: o.exclude, followExternalLinks: o.followExternalLinks });
  if (!listed.length && !o.allowEmpty) {
    throw new StewardApiError(0, 'invalid_argument', `${o.dir} holds no files; nothing was pushed (check the path; to create a version without files on purpose, push with --allow-empty)`, { dir: o.dir });
  }
  const bytes = listed.reduce((s, f) => s + f.size, 0);
  const cache = new HashCache(path.join(o.cacheDir, 'hashes.json'));
  const local: LocalFile[] = listed.map((f) => ({ path: f.path, abs: f.abs, size: f.size, sha256: cache.get(f.abs, f.key) ?? '' }));
  // Small files first: they hash in a blink and keep the server busy while the large ones hash.
  const toHash = listed.map((f, i) => ({ f, i })).filter(({ i }) => !local[i]!.sha256).sort((a, b) => a.f.size - b.f.size);
  emit({ type: 'hash-total', bytes: toHash.reduce((s, { f }) => s + f.size, 0) });
  const sessions = new SessionMemory(path.join(o.cacheDir, 'uploads.json'));
  const hasher = toHash.length ? new HashWorker() : null;
  const learn = (f: LocalFile, key: string) => {
    cache.set(f.abs, key, f.sha256);
    emit({ type: 'file-hashed', path: f.path, sha256: f.sha256 });
  };
  const uploads = new UploadQueue(client, sessions, emit, hasher ? { hasher, hashed: learn } : undefined);

  // Meanwhile, ask whether this version exists. Only a new version gets blobs before its
  // manifest: pushing an existing one must first compare manifests.
  const versionIsNew = toHash.length
    ? client.getVersion(kind, name, o.version.version, { files: false }).then(
        () => false,
        (err: unknown) => {
          if (isCode(err, 'not_found')) return true;
          throw err;
        },
      )
    : Promise.resolve(false);
  versionIsNew.catch(() => undefined);

  try {
    // Queued at once: the worker hashes them back to back, in this order.
    const hashes = new Map<number, Promise<string>>();
    const hash = (items: typeof toHash) => {
      for (const { f, i } of items) {
        const p = hasher!.hash(f.abs, (n) => emit({ type: 'hashed', bytes: n }));
        p.catch(() => undefined);
        hashes.set(i, p);
      }
    };
    const isLarge = ({ f }: (typeof toHash)[number]) => f.size > SESSION_THRESHOLD;
    hash(toHash.filter((x) => !isLarge(x)));
    // The large files of a new version go in one pass (read once, hashed as they are sent, and
    // uploading from the start), unless an interrupted push left sessions to resume: those are
    // found by sha256, so everything is hashed first.
    const isNew = toHash.length ? await versionIsNew : false;
    const onePass = isNew && !sessions.holdsBlobSessions(client.url) ? toHash.filter(isLarge) : [];
    for (const { f, i } of onePass) {
      emit({ type: 'hash-total', bytes: -f.size });
      uploads.offerUnhashed(local[i]!, f.key);
    }
    hash(toHash.filter((x) => isLarge(x) && !onePass.includes(x)));
    for (const { f, i } of toHash) {
      const hashed = hashes.get(i);
      if (!hashed) continue;
      if (uploads.error !== null) break;
      local[i]!.sha256 = await hashed;
      learn(local[i]!, f.key);
      if (isNew) uploads.offer(local[i]!);
    }
    // The one-pass files' hashes, known as their uploads complete.
    await uploads.unhashedSettled();
  } finally {
    await hasher?.close();
    cache.save();
  }
  // Surfaces an upload failure (hashing stopped early) before anything else.
  if (uploads.error !== null) await uploads.drained();

  // The asset is registered with the version when absent, in its transaction: a version the
  // server refuses leaves no empty asset behind.
  const body: CreateVersionBody = {
    ...o.version,
    files: local.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })),
    asset: o.description ? { description: o.description } : {},
  };
  let missing: string[];
  let resumed = false;
  try {
    missing = (await client.createVersion(kind, name, body)).missing;
  } catch (err) {
    if (!(isCode(err, 'conflict') && (err as StewardApiError).details.version)) throw err;
    const existing = await client.getVersion(kind, name, String((err as StewardApiError).details.version), { files: true });
    if (!sameManifest(existing, local)) throw new StewardApiError(409, 'conflict', `${name}:${existing.version} already exists with different files; pick a new version`, { version: existing.version });
    if (existing.state !== 'pending') {
      await uploads.drained().catch(() => undefined);
      return { version: existing, files: local.length, bytes, uploadedBytes: uploads.uploadedBytes, resumed: false, alreadyReady: true, skipped };
    }
    resumed = true;
    missing = await finalizeOrMissing(client, kind, name, existing.version);
  }

  for (let attempt = 0; ; attempt++) {
    if (attempt === 3) throw new StewardApiError(409, 'conflict', `${missing.length} blob(s) are still missing after 3 attempts`, { missing });
    const want = new Set(missing);
    uploads.restrict(want);
    uploads.retry(local.filter((f) => want.has(f.sha256)));
    await uploads.drained();
    // Finalising reports anything still missing (e.g. collected meanwhile); upload that and retry.
    missing = await finalizeOrMissing(client, kind, name, body.version);
    if (!missing.length) break;
  }

  const version = await client.getVersion(kind, name, body.version, { files: false });
  return { version, files: local.length, bytes, uploadedBytes: uploads.uploadedBytes, resumed: resumed || uploads.resumedSession, alreadyReady: false, skipped };
}

/** Finalises; on a 409 listing missing blobs returns them instead of failing. */
async function finalizeOrMissing(client: StewardClient, kind: AssetKind, name: string, version: string): Promise<string[]> {
  try {
    await client.finalizeVersion(kind, name, version);
    return [];
  } catch (err) {
    if (isCode(err, 'conflict') && Array.isArray((err as StewardApiError).details.missing)) return (err as StewardApiError).details.missing as string[];
    throw err;
  }
}

/**
 * `steward push DIR`: hash locally, send the manifest, upload only the blobs the server lacks
 * (large ones through resumable sessions), then finalise. Re-running an interrupted push
 * resumes it: the pending version is reused and each session continues from the server's offset.
 *
 * Hashing and uploading overlap: each file that had to be hashed is queued for upload as soon
 * as its hash is known (blobs may precede their version: GC spares blobs younger than its grace
 * period), and the version is created once every hash is known; its `missing` list then drops
 * queued blobs the server holds. Files whose hash came from the cache are not sent before the
 * version answers: they were pushed before, so a warm re-push sends the manifest and no byte.
 * The large files of a new version are not hashed first: they are hashed as they are sent, in
 * one read (see push-uploads.ts), and the version is created once their uploads completed.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { AssetKind, CreateVersionBody, VersionResponse } from '../../contracts/assets.js';
import { StewardApiError, type StewardClient } from '../../sdk/client.js';
import { cacheDir, clientFor, env, formatBytes, printJson, wantsProgress, type GlobalOptions } from '../cli-context.js';
import { pushProgress } from '../progress.js';
import { HashWorker } from '../hash-worker.js';
import { HashCache, listFiles, type LocalFile } from '../push-fns.js';
import { SESSION_THRESHOLD, SessionMemory, UploadQueue } from '../push-uploads.js';
import { localApiBase } from '../upload-transport.js';
import { parseLabels, UsageError } from '../cli-errors.js';

interface PushOptions {
  model?: string;
  dataset?: string[];
  name?: string;
  kind?: AssetKind;
  version: string;
  meta?: string;
  /** Metadata given directly (`steward dataset push` computes it); wins over `meta`. */
  metadata?: Record<string, unknown>;
  card?: string;
  parent?: string;
  baseModel?: string;
  label?: string[];
  description?: string;
}

function sameManifest(v: VersionResponse, local: LocalFile[]): boolean {
  const remote = new Map((v.files ?? []).map((f) => [f.path, `${f.sha256}:${f.size}`]));
  return remote.size === local.length && local.every((f) => remote.get(f.path) === `${f.sha256}:${f.size}`);
}

const isCode = (err: unknown, code: string) => err instanceof StewardApiError && err.code === code;

export async function runPush(dir: string, o: PushOptions, g: GlobalOptions): Promise<void> {
  const kind: AssetKind = o.kind ?? 'model';
  const name = o.name ?? o.model;
  if (!name) throw new UsageError('name the asset: --model NAME');
  const metadata = o.metadata ?? (o.meta ? (JSON.parse(fs.readFileSync(o.meta, 'utf8')) as Record<string, unknown>) : undefined);
  const card = o.card ? fs.readFileSync(o.card, 'utf8') : undefined;
  const labels = parseLabels(o.label ?? []);
  const client = clientFor(g);

  const listed = await listFiles(dir);
  const total = listed.reduce((s, f) => s + f.size, 0);
  const cache = new HashCache(path.join(cacheDir(), 'hashes.json'));
  const local: LocalFile[] = listed.map((f) => ({ path: f.path, abs: f.abs, size: f.size, sha256: cache.get(f.abs, f.key) ?? '' }));
  // Small files first: they hash in a blink and keep the server busy while the large ones hash.
  const toHash = listed.map((f, i) => ({ f, i })).filter(({ i }) => !local[i]!.sha256).sort((a, b) => a.f.size - b.f.size);
  const bars = pushProgress(toHash.reduce((s, { f }) => s + f.size, 0), wantsProgress(g));
  const sessions = new SessionMemory(path.join(cacheDir(), 'uploads.json'));
  const hasher = toHash.length ? new HashWorker() : null;
  const uploads = new UploadQueue(
    client,
    sessions,
    bars.uploading,
    hasher ? { hasher, hashed: (f, key) => cache.set(f.abs, key, f.sha256) } : undefined,
    stagingWanted(client.url),
  );

  // Meanwhile, ask whether the asset and this version exist. Only a new version gets blobs
  // before its manifest: pushing an existing one must first compare manifests.
  const assetReady = client.createAsset(kind, { name, ...(o.description ? { description: o.description } : {}) }).then(
    () => undefined,
    (err: unknown) => {
      if (!isCode(err, 'conflict')) throw err;
    },
  );
  assetReady.catch(() => undefined);
  const versionIsNew = toHash.length
    ? client.getVersion(kind, name, o.version, { files: false }).then(
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
        const p = hasher!.hash(f.abs, (n) => bars.hashing.add(n));
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
      bars.hashing.grow(-f.size);
      uploads.offerUnhashed(local[i]!, f.key);
    }
    hash(toHash.filter((x) => isLarge(x) && !onePass.includes(x)));
    for (const { f, i } of toHash) {
      const hashed = hashes.get(i);
      if (!hashed) continue;
      if (uploads.error !== null) break;
      const sha = await hashed;
      cache.set(f.abs, f.key, sha);
      local[i]!.sha256 = sha;
      if (isNew) uploads.offer(local[i]!);
    }
    // The one-pass files' hashes, known as their uploads complete.
    await uploads.unhashedSettled();
  } finally {
    await hasher?.close();
    bars.hashing.stop();
    cache.save();
  }
  // Surfaces an upload failure (hashing stopped early) before anything else.
  if (uploads.error !== null) await uploads.drained();
  await assetReady;

  const body: CreateVersionBody = {
    version: o.version,
    files: local.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })),
    ...(metadata ? { metadata } : {}),
    ...(card !== undefined ? { card } : {}),
    ...(Object.keys(labels).length ? { labels } : {}),
    ...(o.parent || o.baseModel || o.dataset?.length
      ? { lineage: { ...(o.parent ? { parent: o.parent } : {}), ...(o.baseModel ? { baseModel: o.baseModel } : {}), ...(o.dataset?.length ? { datasets: o.dataset } : {}) } }
      : {}),
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
      bars.stop();
      if (g.json) printJson(existing);
      else process.stdout.write(`${name}:${existing.version} is already ${existing.state} with these files (${existing.digest})\n`);
      return;
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
  bars.stop();

  const v = await client.getVersion(kind, name, body.version, { files: false });
  const uploadedBytes = uploads.uploadedBytes;
  resumed ||= uploads.resumedSession;
  if (g.json) printJson({ ...v, uploadedBytes, resumed });
  else {
    process.stdout.write(
      `pushed ${name}:${v.version} (${v.state}) ${v.digest}\n  ${local.length} files, ${formatBytes(total)}; uploaded ${formatBytes(uploadedBytes)}${resumed ? ' (resumed)' : ''}\n`,
    );
  }
}

/**
 * Whether to ask the server for staging files: it is on this host (a loopback URL), unless
 * STEWARD_UPLOAD_STAGING=off sends every byte over HTTP.
 */
export function stagingWanted(url: string): boolean {
  return env('STEWARD_UPLOAD_STAGING') !== 'off' && localApiBase(`${url}/api/v1/`) !== null;
}

/** Finalises; on a 409 listing missing blobs returns them instead of failing. */
async function finalizeOrMissing(client: StewardClient, kind: AssetKind, name: string, version: string): Promise<string[]> {
  try {
    await client.finalizeVersion(kind, name, version);
    return [];
  } catch (err) {
    if (err instanceof StewardApiError && err.code === 'conflict' && Array.isArray(err.details.missing)) return err.details.missing as string[];
    throw err;
  }
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function registerPush(program: Command, globals: () => GlobalOptions): void {
  program
    .command('push')
    .description('Upload a directory as a new version: hashes locally, sends only the blobs the server lacks, then finalises')
    .argument('<dir>', 'directory holding the model files')
    .requiredOption('--model <name>', 'model name, "name" or "namespace/name"')
    .requiredOption('--version <semver>', 'version to create, e.g. 1.0.0 (v1.0.0 is accepted)')
    .option('--meta <file>', 'JSON file of metadata (architecture, parameters, accuracy_score, …)')
    .option('--card <file>', 'markdown model card')
    .option('--parent <name:version>', 'the version this one derives from')
    .option('--base-model <ref>', 'base model: NAME:VERSION in this registry, or an external id')
    .option('--dataset <name:version>', 'dataset version used (repeatable)', collect)
    .option('--label <key=value>', 'label (repeatable)', collect)
    .option('--description <text>', 'description, when the model is created by this push')
    .option('--json', 'print the version as JSON')
    .option('--no-progress', 'no progress bars')
    .addHelpText('after', '\nExamples:\n  steward push ./llama-3-8b --model meta-llama/Llama-3-8B --version 1.0.0 --meta meta.json --label team=nlp\n  steward push ./ft --model acme/support-bot --version 1.1.0 --parent acme/support-bot:1.0.0\n\nAn interrupted push resumes when run again with the same arguments. Towards a server on this host, large files are\nwritten straight into the server\'s staging files instead of going over HTTP (STEWARD_UPLOAD_STAGING=off: over HTTP).')
    .action(async (dir: string, o: PushOptions & GlobalOptions) => runPush(dir, o, { ...globals(), ...pickGlobals(o) }));
}

export function pickGlobals(o: GlobalOptions): GlobalOptions {
  return { ...(o.json !== undefined ? { json: o.json } : {}), ...(o.progress !== undefined ? { progress: o.progress } : {}) };
}

/**
 * `steward push DIR`: hash locally, send the manifest, upload only the blobs the server lacks
 * (large ones through resumable sessions), then finalise. Re-running an interrupted push
 * resumes it: the pending version is reused and each session continues from the server's offset.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { AssetKind, CreateVersionBody, VersionResponse } from '../../contracts/assets.js';
import { StewardApiError, type StewardClient } from '../../sdk/client.js';
import { cacheDir, clientFor, formatBytes, printJson, wantsProgress, type GlobalOptions } from '../cli-context.js';
import { byteProgress, type ByteProgress } from '../progress.js';
import { eachLimit, HashCache, hashAll, listFiles, type LocalFile } from '../push-fns.js';
import { parseLabels, UsageError } from '../cli-errors.js';

/** Files above this go through resumable sessions: an interruption then costs at most one chunk. */
const SESSION_THRESHOLD = 64 * 1024 * 1024;
/** Chunk size of a session: big enough that per-request overhead vanishes, small enough to resume cheaply. */
const CHUNK_BYTES = 256 * 1024 * 1024;
/** Parallel uploads of small files; large files go one chunk stream at a time each. */
const UPLOAD_CONCURRENCY = 4;

interface PushOptions {
  model?: string;
  dataset?: string[];
  name?: string;
  kind?: AssetKind;
  version: string;
  meta?: string;
  card?: string;
  parent?: string;
  baseModel?: string;
  label?: string[];
  description?: string;
}

class SessionMemory {
  private map: Record<string, string>;
  constructor(private readonly file: string) {
    try {
      this.map = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
    } catch {
      this.map = {};
    }
  }
  get = (k: string) => this.map[k];
  set(k: string, id: string | undefined) {
    if (id) this.map[k] = id;
    else delete this.map[k];
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    fs.writeFileSync(this.file, JSON.stringify(this.map));
  }
}

function counted(abs: string, start: number, end: number, bar: ByteProgress): AsyncIterable<Uint8Array> {
  return (async function* () {
    for await (const chunk of fs.createReadStream(abs, { start, end: end - 1, highWaterMark: 4 << 20 })) {
      bar.add((chunk as Buffer).length);
      yield chunk as Buffer;
    }
  })();
}

async function uploadOne(client: StewardClient, f: LocalFile, bar: ByteProgress, sessions: SessionMemory): Promise<void> {
  if (f.size <= SESSION_THRESHOLD) {
    await client.putBlob(f.sha256, counted(f.abs, 0, f.size, bar), f.size);
    return;
  }
  const key = `${client.url}|${f.sha256}`;
  let session = null;
  const known = sessions.get(key);
  if (known) {
    session = await client.getUpload(known).catch((err: unknown) => {
      if (err instanceof StewardApiError && err.code === 'not_found') return null;
      throw err;
    });
  }
  session ??= await client.createUpload(f.sha256, f.size);
  if (session.complete) {
    bar.add(f.size);
    return;
  }
  sessions.set(key, session.id);
  let offset = session.offset;
  bar.add(offset);
  const chunk = Math.min(CHUNK_BYTES, session.maxChunkBytes);
  while (offset < f.size) {
    const end = Math.min(offset + chunk, f.size);
    try {
      offset = (await client.appendUpload(session.id, offset, counted(f.abs, offset, end, bar), end - offset)).offset;
    } catch (err) {
      // Another writer or an earlier attempt moved the session: continue from where the server is.
      if (err instanceof StewardApiError && err.code === 'conflict' && typeof err.details.offset === 'number') offset = err.details.offset;
      else throw err;
    }
  }
  await client.completeUpload(session.id);
  sessions.set(key, undefined);
}

function sameManifest(v: VersionResponse, local: LocalFile[]): boolean {
  const remote = new Map((v.files ?? []).map((f) => [f.path, `${f.sha256}:${f.size}`]));
  return remote.size === local.length && local.every((f) => remote.get(f.path) === `${f.sha256}:${f.size}`);
}

export async function runPush(dir: string, o: PushOptions, g: GlobalOptions): Promise<void> {
  const kind: AssetKind = o.kind ?? 'model';
  const name = o.name ?? o.model;
  if (!name) throw new UsageError('name the asset: --model NAME');
  const metadata = o.meta ? (JSON.parse(fs.readFileSync(o.meta, 'utf8')) as Record<string, unknown>) : undefined;
  const card = o.card ? fs.readFileSync(o.card, 'utf8') : undefined;
  const labels = parseLabels(o.label ?? []);
  const client = clientFor(g);
  const progress = wantsProgress(g);

  const listed = await listFiles(dir);
  const total = listed.reduce((s, f) => s + f.size, 0);
  const cache = new HashCache(path.join(cacheDir(), 'hashes.json'));
  const hashBar = byteProgress('hashing', total, progress);
  const local = await hashAll(listed, cache, (n) => hashBar.add(n));
  hashBar.stop();
  cache.save();

  await client.createAsset(kind, { name, ...(o.description ? { description: o.description } : {}) }).catch((err: unknown) => {
    if (!(err instanceof StewardApiError && err.code === 'conflict')) throw err;
  });

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
    if (!(err instanceof StewardApiError && err.code === 'conflict' && err.details.version)) throw err;
    const existing = await client.getVersion(kind, name, String(err.details.version), { files: true });
    if (!sameManifest(existing, local)) throw new StewardApiError(409, 'conflict', `${name}:${existing.version} already exists with different files; pick a new version`, { version: existing.version });
    if (existing.state !== 'pending') {
      if (g.json) printJson(existing);
      else process.stdout.write(`${name}:${existing.version} is already ${existing.state} with these files (${existing.digest})\n`);
      return;
    }
    resumed = true;
    missing = await finalizeOrMissing(client, kind, name, existing.version);
  }

  const sessions = new SessionMemory(path.join(cacheDir(), 'uploads.json'));
  let uploadedBytes = 0;
  for (let attempt = 0; ; attempt++) {
    if (attempt === 3) throw new StewardApiError(409, 'conflict', `${missing.length} blob(s) are still missing after 3 attempts`, { missing });
    const want = new Set(missing);
    const todo = local.filter((f) => want.delete(f.sha256));
    const bytes = todo.reduce((s, f) => s + f.size, 0);
    uploadedBytes += bytes;
    const bar = byteProgress('uploading', bytes, progress);
    const large = todo.filter((f) => f.size > SESSION_THRESHOLD);
    const small = todo.filter((f) => f.size <= SESSION_THRESHOLD);
    await Promise.all([eachLimit(large, 2, (f) => uploadOne(client, f, bar, sessions)), eachLimit(small, UPLOAD_CONCURRENCY, (f) => uploadOne(client, f, bar, sessions))]);
    bar.stop();
    // Finalising reports anything still missing (e.g. collected meanwhile); upload that and retry.
    missing = await finalizeOrMissing(client, kind, name, body.version);
    if (!missing.length) break;
  }

  const v = await client.getVersion(kind, name, body.version, { files: false });
  if (g.json) printJson({ ...v, uploadedBytes, resumed });
  else {
    process.stdout.write(
      `pushed ${name}:${v.version} (${v.state}) ${v.digest}\n  ${local.length} files, ${formatBytes(total)}; uploaded ${formatBytes(uploadedBytes)}${resumed ? ' (resumed)' : ''}\n`,
    );
  }
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
    .addHelpText('after', '\nExamples:\n  steward push ./llama-3-8b --model meta-llama/Llama-3-8B --version 1.0.0 --meta meta.json --label team=nlp\n  steward push ./ft --model acme/support-bot --version 1.1.0 --parent acme/support-bot:1.0.0\n\nAn interrupted push resumes when run again with the same arguments.')
    .action(async (dir: string, o: PushOptions & GlobalOptions) => runPush(dir, o, { ...globals(), ...pickGlobals(o) }));
}

export function pickGlobals(o: GlobalOptions): GlobalOptions {
  return { ...(o.json !== undefined ? { json: o.json } : {}), ...(o.progress !== undefined ? { progress: o.progress } : {}) };
}

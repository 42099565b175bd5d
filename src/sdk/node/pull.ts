/**
 * Pulling a version into a directory, verifying every sha256. A partial file
 * (`<file>.steward-partial`) left by an interrupted pull is resumed with a Range request;
 * files already present with the right hash are not downloaded again. Progress goes to a
 * callback; nothing is printed.
 */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { AssetKind, ManifestFile, VersionResponse } from '../../contracts/assets.js';
import { StewardApiError, type StewardClient } from '../client.js';
import { globMatcher } from './glob.js';
import { eachLimit } from './push-files.js';

/** Files downloaded at once. */
const CONCURRENCY = 4;

export interface PullOptions {
  client: StewardClient;
  kind: AssetKind;
  name: string;
  /** A version or an alias. */
  ref: string;
  /** Target directory; default `./<name's last part>-<version>`. */
  outDir?: string | undefined;
  /** Only the files matching one of these globs (glob.ts); all files when absent or empty. */
  include?: readonly string[] | undefined;
  /** Told of the version and the bytes to fetch before any byte, then of each byte verified or found present. */
  onProgress?: (e: { type: 'version'; version: VersionResponse; bytes: number } | { type: 'bytes'; bytes: number }) => void;
}

export interface PullResult {
  version: VersionResponse;
  /** The files pulled: every file of the version, or those `include` selected. */
  files: ManifestFile[];
  directory: string;
  downloaded: number;
  resumed: number;
  skipped: number;
}

async function hashFile(file: string, h: Hash): Promise<void> {
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 << 20 })) h.update(chunk as Buffer);
}

async function fetchFile(o: PullOptions, version: string, f: ManifestFile, target: string, onBytes: (n: number) => void): Promise<'skipped' | 'downloaded' | 'resumed'> {
  await fsp.mkdir(path.dirname(target), { recursive: true });
  if ((await fsp.stat(target).catch(() => null))?.size === f.size) {
    const h = createHash('sha256');
    await hashFile(target, h);
    if (h.digest('hex') === f.sha256) {
      onBytes(f.size);
      return 'skipped';
    }
  }
  const partial = `${target}.steward-partial`;
  let have = (await fsp.stat(partial).catch(() => null))?.size ?? 0;
  if (have > f.size) have = 0;
  const res = await o.client.downloadFile(o.kind, o.name, version, f.path, have > 0 ? { start: have, ifRange: `"${f.sha256}"` } : {});
  // Anything but a 206 is the whole file: start over.
  const resumed = have > 0 && res.status === 206;
  const hash = createHash('sha256');
  if (resumed) {
    await hashFile(partial, hash);
    onBytes(have);
  }
  const out = fs.createWriteStream(partial, { flags: resumed ? 'a' : 'w', highWaterMark: 4 << 20 });
  try {
    for await (const chunk of (res.body ?? []) as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      onBytes(chunk.length);
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
  } finally {
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
  const got = hash.digest('hex');
  const size = (await fsp.stat(partial)).size;
  if (got !== f.sha256 || size !== f.size) {
    await fsp.rm(partial, { force: true });
    throw new StewardApiError(0, 'unprocessable', `${f.path}: downloaded bytes do not match the manifest (sha256 ${got}, ${size} bytes; expected ${f.sha256}, ${f.size} bytes)`);
  }
  await fsp.rename(partial, target);
  return resumed ? 'resumed' : 'downloaded';
}

export async function pullVersion(o: PullOptions): Promise<PullResult> {
  const emit = o.onProgress ?? (() => undefined);
  const version = await o.client.getVersion(o.kind, o.name, o.ref, { files: true });
  const all = version.files ?? [];
  const files = o.include?.length ? all.filter((f) => globMatcher(o.include!)(f.path)) : all;
  if (o.include?.length && !files.length) {
    const some = all.slice(0, 10).map((f) => f.path).join(', ');
    throw new StewardApiError(0, 'not_found', `no file of ${o.name}:${version.version} matches ${o.include.map((p) => JSON.stringify(p)).join(' or ')}; it has ${all.length} file(s)${some ? `: ${some}${all.length > 10 ? ', …' : ''}` : ''}`, { include: [...o.include] });
  }
  emit({ type: 'version', version, bytes: files.reduce((n, f) => n + f.size, 0) });
  const directory = path.resolve(o.outDir ?? `${o.name.split('/').pop()}-${version.version}`);
  const counts = { downloaded: 0, resumed: 0, skipped: 0 };
  await eachLimit(files, CONCURRENCY, async (f) => {
    const target = path.resolve(directory, f.path);
    if (!target.startsWith(directory + path.sep)) throw new StewardApiError(0, 'invalid_argument', `refusing to write ${f.path} outside ${directory}`);
    counts[await fetchFile(o, version.version, f, target, (bytes) => emit({ type: 'bytes', bytes }))]++;
  });
  return { version, files, directory, ...counts };
}

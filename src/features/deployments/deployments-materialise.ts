/**
 * Materialisation: a version's files laid out under a cache directory, as a model server reads
 * them (`<cache>/<digest>/<manifest path>`). One directory per version digest, shared by every
 * deployment of that version.
 *
 * - From the filesystem store, files are hard links to the blobs (a reflink, then a copy, when
 *   the cache is on another filesystem): no bytes are copied, so a 2 GB version costs a few
 *   system calls. The store verified each blob against its sha256 when it was written; a link is
 *   checked by size only (re-hashing gigabytes would cost seconds), unless `verify: 'full'`.
 * - From S3 (or when a link is impossible), each file is streamed through sha256 and kept only if
 *   it matches: a mismatch fails the whole materialisation and leaves nothing behind.
 * - Concurrency: the tree is built in a private temporary directory and renamed into place; the
 *   rename is atomic, so a reader sees either no directory or a complete one, and when two builders
 *   race the loser discards its copy and uses the winner's.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { filePathProblem } from '../../contracts/asset-names.js';
import type { BlobStore } from '../../platform/blob/blob-store.js';
import { AppError } from '../../platform/errors.js';

export interface MaterialiseFile {
  path: string;
  size: number;
  sha256: string;
}

export interface MaterialiseResult {
  dir: string;
  /** False when the directory was there already (another deployment of the version made it). */
  created: boolean;
  /** How each file got there: links cost nothing, copies and downloads cost their bytes. */
  linked: number;
  copied: number;
}

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

async function exists(p: string): Promise<boolean> {
  return fsp.stat(p).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    },
  );
}

/** Streams `source` into `dest` through sha256, refusing a file whose bytes are not what the manifest says. */
async function writeVerified(source: NodeJS.ReadableStream, dest: string, f: MaterialiseFile, mode: number): Promise<void> {
  const h = createHash('sha256');
  let n = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      n += chunk.length;
      cb(null, chunk);
    },
  });
  await pipeline(source, tap, fs.createWriteStream(dest, { flags: 'wx', mode }));
  const got = h.digest('hex');
  if (got !== f.sha256 || n !== f.size) {
    throw new AppError('unprocessable', `${f.path} failed its hash check while materialising: expected sha256 ${f.sha256} (${f.size} bytes), got ${got} (${n} bytes); the blob store holds corrupt bytes`, {
      path: f.path,
      expected: f.sha256,
      actual: got,
    });
  }
}

async function hashFile(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(fs.createReadStream(file), h);
  return h.digest('hex');
}

/** Lays out one file: a hard link, else a reflink, else a verified copy or download. */
async function placeFile(store: BlobStore, f: MaterialiseFile, dest: string, verify: 'size' | 'full', mode: number): Promise<'linked' | 'copied'> {
  const local = store.localPath ? await store.localPath(f.sha256) : null;
  if (local) {
    const st = await fsp.stat(local);
    if (st.size !== f.size) {
      throw new AppError('unprocessable', `${f.path} failed its size check while materialising: the blob holds ${st.size} bytes, the manifest says ${f.size}`, { path: f.path });
    }
    try {
      await fsp.link(local, dest);
      if (verify === 'full' && (await hashFile(dest)) !== f.sha256) {
        throw new AppError('unprocessable', `${f.path} failed its hash check while materialising: the stored blob ${f.sha256} is corrupt`, { path: f.path });
      }
      return 'linked';
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK') throw err;
    }
    try {
      await fsp.copyFile(local, dest, fs.constants.COPYFILE_FICLONE_FORCE);
      if (verify === 'full' && (await hashFile(dest)) !== f.sha256) {
        throw new AppError('unprocessable', `${f.path} failed its hash check while materialising: the stored blob ${f.sha256} is corrupt`, { path: f.path });
      }
      return 'linked';
    } catch (err) {
      if (err instanceof AppError) throw err;
      // No reflinks here: a real copy, hashed on the way.
      await writeVerified(fs.createReadStream(local), dest, f, mode);
      return 'copied';
    }
  }
  await writeVerified(await store.get(f.sha256), dest, f, mode);
  return 'copied';
}

/**
 * Makes `<cacheRoot>/<digest hex>` hold exactly `files` (of the version whose manifest digest is
 * `digest`), or finds it made already. Throws without leaving anything behind when a blob is
 * missing or corrupt.
 */
export async function materialise(opts: {
  store: BlobStore;
  cacheRoot: string;
  digest: string;
  files: readonly MaterialiseFile[];
  /** 'full' re-hashes linked files too (slow for large versions). */
  verify?: 'size' | 'full';
  /** File mode of copies (links keep the blob's); default 0o600. */
  fileMode?: number;
}): Promise<MaterialiseResult> {
  if (!DIGEST_RE.test(opts.digest)) throw new AppError('invalid_argument', `version digest ${JSON.stringify(opts.digest)} is not sha256:<64 hex>`);
  const dir = path.join(opts.cacheRoot, opts.digest.slice('sha256:'.length));
  if (await exists(dir)) return { dir, created: false, linked: 0, copied: 0 };
  await fsp.mkdir(opts.cacheRoot, { recursive: true, mode: 0o700 });
  const tmp = path.join(opts.cacheRoot, `.tmp-${randomUUID()}`);
  await fsp.mkdir(tmp, { mode: 0o700 });
  let linked = 0;
  let copied = 0;
  try {
    for (const f of opts.files) {
      const problem = filePathProblem(f.path);
      if (problem) throw new AppError('invalid_argument', `manifest path ${JSON.stringify(f.path)} ${problem}`, { path: f.path });
      const dest = path.join(tmp, f.path);
      await fsp.mkdir(path.dirname(dest), { recursive: true, mode: 0o700 });
      if ((await placeFile(opts.store, f, dest, opts.verify ?? 'size', opts.fileMode ?? 0o600)) === 'linked') linked++;
      else copied++;
    }
    try {
      await fsp.rename(tmp, dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Another builder renamed its complete copy first: use it.
      if (code === 'ENOTEMPTY' || code === 'EEXIST') {
        await fsp.rm(tmp, { recursive: true, force: true });
        return { dir, created: false, linked: 0, copied: 0 };
      }
      throw err;
    }
    return { dir, created: true, linked, copied };
  } catch (err) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

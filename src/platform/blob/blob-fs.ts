/**
 * Filesystem blob store: content-addressed files under `root/sha256/ab/<hex>`.
 *
 * Writes go to `root/tmp/<random>`, are fsynced, then renamed into place: rename is atomic on
 * one filesystem, so a crash never leaves a partial blob under its final name. Upload sessions
 * append to `root/uploads/<id>`; the running hash of a live session is kept in memory so
 * completion costs no second read, and is rebuilt from the file after a restart.
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../errors.js';
import type { BlobStore, ByteRange, PutResult } from './blob-store.js';
import { assertSessionId, HashingCounter, mismatchError } from './blob-fns.js';
import { SHA256_RE } from './blob-store.js';

interface LiveSession {
  hash: Hash;
  offset: number;
  /** One append at a time per session; a second concurrent append is a conflict. */
  busy: boolean;
}

export function createFsBlobStore(opts: { root: string }): BlobStore {
  const root = path.resolve(opts.root);
  const tmpDir = path.join(root, 'tmp');
  const uploadsDir = path.join(root, 'uploads');
  fs.mkdirSync(tmpDir, { recursive: true });
  fs.mkdirSync(uploadsDir, { recursive: true });
  const live = new Map<string, LiveSession>();

  const blobPath = (sha: string) => {
    if (!SHA256_RE.test(sha)) throw new AppError('invalid_argument', `invalid sha256 ${JSON.stringify(sha)}`);
    return path.join(root, 'sha256', sha.slice(0, 2), sha);
  };
  const sessionPath = (id: string) => {
    assertSessionId(id);
    return path.join(uploadsDir, id);
  };

  async function fsyncFile(file: string): Promise<void> {
    const fh = await fsp.open(file, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /** Moves a verified temp file to its final name; an existing blob with the same hash wins. */
  async function install(tmp: string, sha: string): Promise<boolean> {
    const final = blobPath(sha);
    await fsp.mkdir(path.dirname(final), { recursive: true });
    try {
      await fsp.access(final);
      await fsp.rm(tmp, { force: true });
      return false;
    } catch {
      await fsp.rename(tmp, final);
      return true;
    }
  }

  async function stat(sha: string): Promise<{ size: number } | null> {
    try {
      const st = await fsp.stat(blobPath(sha));
      return { size: st.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async function put(sha: string, source: Readable, o: { size?: number | undefined } = {}): Promise<PutResult> {
    blobPath(sha);
    const tmp = path.join(tmpDir, randomUUID());
    const counter = new HashingCounter(o.size ?? Number.MAX_SAFE_INTEGER);
    try {
      await pipeline(source, counter, fs.createWriteStream(tmp, { highWaterMark: 1 << 20 }));
      const actual = counter.hash.digest('hex');
      if (actual !== sha || (o.size !== undefined && counter.bytes !== o.size)) {
        throw mismatchError(sha, actual, counter.bytes, o.size);
      }
      await fsyncFile(tmp);
      const created = await install(tmp, sha);
      return { size: counter.bytes, created };
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
  }

  async function get(sha: string, range?: ByteRange): Promise<Readable> {
    const file = blobPath(sha);
    try {
      // Opening first turns a missing blob into a clean 404 before any byte is sent.
      const fh = await fsp.open(file, 'r');
      return fh.createReadStream({ start: range?.start, end: range?.end, highWaterMark: 1 << 20, autoClose: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError('not_found', `blob ${sha} not found`, { sha256: sha });
      throw err;
    }
  }

  async function remove(sha: string): Promise<void> {
    await fsp.rm(blobPath(sha), { force: true });
  }

  async function sessionOffset(id: string): Promise<number> {
    try {
      return (await fsp.stat(sessionPath(id))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
  }

  /** The running hash of a session, rebuilt by reading its file when this process did not see it grow. */
  async function liveSession(id: string): Promise<LiveSession> {
    const onDisk = await sessionOffset(id);
    const known = live.get(id);
    if (known && known.offset === onDisk) return known;
    if (known?.busy) return known;
    const hash = createHash('sha256');
    if (onDisk > 0) {
      for await (const chunk of fs.createReadStream(sessionPath(id), { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
    }
    const s: LiveSession = { hash, offset: onDisk, busy: false };
    live.set(id, s);
    return s;
  }

  async function sessionAppend(id: string, offset: number, source: Readable, o: { maxBytes: number }): Promise<number> {
    const file = sessionPath(id);
    const s = await liveSession(id);
    if (s.busy) throw new AppError('conflict', `upload session ${id} is receiving another chunk`, { offset: s.offset });
    if (offset !== s.offset) {
      source.resume();
      throw new AppError('conflict', `upload session ${id} holds ${s.offset} bytes, not ${offset}`, { offset: s.offset });
    }
    s.busy = true;
    // Hash into a copy: if the chunk fails midway the file keeps a prefix of it, and the next
    // append rebuilds the hash from the file rather than trusting a hash of bytes not written.
    const counter = new HashingCounter(o.maxBytes, s.hash.copy(), (l) =>
      new AppError('too_large', `a chunk may carry at most ${l} bytes`, { maxBytes: l }),
    );
    const out = fs.createWriteStream(file, { flags: 'a', highWaterMark: 1 << 20 });
    try {
      await pipeline(source, counter, out);
      await fsyncFile(file);
      s.hash = counter.hash;
      s.offset += counter.bytes;
      return s.offset;
    } catch (err) {
      live.delete(id);
      throw err;
    } finally {
      s.busy = false;
    }
  }

  async function sessionComplete(id: string, sha: string, size: number): Promise<PutResult> {
    blobPath(sha);
    const file = sessionPath(id);
    const s = await liveSession(id);
    if (s.busy) throw new AppError('conflict', `upload session ${id} is still receiving a chunk`, { offset: s.offset });
    live.delete(id);
    const actual = s.hash.copy().digest('hex');
    if (actual !== sha || s.offset !== size) {
      await fsp.rm(file, { force: true });
      throw mismatchError(sha, actual, s.offset, size);
    }
    const tmp = path.join(tmpDir, randomUUID());
    await fsp.rename(file, tmp);
    return { size, created: await install(tmp, sha) };
  }

  async function sessionAbort(id: string): Promise<void> {
    live.delete(id);
    await fsp.rm(sessionPath(id), { force: true });
  }

  async function ping(): Promise<void> {
    await fsp.access(root, fs.constants.R_OK | fs.constants.W_OK);
  }

  return {
    kind: 'fs',
    stat,
    put,
    get,
    delete: remove,
    sessionOffset,
    sessionAppend,
    sessionComplete,
    sessionAbort,
    ping,
    close: async () => {
      live.clear();
    },
  };
}

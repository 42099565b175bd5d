/**
 * Filesystem blob store: content-addressed files under `root/sha256/ab/<hex>`.
 *
 * A put streams into `root/tmp/<random>` while hashing, fsyncs, and renames into place: rename
 * is atomic on one filesystem, so a crash never leaves a partial blob under its final name.
 *
 * An upload session appends to `root/uploads/<id>` and keeps a running hash in memory, so
 * completion costs no second read. After a restart (or a failed append, whose bytes the file
 * may hold in part) the running hash is rebuilt from the file. Every operation on one session
 * runs in turn (`serial`): a rebuild never reads while an append writes, and two appends never
 * interleave; a second append at the same offset then finds the offset moved (409).
 *
 * Hashing runs on the event loop, one socket chunk at a time: other requests are served between
 * chunks (docs/architecture.md has the measurement that kept it off a worker thread).
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { finished, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../errors.js';
import { assertSessionId, HashingCounter, mismatchError } from './blob-fns.js';
import type { BlobStore, ByteRange, PutResult } from './blob-store.js';
import { SHA256_RE } from './blob-store.js';

/** Write buffer: fewer, larger writes; the stream default of 16 KiB costs throughput at GB/s. */
const WRITE_BUFFER_BYTES = 1 << 20;
/**
 * Written bytes after which the file starts flushing to disk in the background. Without it a
 * large blob's whole writeback waits for the fsync at its end (the kernel starts writing back on
 * its own only past gigabytes), and the upload's answer waits with it.
 */
const FLUSH_EVERY_BYTES = 32 * 1024 * 1024;

/** Writes a file from `start` on, flushing as it goes (FLUSH_EVERY_BYTES) and fsyncing it at the end. */
class FileSink extends Writable {
  private fh: FileHandle | null = null;
  private unflushed = 0;
  private flushing: Promise<void> | null = null;
  private flushError: Error | null = null;

  constructor(
    private readonly file: string,
    private readonly flags: string,
    private pos: number,
  ) {
    super({ highWaterMark: WRITE_BUFFER_BYTES });
  }

  override _construct(cb: (err?: Error | null) => void): void {
    fsp.open(this.file, this.flags, 0o644).then((fh) => {
      this.fh = fh;
      cb();
    }, cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    if (this.flushError) return cb(this.flushError);
    const fh = this.fh!;
    fh.writev(chunks.map((c) => c.chunk), this.pos).then(({ bytesWritten }) => {
      this.pos += bytesWritten;
      this.unflushed += bytesWritten;
      if (this.unflushed >= FLUSH_EVERY_BYTES && !this.flushing) {
        this.unflushed = 0;
        this.flushing = fh.datasync().then(
          () => void (this.flushing = null),
          (err: Error) => void ((this.flushing = null), (this.flushError = err)),
        );
      }
      cb();
    }, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    Promise.resolve(this.flushing)
      .then(() => {
        if (this.flushError) throw this.flushError;
        return this.fh!.sync();
      })
      .then(() => cb(), cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // Never close the handle under a flush in flight.
    Promise.resolve(this.flushing)
      .then(() => this.fh?.close())
      .then(() => cb(err), () => cb(err));
  }
}

const tooLargeChunk = (l: number) => new AppError('too_large', `a chunk may carry at most ${l} bytes`, { maxBytes: l });

/**
 * Streams `source` into `file` at `start` through `counter` (which hashes and counts), then
 * fsyncs it. On failure a body that arrived in full is only drained, so the error reply still
 * reaches the client; an unfinished one is destroyed.
 */
async function writeSynced(source: Readable, counter: HashingCounter, file: string, start: number, flags: string): Promise<void> {
  const out = new FileSink(file, flags, start);
  const unwatch = finished(source, (err) => {
    if (err) counter.destroy(err);
  });
  source.pipe(counter);
  try {
    await pipeline(counter, out);
  } catch (err) {
    source.unpipe(counter);
    source.resume();
    setImmediate(() => {
      if (!source.readableEnded) source.destroy();
    });
    throw err;
  } finally {
    unwatch();
  }
}

export function createFsBlobStore(opts: { root: string }): BlobStore {
  const root = path.resolve(opts.root);
  const tmpDir = path.join(root, 'tmp');
  const uploadsDir = path.join(root, 'uploads');
  fs.mkdirSync(tmpDir, { recursive: true });
  fs.mkdirSync(uploadsDir, { recursive: true });
  /** Running hashes of sessions this process saw grow, with the bytes they cover. */
  const live = new Map<string, { hash: Hash; offset: number }>();
  /** The tail of each session's queue of operations. */
  const queues = new Map<string, Promise<unknown>>();

  const blobPath = (sha: string) => {
    if (!SHA256_RE.test(sha)) throw new AppError('invalid_argument', `invalid sha256 ${JSON.stringify(sha)}`);
    return path.join(root, 'sha256', sha.slice(0, 2), sha);
  };
  const sessionPath = (id: string) => {
    assertSessionId(id);
    return path.join(uploadsDir, id);
  };

  /** Runs `fn` once every earlier operation on session `id` has settled. */
  function serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = queues.get(id) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    queues.set(id, tail);
    void tail.then(() => {
      if (queues.get(id) === tail) queues.delete(id);
    });
    return run;
  }

  /** Moves a verified file to its final name; an existing blob with the same hash wins. */
  async function install(file: string, sha: string): Promise<boolean> {
    const final = blobPath(sha);
    await fsp.mkdir(path.dirname(final), { recursive: true });
    if (fs.existsSync(final)) {
      await fsp.rm(file, { force: true });
      return false;
    }
    await fsp.rename(file, final);
    return true;
  }

  async function fileSize(file: string): Promise<number> {
    return (await fsp.stat(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    }))?.size ?? 0;
  }

  /** The session's running hash: the one in memory if it covers the whole file, else rebuilt by reading the file. Call inside `serial`. */
  async function sessionState(id: string): Promise<{ hash: Hash; offset: number }> {
    const file = sessionPath(id);
    const onDisk = await fileSize(file);
    const known = live.get(id);
    if (known && known.offset === onDisk) return known;
    const hash = createHash('sha256');
    if (onDisk > 0) for await (const chunk of fs.createReadStream(file, { end: onDisk - 1, highWaterMark: WRITE_BUFFER_BYTES })) hash.update(chunk as Buffer);
    const state = { hash, offset: onDisk };
    live.set(id, state);
    return state;
  }

  return {
    kind: 'fs',

    async stat(sha) {
      const size = await fsp.stat(blobPath(sha)).then((st) => st.size, (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      });
      return size === null ? null : { size };
    },

    async put(sha, source, o = {}): Promise<PutResult> {
      blobPath(sha);
      const tmp = path.join(tmpDir, randomUUID());
      const counter = new HashingCounter(o.size ?? Number.MAX_SAFE_INTEGER);
      try {
        await writeSynced(source, counter, tmp, 0, 'wx');
        const actual = counter.hash.digest('hex');
        if (actual !== sha || (o.size !== undefined && counter.bytes !== o.size)) throw mismatchError(sha, actual, counter.bytes, o.size);
        return { size: counter.bytes, created: await install(tmp, sha) };
      } catch (err) {
        await fsp.rm(tmp, { force: true });
        throw err;
      }
    },

    async get(sha, range?: ByteRange) {
      try {
        // Opening first turns a missing blob into a clean 404 before any byte is sent.
        const fh = await fsp.open(blobPath(sha), 'r');
        return fh.createReadStream({ start: range?.start, end: range?.end, highWaterMark: WRITE_BUFFER_BYTES });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError('not_found', `blob ${sha} not found`, { sha256: sha });
        throw err;
      }
    },

    async delete(sha) {
      await fsp.rm(blobPath(sha), { force: true });
    },

    /** Not queued behind an append: during one it may report bytes written and not yet taken in, which the next append's 409 corrects. */
    async sessionOffset(id) {
      return fileSize(sessionPath(id));
    },

    sessionAppend(id, offset, source, o) {
      const file = sessionPath(id);
      return serial(id, async () => {
        const s = await sessionState(id);
        if (offset !== s.offset) {
          source.resume();
          throw new AppError('conflict', `upload session ${id} holds ${s.offset} bytes, not ${offset}`, { offset: s.offset });
        }
        // Hash into a copy: if the chunk fails midway the file keeps some prefix of it, and the
        // next operation rebuilds the hash from the file rather than trusting this one.
        const counter = new HashingCounter(o.maxBytes, s.hash.copy(), tooLargeChunk);
        try {
          await writeSynced(source, counter, file, offset, offset === 0 ? 'w' : 'r+');
        } catch (err) {
          live.delete(id);
          throw err;
        }
        live.set(id, { hash: counter.hash, offset: offset + counter.bytes });
        return offset + counter.bytes;
      });
    },

    sessionComplete(id, sha, size) {
      blobPath(sha);
      const file = sessionPath(id);
      return serial(id, async () => {
        const s = await sessionState(id);
        live.delete(id);
        const actual = s.hash.digest('hex');
        if (actual !== sha || s.offset !== size) {
          await fsp.rm(file, { force: true });
          throw mismatchError(sha, actual, s.offset, size);
        }
        return { size, created: await install(file, sha) };
      });
    },

    sessionAbort(id) {
      const file = sessionPath(id);
      return serial(id, async () => {
        live.delete(id);
        await fsp.rm(file, { force: true });
      });
    },

    async ping() {
      await fsp.access(root, fs.constants.R_OK | fs.constants.W_OK);
    },

    async close() {
      live.clear();
    },
  };
}

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
 *
 * Files and directories get the store's modes (owner only by default, platform/data-dir.ts)
 * whatever the umask. Only Steward writes here, so a symbolic link in place of a session, temp
 * or blob file is someone else's doing: files are opened with O_NOFOLLOW and a link is refused,
 * never followed (an upload cannot be made to write to, or a download to read from, elsewhere).
 * A write that fails (a client gone mid-body) removes its temp file before the store reports it,
 * and `close` waits for writes still cleaning up, so a shutdown never leaves one behind.
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { finished, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDirsAsync, ensureDir, PRIVATE_MODES, type FileModes, type OnTightened } from '../data-dir.js';
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

const { O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_TRUNC, O_WRONLY } = fs.constants;
/** A new temp file; O_EXCL refuses anything already at the name, a link included. */
const NEW_FILE = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;
/** A session's first chunk: the file is created or started again. */
const RESTART_FILE = O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW;
/** A session's later chunks: written at their offset. */
const EXISTING_FILE = O_WRONLY | O_NOFOLLOW;

/** A store file turned out to be a symbolic link (or no regular file): refused, never followed. */
function linkRefused(file: string): AppError {
  return new AppError('internal', `${file} in the blob store is not a regular file (a symbolic link?): refused; only Steward may write there, find who changed it`);
}
const refuseLink = (file: string) => (err: NodeJS.ErrnoException) => {
  throw err.code === 'ELOOP' ? linkRefused(file) : err;
};

/** Writes a file from `start` on, flushing as it goes (FLUSH_EVERY_BYTES) and fsyncing it at the end. */
class FileSink extends Writable {
  private fh: FileHandle | null = null;
  private unflushed = 0;
  private flushing: Promise<void> | null = null;
  private flushError: Error | null = null;

  constructor(
    private readonly file: string,
    private readonly flags: number,
    private readonly mode: number,
    private pos: number,
  ) {
    super({ highWaterMark: WRITE_BUFFER_BYTES });
  }

  override _construct(cb: (err?: Error | null) => void): void {
    fsp
      .open(this.file, this.flags, this.mode)
      .catch(refuseLink(this.file))
      .then(async (fh) => {
        this.fh = fh;
        // open's mode is masked by the umask (and ignored for an existing file): set it exactly.
        await fh.chmod(this.mode);
      })
      .then(() => cb(), cb);
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
async function writeSynced(source: Readable, counter: HashingCounter, file: string, start: number, flags: number, mode: number): Promise<void> {
  const out = new FileSink(file, flags, mode, start);
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

export interface FsBlobStoreOptions {
  root: string;
  /** Modes of what the store writes; owner only by default. */
  modes?: FileModes;
  /** Told when the root (or its tmp/uploads dirs) existed with a mode others could read, and was tightened. */
  onTightened?: OnTightened;
}

export function createFsBlobStore(opts: FsBlobStoreOptions): BlobStore {
  const root = path.resolve(opts.root);
  const modes = opts.modes ?? PRIVATE_MODES;
  const tmpDir = path.join(root, 'tmp');
  const uploadsDir = path.join(root, 'uploads');
  for (const dir of [root, tmpDir, uploadsDir]) ensureDir(dir, modes, opts.onTightened);
  /** Puts in progress, settled only once their temp file is renamed or removed: `close` waits for them. */
  const writing = new Set<Promise<unknown>>();
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

  /** The regular file at `file`, or null when nothing is there; anything else (a link) is refused. */
  async function regularFile(file: string): Promise<fs.Stats | null> {
    const st = await fsp.lstat(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (st && !st.isFile()) throw linkRefused(file);
    return st;
  }

  /**
   * Moves a verified file to its final name; an existing blob with the same hash wins. Something
   * other than a regular file under the final name (a link) is replaced: rename never follows it.
   */
  async function install(file: string, sha: string): Promise<boolean> {
    const final = blobPath(sha);
    await createDirsAsync(path.dirname(final), modes);
    await regularFile(file);
    if ((await fsp.lstat(final).catch(() => null))?.isFile()) {
      await fsp.rm(file, { force: true });
      return false;
    }
    await fsp.rename(file, final);
    return true;
  }

  async function fileSize(file: string): Promise<number> {
    return (await regularFile(file))?.size ?? 0;
  }

  /** The session's running hash: the one in memory if it covers the whole file, else rebuilt by reading the file. Call inside `serial`. */
  async function sessionState(id: string): Promise<{ hash: Hash; offset: number }> {
    const file = sessionPath(id);
    const onDisk = await fileSize(file);
    const known = live.get(id);
    if (known && known.offset === onDisk) return known;
    const hash = createHash('sha256');
    if (onDisk > 0) {
      const fh = await fsp.open(file, O_RDONLY | O_NOFOLLOW).catch(refuseLink(file));
      for await (const chunk of fh.createReadStream({ start: 0, end: onDisk - 1, highWaterMark: WRITE_BUFFER_BYTES })) hash.update(chunk as Buffer);
    }
    const state = { hash, offset: onDisk };
    live.set(id, state);
    return state;
  }

  return {
    kind: 'fs',

    /** A link under a blob's name counts as absent: the blob is then uploaded again and replaces it. */
    async stat(sha) {
      const st = await fsp.lstat(blobPath(sha)).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      });
      return st?.isFile() ? { size: st.size } : null;
    },

    async localPath(sha) {
      const file = blobPath(sha);
      const st = await fsp.lstat(file).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      });
      return st?.isFile() ? file : null;
    },

    async put(sha, source, o = {}): Promise<PutResult> {
      blobPath(sha);
      const tmp = path.join(tmpDir, randomUUID());
      const counter = new HashingCounter(o.size ?? Number.MAX_SAFE_INTEGER);
      const done = (async () => {
        try {
          await writeSynced(source, counter, tmp, 0, NEW_FILE, modes.file);
          const actual = counter.hash.digest('hex');
          if (actual !== sha || (o.size !== undefined && counter.bytes !== o.size)) throw mismatchError(sha, actual, counter.bytes, o.size);
          return { size: counter.bytes, created: await install(tmp, sha) };
        } catch (err) {
          await fsp.rm(tmp, { force: true });
          throw err;
        }
      })();
      writing.add(done);
      void done.then(
        () => writing.delete(done),
        () => writing.delete(done),
      );
      return done;
    },

    async get(sha, range?: ByteRange) {
      const file = blobPath(sha);
      try {
        // Opening first turns a missing blob into a clean 404 before any byte is sent.
        const fh = await fsp.open(file, O_RDONLY | O_NOFOLLOW);
        return fh.createReadStream({ start: range?.start, end: range?.end, highWaterMark: WRITE_BUFFER_BYTES });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError('not_found', `blob ${sha} not found`, { sha256: sha });
        if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw linkRefused(file);
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
          await writeSynced(source, counter, file, offset, offset === 0 ? RESTART_FILE : EXISTING_FILE, modes.file);
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

    /** Waits for writes in flight to settle: a put whose client is gone removes its temp file first. */
    async close() {
      await Promise.allSettled([...writing, ...queues.values()]);
      live.clear();
    },
  };
}

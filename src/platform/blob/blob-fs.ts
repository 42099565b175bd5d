/**
 * Filesystem blob store: content-addressed files under `root/sha256/ab/<hex>`.
 *
 * Writes go to `root/tmp/<random>`, are fsynced, then renamed into place: rename is atomic on
 * one filesystem, so a crash never leaves a partial blob under its final name. Upload sessions
 * append to `root/uploads/<id>`; the running hash of a live session is kept in memory so
 * completion costs no second read, and is rebuilt from the file after a restart.
 *
 * The write path is the server's hot loop (it hashes every pushed byte): one file handle per
 * write, bytes handed to a sink in small batches (blob-fs-sink.ts: straight to the disk with
 * O_DIRECT where the filesystem allows it, else through the page cache), then moved (not
 * copied) to a hashing thread (blob-fs-hash.ts), so the event loop that reads the sockets never
 * hashes and hashing runs beside the reads and the writes. No stream stages between. A blob is
 * verified against the digest of exactly the bytes written.
 *
 * Staging (`staging`, blob-fs-staging.ts): a client on this host may write a session's bytes
 * straight into its file and have the store read back, hash and flush the range it wrote.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import { IncomingMessage } from 'node:http';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { AppError } from '../errors.js';
import type { BlobStore, ByteRange, PutResult } from './blob-store.js';
import { advanceSession, createFsStaging, type LiveSession } from './blob-fs-staging.js';
import { assertSessionId, mismatchError } from './blob-fns.js';
import { SHA256_RE } from './blob-store.js';
import { HASH_BACKLOG_BYTES, HashThread, type RemoteHash } from './blob-fs-hash.js';
import { AlignedPool } from '../aligned-buffers.js';
import { openSink, probeDirectIo, type BlobSink } from './blob-fs-sink.js';

/**
 * Bytes per write: a few socket chunks, so the bytes are still in cache when a pool thread
 * copies them into the page cache and the hashing thread reads them right after (an 8 MiB
 * buffer made a receive-hash-write loop ~1.7× slower on a 2-core machine).
 */
const WRITE_BATCH_BYTES = 256 * 1024;

/**
 * Reads `source` to its end: counts each chunk and hands them to `sink` in batches with one
 * batch in flight (the source pauses while a second batch waits, or while the hashing thread
 * is more than HASH_BACKLOG_BYTES behind). Resolves with the byte count once every batch is
 * written (the sink finished) and posted to the hash. More than `limit` bytes fail with
 * `tooLarge(limit)`; on any failure it rejects only once no write is in flight.
 */
function receive(source: Readable, sink: BlobSink, hash: RemoteHash, limit: number, tooLarge: (limit: number) => Error): Promise<number> {
  // An HTTP request's body chunks are fresh copies the parser made for this stream alone: they
  // can move to the hashing thread. Any other source's chunks may be its caller's own buffers.
  const movable = source instanceof IncomingMessage;
  return new Promise<number>((resolve, reject) => {
    let bytes = 0;
    let batch: Buffer[] = [];
    let batchBytes = 0;
    let writing = false;
    let ended = false;
    let failed: { err: unknown } | null = null;
    let settled = false;

    const settle = () => {
      if (settled) return;
      settled = true;
      // The outcome is decided; a late error from the source has nothing left to fail.
      source.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose).on('error', () => undefined);
      if (!failed) return void sink.finish().then(() => resolve(bytes), reject);
      if (!ended) {
        // As `pipeline` did, an unfinished body is destroyed; but one that already arrived in
        // full only needs draining, and then the error reply still reaches the client.
        source.resume();
        setImmediate(() => {
          if (!source.readableEnded) source.destroy();
        });
      }
      reject(failed.err);
    };
    const fail = (err: unknown) => {
      failed ??= { err };
      source.pause();
      if (!writing) settle();
    };
    const write = () => {
      writing = true;
      const chunks = batch;
      batch = [];
      batchBytes = 0;
      sink.write(chunks, movable).then(
        () => hash.whenBelow(HASH_BACKLOG_BYTES, written),
        (err: unknown) => {
          writing = false;
          fail(err);
        },
      );
    };
    const written = () => {
      writing = false;
      if (failed) return settle();
      if (batch.length && (batchBytes >= WRITE_BATCH_BYTES || ended)) write();
      if (ended) {
        if (!writing) settle();
      } else source.resume();
    };
    const onData = (chunk: Buffer) => {
      if (failed) return;
      bytes += chunk.length;
      if (bytes > limit) return fail(tooLarge(limit));
      batch.push(chunk);
      batchBytes += chunk.length;
      if (batchBytes < WRITE_BATCH_BYTES) return;
      if (writing) source.pause();
      else write();
    };
    const onEnd = () => {
      ended = true;
      if (writing || failed) return;
      if (batch.length) write();
      else settle();
    };
    const onError = (err: Error) => fail(err);
    const onClose = () => {
      if (!ended) fail(new AppError('invalid_argument', 'the request body ended early'));
    };
    source.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/**
 * Aligned buffers for direct writes: two per upload of a blob over 1 MiB, so 16 such uploads
 * write directly at once (more go through the page cache). Made 16 (16 MiB) at a time.
 */
const DIRECT_BUFFERS = 32;

/** `directIo` (default true): write blobs with O_DIRECT where the filesystem allows it (see blob-fs-sink.ts). */
export function createFsBlobStore(opts: { root: string; directIo?: boolean }): BlobStore {
  const root = path.resolve(opts.root);
  const tmpDir = path.join(root, 'tmp');
  const uploadsDir = path.join(root, 'uploads');
  fs.mkdirSync(tmpDir, { recursive: true });
  fs.mkdirSync(uploadsDir, { recursive: true });
  const live = new Map<string, LiveSession>();
  const hasher = new HashThread();
  /** The aligned buffers, once the first write found that direct I/O works here; null: it does not, or is off. */
  let direct: Promise<AlignedPool | null> | null = null;
  const directPool = () =>
    (direct ??= (async () => {
      if (opts.directIo === false) return null;
      const pool = new AlignedPool(DIRECT_BUFFERS);
      return (await probeDirectIo(tmpDir, pool)) ? pool : null;
    })());
  /** Fan-out directories known to exist: a blob's install then costs no mkdir. */
  const dirs = new Set<string>();

  const blobPath = (sha: string) => {
    if (!SHA256_RE.test(sha)) throw new AppError('invalid_argument', `invalid sha256 ${JSON.stringify(sha)}`);
    return path.join(root, 'sha256', sha.slice(0, 2), sha);
  };
  const sessionPath = (id: string) => {
    assertSessionId(id);
    return path.join(uploadsDir, id);
  };

  /** Moves a verified temp file to its final name; an existing blob with the same hash wins. */
  async function install(tmp: string, sha: string): Promise<boolean> {
    const final = blobPath(sha);
    const dir = path.dirname(final);
    if (!dirs.has(dir)) {
      await fsp.mkdir(dir, { recursive: true });
      dirs.add(dir);
    }
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
    const size = o.size ?? Number.MAX_SAFE_INTEGER;
    const hash = hasher.create();
    let fh: FileHandle | null = null;
    let sink: BlobSink | null = null;
    try {
      ({ fh, sink } = await openSink(tmp, 0, hash, await directPool(), { exclusive: true, expected: o.size }));
      const bytes = await receive(source, sink, hash, size, (l) => new AppError('unprocessable', `blob is larger than its declared size of ${l} bytes`, { size: l }));
      const actual = await hash.digest();
      if (actual !== sha || (o.size !== undefined && bytes !== o.size)) throw mismatchError(sha, actual, bytes, o.size);
      await sink.close();
      await fh.sync();
      await fh.close();
      fh = null;
      return { size: bytes, created: await install(tmp, sha) };
    } catch (err) {
      await sink?.close();
      await fh?.close().catch(() => undefined);
      await fsp.rm(tmp, { force: true });
      throw err;
    } finally {
      hash.drop();
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

  /**
   * What this process took in of the session when it holds its state (a staging file may hold
   * more: written, not taken in yet), else the file's size.
   */
  async function sessionOffset(id: string): Promise<number> {
    const known = live.get(id);
    if (known && !known.busy && known.hash.alive) return known.offset;
    return fileSize(id);
  }

  async function fileSize(id: string): Promise<number> {
    try {
      return (await fsp.stat(sessionPath(id))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
  }

  /**
   * The running hash of a session, rebuilt by reading its file when this process did not see it
   * grow (or the hashing thread that held it restarted).
   */
  async function liveSession(id: string): Promise<LiveSession> {
    const onDisk = await fileSize(id);
    const known = live.get(id);
    if (known?.busy) return known;
    if (known && known.offset === onDisk && known.hash.alive) return known;
    const hash = hasher.create();
    try {
      if (onDisk > 0) {
        for await (const chunk of fs.createReadStream(sessionPath(id), { highWaterMark: 1 << 20 })) {
          hash.update([chunk as Buffer], true);
          await new Promise<void>((r) => hash.whenBelow(HASH_BACKLOG_BYTES, r));
        }
      }
    } catch (err) {
      hash.drop();
      throw err;
    }
    const s: LiveSession = { hash, offset: onDisk, busy: false };
    // A concurrent rebuild may have won the race: keep one state, free the other.
    const raced = live.get(id);
    if (raced && raced !== known) {
      hash.drop();
      return raced;
    }
    known?.hash.drop();
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
    const hash = s.hash.copy();
    let fh: FileHandle | null = null;
    let sink: BlobSink | null = null;
    try {
      ({ fh, sink } = await openSink(file, offset, hash, await directPool(), { exclusive: false }));
      const bytes = await receive(source, sink, hash, o.maxBytes, (l) => new AppError('too_large', `a chunk may carry at most ${l} bytes`, { maxBytes: l }));
      await sink.close();
      await fh.sync();
      return advanceSession(live, id, s, hash, bytes);
    } catch (err) {
      hash.drop();
      s.hash.drop();
      if (live.get(id) === s) live.delete(id);
      throw err;
    } finally {
      s.busy = false;
      await sink?.close();
      await fh?.close().catch(() => undefined);
    }
  }

  async function sessionComplete(id: string, sha: string, size: number): Promise<PutResult> {
    blobPath(sha);
    const file = sessionPath(id);
    const s = await liveSession(id);
    if (s.busy) throw new AppError('conflict', `upload session ${id} is still receiving a chunk`, { offset: s.offset });
    live.delete(id);
    let actual: string;
    try {
      actual = await s.hash.digest();
    } finally {
      s.hash.drop();
    }
    if (actual !== sha || s.offset !== size) {
      await fsp.rm(file, { force: true });
      throw mismatchError(sha, actual, s.offset, size);
    }
    const tmp = path.join(tmpDir, randomUUID());
    await fsp.rename(file, tmp);
    return { size, created: await install(tmp, sha) };
  }

  async function sessionAbort(id: string): Promise<void> {
    live.get(id)?.hash.drop();
    live.delete(id);
    await fsp.rm(sessionPath(id), { force: true });
  }

  const staging = createFsStaging({ sessionPath, live, liveSession, fileSize, newHash: () => hasher.create(), directPool });

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
    staging,
    ping,
    close: async () => {
      live.clear();
      await hasher.close();
    },
  };
}

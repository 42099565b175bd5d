/**
 * Filesystem blob store: content-addressed files under `root/sha256/ab/<hex>`.
 *
 * Writes go to `root/tmp/<random>`, are fsynced, then renamed into place: rename is atomic on
 * one filesystem, so a crash never leaves a partial blob under its final name. Upload sessions
 * append to `root/uploads/<id>`; the running hash of a live session is kept in memory so
 * completion costs no second read, and is rebuilt from the file after a restart.
 *
 * The write path is the server's hot loop (it hashes every pushed byte): one file handle per
 * write (written, fsynced and closed without reopening), chunks written in small batches on
 * libuv's pool, then handed (moved, not copied) to a hashing thread, so the event loop that
 * reads the sockets never hashes and hashing runs beside the reads and the writes. No stream
 * stages between. A blob is verified against the digest of exactly the bytes written.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import { IncomingMessage } from 'node:http';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { AppError } from '../errors.js';
import type { BlobStore, ByteRange, PutResult } from './blob-store.js';
import { assertSessionId, mismatchError } from './blob-fns.js';
import { SHA256_RE } from './blob-store.js';

/**
 * Bytes per write: a few socket chunks, so the bytes are still in cache when a pool thread
 * copies them into the page cache and the hashing thread reads them right after (an 8 MiB
 * buffer made a receive-hash-write loop ~1.7× slower on a 2-core machine).
 */
const WRITE_BATCH_BYTES = 256 * 1024;

/**
 * Written bytes after which a write starts flushing them to disk in the background, so the
 * fsync that must precede a blob's use finds little left to do. Without it a large blob's
 * whole writeback waited at its end (~0.3 s per 256 MiB session chunk, the upload stalled
 * meanwhile), because the kernel starts writing back on its own only past gigabytes.
 */
const FLUSH_EVERY_BYTES = 32 * 1024 * 1024;

/**
 * Bytes of one upload that may wait for the hashing thread before its source pauses: bounds
 * memory (a dozen concurrent uploads hold at most this much each) while leaving the thread
 * several batches of work, so it never idles behind a write.
 */
const HASH_BACKLOG_BYTES = 2 * 1024 * 1024;

/**
 * The hashing thread's program, a script rather than a module so that it runs unchanged under
 * the compiled build and under a TypeScript test runner. It keeps sha256 states by id, created
 * on first use (an id never updated is the hash of no bytes). Messages arrive in order, so a
 * `copy` or `digest` sees every `update` posted before it. Each update is acknowledged with
 * its byte count: the main thread's flow control.
 */
const HASHER_SOURCE = `
const { createHash } = require('node:crypto');
const { MessageChannel, parentPort } = require('node:worker_threads');
const hashes = new Map();
// Hashed chunks are freed at once by moving them into a closed port (the move detaches them,
// the closed port drops them), instead of waiting as garbage for this small heap's next full
// collection: up to 64 MB more resident memory.
const sink = new MessageChannel();
sink.port2.close();
const get = (id) => {
  let h = hashes.get(id);
  if (!h) hashes.set(id, (h = createHash('sha256')));
  return h;
};
parentPort.on('message', (m) => {
  if (m.op === 'update') {
    const h = get(m.id);
    let bytes = 0;
    for (const c of m.chunks) {
      h.update(c);
      bytes += c.byteLength;
    }
    sink.port1.postMessage(null, m.chunks.map((c) => c.buffer));
    parentPort.postMessage({ op: 'hashed', id: m.id, bytes });
  } else if (m.op === 'copy') hashes.set(m.id, get(m.from).copy());
  else if (m.op === 'digest') parentPort.postMessage({ op: 'digest', req: m.req, hex: get(m.id).copy().digest('hex') });
  else if (m.op === 'drop') hashes.delete(m.id);
});
`;

type HasherReply = { op: 'hashed'; id: number; bytes: number } | { op: 'digest'; req: number; hex: string };

/**
 * The main thread's side of the hashing thread: started on first use, kept referenced only
 * while it owes an answer (an idle store never keeps a process alive), restarted after a crash.
 * A crash fails every digest it owed and invalidates every state it held (`RemoteHash.alive`).
 */
class HashThread {
  private worker: Worker | null = null;
  private generation = 0;
  private nextId = 1;
  private nextReq = 1;
  /** Answers owed: unacknowledged updates plus pending digests. */
  private owed = 0;
  private readonly digests = new Map<number, { resolve(hex: string): void; reject(err: Error): void }>();
  private readonly hashes = new Map<number, RemoteHash>();

  /** A new, empty hash state; one of a lost `generation` is born lost too. */
  create(generation = this.generation): RemoteHash {
    const h = new RemoteHash(this, this.nextId++, generation);
    if (generation === this.generation) this.hashes.set(h.id, h);
    return h;
  }

  isCurrent(generation: number): boolean {
    return generation === this.generation;
  }

  post(msg: { op: 'update'; id: number; chunks: Uint8Array[] } | { op: 'copy'; id: number; from: number } | { op: 'drop'; id: number }, transfer?: ArrayBuffer[]): void {
    if (msg.op === 'update') this.owe(1);
    this.thread().postMessage(msg, transfer);
  }

  digest(id: number): Promise<string> {
    const req = this.nextReq++;
    return new Promise<string>((resolve, reject) => {
      this.digests.set(req, { resolve, reject });
      this.owe(1);
      this.thread().postMessage({ op: 'digest', id, req });
    });
  }

  forget(id: number): void {
    this.hashes.delete(id);
  }

  async close(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    this.lost(new AppError('unavailable', 'the blob store is closed'));
    await w.terminate();
  }

  /** The worker, started on demand; the generation tells states of an earlier worker apart. */
  private thread(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(HASHER_SOURCE, { eval: true, name: 'steward-blob-hasher' });
    w.unref();
    w.on('message', (m: HasherReply) => {
      if (m.op === 'hashed') {
        this.owe(-1);
        this.hashes.get(m.id)?.hashed(m.bytes);
      } else {
        const d = this.digests.get(m.req);
        this.digests.delete(m.req);
        this.owe(-1);
        d?.resolve(m.hex);
      }
    });
    const fail = (err: Error) => {
      if (this.worker === w) this.lost(new AppError('internal', `the hashing thread failed: ${err.message}`, undefined, { cause: err }));
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`it exited with code ${code}`)));
    this.worker = w;
    return w;
  }

  private owe(n: number): void {
    const before = this.owed;
    this.owed += n;
    if (before === 0 && this.owed > 0) this.worker?.ref();
    else if (before > 0 && this.owed === 0) this.worker?.unref();
  }

  private lost(err: Error): void {
    this.worker = null;
    this.generation++;
    this.owed = 0;
    for (const d of this.digests.values()) d.reject(err);
    this.digests.clear();
    for (const h of this.hashes.values()) h.hashed(Number.POSITIVE_INFINITY);
    this.hashes.clear();
  }
}

/** A sha256 state on the hashing thread. Its chunks are moved there: the caller must not reuse them. */
class RemoteHash {
  /** Bytes posted and not yet hashed. */
  private backlog = 0;
  private waiters: { below: number; resume: () => void }[] = [];

  constructor(
    private readonly thread: HashThread,
    readonly id: number,
    private readonly generation: number,
  ) {}

  /** False once the thread that held this state is gone: its digest can no longer be had. */
  get alive(): boolean {
    return this.thread.isCurrent(this.generation);
  }

  /**
   * Hashes `chunks` next. With `movable`, each chunk that owns its whole ArrayBuffer is moved to
   * the hashing thread without a copy and is empty here afterwards; other chunks are copied.
   */
  update(chunks: readonly Buffer[], movable: boolean): void {
    if (!this.alive) return;
    const send: Uint8Array[] = [];
    const transfer: ArrayBuffer[] = [];
    let copy: Buffer[] = [];
    const flushCopies = () => {
      if (!copy.length) return;
      // One fresh ArrayBuffer for the copies (Buffer.concat may use the shared pool, which cannot move).
      const u = new Uint8Array(copy.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of copy) {
        u.set(c, at);
        at += c.length;
      }
      send.push(u);
      transfer.push(u.buffer);
      copy = [];
    };
    let bytes = 0;
    for (const c of chunks) {
      bytes += c.length;
      const ab = c.buffer;
      if (movable && c.byteOffset === 0 && c.byteLength === ab.byteLength && ab instanceof ArrayBuffer && !transfer.includes(ab)) {
        flushCopies();
        send.push(c);
        transfer.push(ab);
      } else copy.push(c);
    }
    flushCopies();
    if (!bytes) return;
    this.backlog += bytes;
    this.thread.post({ op: 'update', id: this.id, chunks: send }, transfer);
  }

  /** Calls `resume` once fewer than `bytes` bytes wait to be hashed (at once if so already). */
  whenBelow(bytes: number, resume: () => void): void {
    if (this.backlog < bytes || !this.alive) resume();
    else this.waiters.push({ below: bytes, resume });
  }

  /** @internal The thread hashed `bytes` more (Infinity: the thread is gone). */
  hashed(bytes: number): void {
    this.backlog = Math.max(0, this.backlog - bytes);
    if (!this.waiters.length) return;
    const ready = this.waiters.filter((w) => this.backlog < w.below || bytes === Number.POSITIVE_INFINITY);
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resume();
  }

  /** A new state holding the same bytes so far (lost, if this one is). */
  copy(): RemoteHash {
    const h = this.thread.create(this.generation);
    if (this.alive) this.thread.post({ op: 'copy', id: h.id, from: this.id });
    return h;
  }

  /** Hex digest of every byte updated so far; the state stays usable. */
  async digest(): Promise<string> {
    if (!this.alive) throw new AppError('internal', 'the hashing thread restarted: this hash is lost');
    return this.thread.digest(this.id);
  }

  /** Frees the state on the thread. */
  drop(): void {
    this.thread.forget(this.id);
    if (this.alive) this.thread.post({ op: 'drop', id: this.id });
  }
}

/**
 * Reads `source` to its end: counts each chunk and appends it to `fh` in batches with one write
 * in flight, then hands each written batch to `hash` (the source pauses while a second batch
 * waits, or while the hashing thread is more than HASH_BACKLOG_BYTES behind). Resolves with the
 * byte count once every batch is written and posted to `hash`. More than `limit` bytes fail
 * with `tooLarge(limit)`; on any failure it rejects only once no write is in flight.
 */
function receive(source: Readable, fh: FileHandle, hash: RemoteHash, limit: number, tooLarge: (limit: number) => Error): Promise<number> {
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
    /** Bytes written since the last background flush started, and that flush, if running. */
    let unflushed = 0;
    let flushing: Promise<void> | null = null;

    const settle = () => {
      if (settled) return;
      if (flushing) {
        // Never leave a flush running on a handle the caller is about to close.
        void flushing.then(settle);
        return;
      }
      settled = true;
      // The outcome is decided; a late error from the source has nothing left to fail.
      source.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose).on('error', () => undefined);
      if (!failed) return resolve(bytes);
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
      fh.writev(chunks).then(
        (res) => {
          // Written: the bytes go to the hashing thread (moved when they are the socket's own copies).
          if (!failed) hash.update(chunks, movable);
          unflushed += res.bytesWritten;
          if (unflushed >= FLUSH_EVERY_BYTES && !flushing && !failed) {
            unflushed = 0;
            flushing = fh.datasync().then(
              () => {
                flushing = null;
              },
              (err: unknown) => {
                flushing = null;
                fail(err);
              },
            );
          }
          hash.whenBelow(HASH_BACKLOG_BYTES, written);
        },
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

interface LiveSession {
  hash: RemoteHash;
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
  const hasher = new HashThread();
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
    try {
      fh = await fsp.open(tmp, 'wx');
      const bytes = await receive(source, fh, hash, size, (l) => new AppError('unprocessable', `blob is larger than its declared size of ${l} bytes`, { size: l }));
      const actual = await hash.digest();
      if (actual !== sha || (o.size !== undefined && bytes !== o.size)) throw mismatchError(sha, actual, bytes, o.size);
      await fh.sync();
      await fh.close();
      fh = null;
      return { size: bytes, created: await install(tmp, sha) };
    } catch (err) {
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

  async function sessionOffset(id: string): Promise<number> {
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
    const onDisk = await sessionOffset(id);
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
    try {
      fh = await fsp.open(file, 'a');
      const bytes = await receive(source, fh, hash, o.maxBytes, (l) => new AppError('too_large', `a chunk may carry at most ${l} bytes`, { maxBytes: l }));
      await fh.sync();
      s.hash.drop();
      s.hash = hash;
      s.offset += bytes;
      // Aborted meanwhile: nothing will ask for this state again.
      if (live.get(id) !== s) hash.drop();
      return s.offset;
    } catch (err) {
      hash.drop();
      s.hash.drop();
      if (live.get(id) === s) live.delete(id);
      throw err;
    } finally {
      s.busy = false;
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
      await hasher.close();
    },
  };
}

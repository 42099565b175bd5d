/**
 * Steward's one hashing thread (push and anything else that hashes files off the event loop):
 * a push hashes at full speed while the main thread feeds the uploads of what is already hashed
 * (on one thread the two took turns and both went at half speed). The module is both sides:
 * imported, it exports `HashWorker`; started as the worker (this same file, loaded by its URL),
 * it hashes the files it is sent, one at a time, in order, and reports bytes as it reads them.
 *
 * It also hashes byte streams (`HashWorker.stream()`): the buffers an upload has just written
 * to its socket are moved here, hashed, and moved back for the next read, so a file sent in one
 * pass is read once for both (see upload-queue.ts).
 */
import { createHash, type Hash } from 'node:crypto';
import fsp from 'node:fs/promises';
import { parentPort, Worker, workerData } from 'node:worker_threads';

type Job =
  | { kind: 'file'; id: number; abs: string }
  /** A stream's state; `prefix` bytes of `abs` first (a resumed upload's bytes already sent). */
  | { kind: 'open'; id: number; abs: string; prefix: number }
  | { kind: 'update'; id: number; buf: Uint8Array; length: number }
  | { kind: 'digest'; id: number }
  | { kind: 'drop'; id: number };
type Reply =
  | { id: number; bytes: number }
  | { id: number; sha256: string }
  | { id: number; error: string; code?: string }
  | { id: number; buf: Uint8Array };

/** Bytes per read while hashing: 1 MiB keeps each block in cache between the read and the hash. */
const HASH_READ_BYTES = 1 << 20;

/**
 * Hashes files through two buffers it keeps: the next block is read (on libuv's pool) while
 * this one is hashed, and nothing is allocated per block. A read stream allocates a buffer per
 * chunk and hashed at about half of `openssl dgst`'s speed; this matches it.
 */
export class FileHasher {
  private readonly bufs = [Buffer.allocUnsafeSlow(HASH_READ_BYTES), Buffer.allocUnsafeSlow(HASH_READ_BYTES)] as const;

  /** The sha256 of the file's bytes, read to its end; `onBytes` reports progress. */
  async hash(abs: string, onBytes: (n: number) => void = () => undefined): Promise<string> {
    const h = createHash('sha256');
    await this.hashInto(h, abs, Number.POSITIVE_INFINITY, onBytes);
    return h.digest('hex');
  }

  /** Feeds the file's first `limit` bytes (all of them, up to its end) into `h`. */
  async hashInto(h: Hash, abs: string, limit: number, onBytes: (n: number) => void = () => undefined): Promise<number> {
    const fh = await fsp.open(abs, 'r');
    let next: Promise<{ bytesRead: number }> | null = null;
    let pos = 0;
    try {
      let i = 0;
      const want = () => Math.min(HASH_READ_BYTES, limit - pos);
      next = want() > 0 ? fh.read(this.bufs[0], 0, want(), 0) : null;
      while (next) {
        const { bytesRead } = await next;
        next = null;
        if (bytesRead === 0) break;
        const buf = this.bufs[i]!;
        pos += bytesRead;
        i ^= 1;
        if (want() > 0) next = fh.read(this.bufs[i]!, 0, want(), pos);
        h.update(bytesRead === HASH_READ_BYTES ? buf : buf.subarray(0, bytesRead));
        onBytes(bytesRead);
      }
    } finally {
      // Never close under a read in flight (or reuse its buffer for the next file).
      await next?.catch(() => undefined);
      await fh.close();
    }
    return pos;
  }
}

/** Marks the thread this module starts, so importing it in any other worker (a test runner's) does nothing. */
const WORKER_ROLE = 'steward-hash-worker';

/** Bytes between progress messages: a message per read would cost more than the read. */
const REPORT_EVERY = 16 << 20;

interface Pending {
  resolve: (v: string) => void;
  reject: (err: Error) => void;
  onBytes: (n: number) => void;
}

/**
 * Starts this module as a worker. Built (dist/*.js) it is loaded as is; run from its TypeScript
 * source (tsx, vitest) it goes through tsx's loader, because a Node 20 worker does not inherit
 * the loader hooks of the thread that starts it.
 */
function startThread(): Worker {
  const self = new URL(import.meta.url);
  const workerData = { role: WORKER_ROLE };
  if (!self.pathname.endsWith('.ts')) return new Worker(self, { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  return new Worker(`import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(self.href)}); })`, { eval: true, workerData });
}

export class HashWorker {
  private readonly worker = startThread();
  private readonly jobs = new Map<number, Pending>();
  /** Buffers moved out for hashing, by stream, in the order they were sent (answers come in that order). */
  private readonly lent = new Map<number, { resolve: (b: Buffer) => void; reject: (err: Error) => void }[]>();
  private nextId = 0;
  private failed: Error | null = null;

  constructor() {
    this.worker.on('message', (m: Reply) => {
      if ('buf' in m) {
        const w = this.lent.get(m.id)?.shift();
        return w?.resolve(Buffer.from(m.buf.buffer, m.buf.byteOffset, m.buf.byteLength));
      }
      const job = this.jobs.get(m.id);
      if (!job) return;
      if ('bytes' in m) return job.onBytes(m.bytes);
      this.jobs.delete(m.id);
      if ('sha256' in m) job.resolve(m.sha256);
      else job.reject(Object.assign(new Error(m.error), m.code ? { code: m.code } : {}));
    });
    this.worker.on('error', (err) => this.failAll(err));
    this.worker.on('exit', (code) => this.failAll(new Error(`the hashing thread exited (${code})`)));
  }

  /** The sha256 of a file; files are hashed in the order asked. */
  hash(abs: string, onBytes: (n: number) => void = () => undefined): Promise<string> {
    const id = this.nextId++;
    return new Promise<string>((resolve, reject) => {
      if (this.failed) return reject(this.failed);
      this.jobs.set(id, { resolve, reject, onBytes });
      this.worker.postMessage({ kind: 'file', id, abs } satisfies Job);
    });
  }

  /**
   * A sha256 over bytes handed over as they go by, starting with the first `prefix` bytes of
   * `abs` (0: none). Streams run beside file jobs, not behind them.
   */
  stream(abs: string, prefix: number): HashStream {
    const id = this.nextId++;
    this.lent.set(id, []);
    this.worker.postMessage({ kind: 'open', id, abs, prefix } satisfies Job);
    return {
      update: (buf, length) =>
        new Promise<Buffer>((resolve, reject) => {
          if (this.failed) return reject(this.failed);
          this.lent.get(id)?.push({ resolve, reject });
          const u8 = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
          this.worker.postMessage({ kind: 'update', id, buf: u8, length } satisfies Job, [u8.buffer as ArrayBuffer]);
        }),
      digest: () =>
        new Promise<string>((resolve, reject) => {
          if (this.failed) return reject(this.failed);
          this.jobs.set(id, { resolve, reject, onBytes: () => undefined });
          this.worker.postMessage({ kind: 'digest', id } satisfies Job);
        }),
      drop: () => {
        this.lent.delete(id);
        this.jobs.delete(id);
        if (!this.failed) this.worker.postMessage({ kind: 'drop', id } satisfies Job);
      },
    };
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private failAll(err: Error): void {
    this.failed ??= err;
    for (const job of this.jobs.values()) job.reject(err);
    this.jobs.clear();
    for (const waiting of this.lent.values()) for (const w of waiting.splice(0)) w.reject(err);
  }
}

/** A running sha256 on the hashing thread (see `HashWorker.stream`). */
export interface HashStream {
  /**
   * Hashes the first `length` bytes of `buf` next. The buffer must own its whole memory (a
   * `Buffer.allocUnsafeSlow` one): it moves to the hashing thread and is unusable until the
   * promise gives it back.
   */
  update(buf: Buffer, length: number): Promise<Buffer>;
  /** Hex digest of everything hashed; the stream is finished afterwards. */
  digest(): Promise<string>;
  /** Forgets the stream (after a failure, or when it is no longer wanted). */
  drop(): void;
}

if (parentPort && (workerData as { role?: string } | null)?.role === WORKER_ROLE) {
  const port = parentPort;
  const hasher = new FileHasher();
  const prefixHasher = new FileHasher();
  // Jobs arrive faster than they finish: chain them so files are read one at a time.
  let queue = Promise.resolve();
  // Streams: each has its own chain (its prefix is read before its updates are hashed), and
  // prefixes share one reader.
  const streams = new Map<number, { hash: Hash; chain: Promise<void>; error: NodeJS.ErrnoException | null }>();
  let prefixes = Promise.resolve();
  const fail = (id: number, err: unknown) => {
    const e = err as NodeJS.ErrnoException;
    port.postMessage({ id, error: e.message, ...(e.code ? { code: e.code } : {}) } satisfies Reply);
  };
  port.on('message', (job: Job) => {
    if (job.kind === 'file') {
      queue = queue.then(async () => {
        let unreported = 0;
        try {
          const sha256 = await hasher.hash(job.abs, (n) => {
            unreported += n;
            if (unreported >= REPORT_EVERY) {
              port.postMessage({ id: job.id, bytes: unreported } satisfies Reply);
              unreported = 0;
            }
          });
          if (unreported) port.postMessage({ id: job.id, bytes: unreported } satisfies Reply);
          port.postMessage({ id: job.id, sha256 } satisfies Reply);
        } catch (err) {
          fail(job.id, err);
        }
      });
      return;
    }
    if (job.kind === 'open') {
      const s = { hash: createHash('sha256'), chain: Promise.resolve(), error: null as NodeJS.ErrnoException | null };
      streams.set(job.id, s);
      if (job.prefix > 0) {
        const read = prefixes.then(async () => {
          try {
            const n = await prefixHasher.hashInto(s.hash, job.abs, job.prefix);
            if (n < job.prefix) throw new Error(`${job.abs} is shorter than the ${job.prefix} bytes already uploaded: it changed`);
          } catch (err) {
            s.error = err as NodeJS.ErrnoException;
          }
        });
        prefixes = read;
        s.chain = read;
      }
      return;
    }
    const s = streams.get(job.id);
    if (job.kind === 'drop') {
      streams.delete(job.id);
      return;
    }
    if (!s) {
      if (job.kind === 'update') port.postMessage({ id: job.id, buf: job.buf } satisfies Reply, [job.buf.buffer as ArrayBuffer]);
      else fail(job.id, new Error('unknown hash stream'));
      return;
    }
    s.chain = s.chain.then(() => {
      if (job.kind === 'update') {
        if (!s.error) s.hash.update(job.length === job.buf.byteLength ? job.buf : job.buf.subarray(0, job.length));
        port.postMessage({ id: job.id, buf: job.buf } satisfies Reply, [job.buf.buffer as ArrayBuffer]);
      } else {
        streams.delete(job.id);
        if (s.error) fail(job.id, s.error);
        else port.postMessage({ id: job.id, sha256: s.hash.digest('hex') } satisfies Reply);
      }
    });
  });
}

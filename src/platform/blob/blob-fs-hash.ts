/**
 * The filesystem blob store's hashing thread: sha256 states kept on a worker thread, fed with
 * chunks moved (not copied) from the main thread, so the event loop that reads the sockets never
 * hashes and hashing runs beside the reads and the writes.
 */
import { Worker } from 'node:worker_threads';
import { AppError } from '../errors.js';

/**
 * Bytes of one upload that may wait for the hashing thread before its source pauses: bounds
 * memory (a dozen concurrent uploads hold at most this much each) while leaving the thread
 * several batches of work, so it never idles behind a write.
 */
export const HASH_BACKLOG_BYTES = 2 * 1024 * 1024;

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
export class HashThread {
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
export class RemoteHash {
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

/**
 * The upload side of a push: a queue that sends blobs while the rest of the directory is still
 * being hashed. Small files go in one PUT each, many at once (each costs the server a request,
 * an fsync and a SQL row more than bytes); large files go through resumable sessions, all at
 * once, each remembered in the cache dir so an interrupted push continues from the server's
 * offset. The queue never sends a blob twice in one push, and once the server has shown that it
 * holds some of them (a re-push after the hash cache was lost), it asks before sending each.
 *
 * A large file not hashed yet can go in one pass (`offerUnhashed`): its bytes are hashed as
 * they are sent, through a session whose sha256 is declared at completion, so the file is read
 * once instead of twice and its upload starts at once. The server verifies the declared sha256
 * against its own digest of what it stored, as for any session. It refuses such a session while
 * it holds a blob of the same size (the bytes might be that blob); the file is then hashed
 * first and sent, or skipped, like any other.
 *
 * Progress goes to the caller's callback (`PushProgress` events: bytes planned and sent, blobs
 * done); what it draws is its own business.
 */
import { StewardApiError, type StewardClient } from '../client.js';
import type { HashStream, HashWorker } from './hash-worker.js';
import type { LocalFile, SessionMemory } from './push-files.js';
import { FileRange } from './upload-transport.js';

/** Files above this go through resumable sessions: an interruption then costs at most one chunk. */
export const SESSION_THRESHOLD = 64 * 1024 * 1024;
/** Chunk size of a session: big enough that per-request overhead vanishes, small enough to resume cheaply. */
const CHUNK_BYTES = 256 * 1024 * 1024;
/** Small files in flight at once: enough to hide each one's round trip and the server's fsync. */
const SMALL_CONCURRENCY = 8;
/** Sessions in flight at once: the server hashes each as it writes, so they share its CPU anyway. */
const LARGE_CONCURRENCY = 4;

/** What a push reports as it goes; `*-total` events change a total by `bytes` (negative: it shrank). */
export type PushProgress =
  | { type: 'hash-total' | 'hashed' | 'upload-total' | 'uploaded'; bytes: number }
  | { type: 'file-hashed'; path: string; sha256: string }
  | { type: 'blob-done'; sha256: string; size: number; sent: boolean };

type State = 'queued' | 'running' | 'done';
/** How a send ended: bytes sent and stored, found on the server, or handed back to the queue as a hashed file. */
type Outcome = 'uploaded' | 'present' | 'requeued';

/** A large file whose sha256 is not known yet, with its hash-cache key. */
interface Unhashed {
  file: LocalFile;
  key: string;
}

export class UploadQueue {
  /** Bytes of blobs this push supplied (the server lacked them). */
  uploadedBytes = 0;
  /** True once a session continued from bytes an earlier run had sent. */
  resumedSession = false;
  private readonly state = new Map<string, State>();
  private readonly small: LocalFile[] = [];
  private readonly large: LocalFile[] = [];
  private readonly unhashed: Unhashed[] = [];
  private running = { small: 0, large: 0, unhashed: 0 };
  private failed: unknown = null;
  private serverHasSome = false;
  /** The server has no sessions without a sha256 (an older server): hash first. */
  private undeclaredUnsupported = false;
  private waiters: { done: () => boolean; resolve: () => void }[] = [];

  constructor(
    private readonly client: StewardClient,
    private readonly sessions: SessionMemory,
    private readonly emit: (e: PushProgress) => void,
    /** For files sent in one pass: the hashing thread, and who learns each file's sha256. */
    private readonly onePass?: { hasher: HashWorker; hashed(f: LocalFile, key: string): void },
  ) {}

  private sent = (bytes: number) => this.emit({ type: 'uploaded', bytes });
  private planned = (bytes: number) => this.emit({ type: 'upload-total', bytes });

  /**
   * Sends a file's bytes from `offset` (where the session is) to its end, a PATCH per chunk.
   * Every byte also goes to `hash()`'s stream, if any. When the server says it holds something
   * else (another writer, a restart), it continues from the server's offset and tells `restart`
   * first (a one-pass hash starts over from there).
   */
  private async transfer(
    id: string,
    f: LocalFile,
    offset: number,
    maxChunkBytes: number,
    hash: () => HashStream | undefined = () => undefined,
    restart: (offset: number) => void = () => undefined,
  ): Promise<void> {
    const chunk = Math.min(CHUNK_BYTES, maxChunkBytes);
    /** Next byte to send, and how far progress has been told. */
    let pos = offset;
    let shown = offset;
    while (pos < f.size) {
      const end = Math.min(pos + chunk, f.size);
      const range = new FileRange(f.abs, pos, end - pos, (n) => ((shown += n), this.sent(n)), hash());
      pos = await this.client.appendUpload(id, pos, range, end - pos).then(
        (s) => s.offset,
        (err: unknown) => {
          if (!(err instanceof StewardApiError && err.code === 'conflict' && typeof err.details.offset === 'number')) throw err;
          this.sent(err.details.offset - shown);
          shown = err.details.offset;
          restart(shown);
          return shown;
        },
      );
    }
  }

  /** Queues a blob unless this push already queued or sent it. */
  offer(f: LocalFile): void {
    if (this.failed !== null || this.state.has(f.sha256)) return;
    this.state.set(f.sha256, 'queued');
    this.planned(f.size);
    (f.size > SESSION_THRESHOLD ? this.large : this.small).push(f);
    this.pump();
  }

  /**
   * Sends a large file not hashed yet in one pass; `f.sha256` is set (and `hashed` told) once
   * known. Needs `onePass`, and is meant for blobs of a version the server does not have yet.
   */
  offerUnhashed(f: LocalFile, key: string): void {
    if (this.failed !== null || !this.onePass) return;
    this.planned(f.size);
    this.unhashed.push({ file: f, key });
    this.pump();
  }

  /** Resolves once every file offered unhashed has its sha256 (sent, found, or queued hashed); rejects with the first failure. */
  async unhashedSettled(): Promise<void> {
    const done = () => this.running.unhashed + (this.failed === null ? this.unhashed.length : 0) === 0;
    if (!done()) await new Promise<void>((resolve) => this.waiters.push({ done, resolve }));
    this.check();
  }

  /** Drops queued blobs the server turned out to hold (those not in `missing`). */
  restrict(missing: ReadonlySet<string>): void {
    for (const list of [this.small, this.large]) {
      for (let i = list.length - 1; i >= 0; i--) {
        const f = list[i]!;
        if (missing.has(f.sha256)) continue;
        list.splice(i, 1);
        this.state.delete(f.sha256);
        this.planned(-f.size);
      }
    }
    this.settle();
  }

  /** Sends these blobs again even if this push sent them before (the server lost them since). */
  retry(files: readonly LocalFile[]): void {
    for (const f of files) if (this.state.get(f.sha256) === 'done') this.state.delete(f.sha256);
    for (const f of files) this.offer(f);
  }

  /** Resolves when nothing is queued or running; rejects with the first failure. */
  async drained(): Promise<void> {
    if (!this.busy()) return this.check();
    await new Promise<void>((resolve) => this.waiters.push({ done: () => !this.busy(), resolve }));
    this.check();
  }

  /** The first failure, if any, so the hashing loop can stop early. */
  get error(): unknown {
    return this.failed;
  }

  private check(): void {
    if (this.failed !== null) throw this.failed;
  }

  private busy(): boolean {
    const queued = this.small.length + this.large.length + this.unhashed.length;
    return this.running.small + this.running.large + this.running.unhashed + (this.failed === null ? queued : 0) > 0;
  }

  private settle(): void {
    const ready = this.waiters.filter((w) => w.done());
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }

  private pump(): void {
    // Unhashed files share the large files' slots: both are sessions of big blobs.
    const largeRunning = () => this.running.large + this.running.unhashed;
    while (this.failed === null && largeRunning() < LARGE_CONCURRENCY && this.unhashed.length) this.start(this.unhashed.shift()!, 'unhashed');
    while (this.failed === null && largeRunning() < LARGE_CONCURRENCY && this.large.length) this.start(this.large.shift()!, 'large');
    while (this.failed === null && this.running.small < SMALL_CONCURRENCY && this.small.length) this.start(this.small.shift()!, 'small');
  }

  private start(item: LocalFile | Unhashed, kind: 'small' | 'large' | 'unhashed'): void {
    this.running[kind]++;
    const f = 'key' in item ? item.file : item;
    if (kind !== 'unhashed') this.state.set(f.sha256, 'running');
    const work = kind === 'unhashed' ? this.sendUnhashed(item as Unhashed) : kind === 'large' ? this.sendLarge(f) : this.sendSmall(f);
    work.then(
      (outcome) => {
        if (outcome === 'requeued') return;
        this.state.set(f.sha256, 'done');
        this.emit({ type: 'blob-done', sha256: f.sha256, size: f.size, sent: outcome === 'uploaded' });
        if (outcome === 'uploaded') this.uploadedBytes += f.size;
        else this.serverHasSome = true;
      },
      (err: unknown) => {
        this.failed ??= err;
      },
    ).finally(() => {
      this.running[kind]--;
      this.pump();
      this.settle();
    });
  }

  /** One PUT. */
  private async sendSmall(f: LocalFile): Promise<Outcome> {
    if (this.serverHasSome && (await this.client.blobExists(f.sha256))) {
      this.sent(f.size);
      return 'present';
    }
    const res = await this.client.putBlob(f.sha256, new FileRange(f.abs, 0, f.size, this.sent), f.size);
    return res.created ? 'uploaded' : 'present';
  }

  /** A resumable session, continued from the server's offset when this machine started one before. */
  private async sendLarge(f: LocalFile): Promise<Outcome> {
    const { client, sessions } = this;
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
      this.sent(f.size);
      return 'present';
    }
    sessions.set(key, session.id);
    if (session.offset > 0) this.resumedSession = true;
    this.sent(session.offset);
    await this.transfer(session.id, f, session.offset, session.maxChunkBytes);
    await client.completeUpload(session.id);
    sessions.set(key, undefined);
    return 'uploaded';
  }

  /**
   * One pass over a file not hashed yet: a session without a sha256 (continued when this
   * machine started one for this very file before), every byte hashed on the hashing thread as
   * it is sent, and the sha256 declared at completion. When the server would rather have the
   * hash first (it holds a blob of this size) or cannot do without it, the file is hashed and
   * queued like any other.
   */
  private async sendUnhashed({ file: f, key }: Unhashed): Promise<Outcome> {
    const { client, sessions } = this;
    const { hasher, hashed } = this.onePass!;
    const memo = `${client.url}|file:${f.abs}|${key}`;
    let session = null;
    const known = sessions.get(memo);
    if (known) {
      session = await client.getUpload(known).catch((err: unknown) => {
        if (err instanceof StewardApiError && err.code === 'not_found') return null;
        throw err;
      });
    }
    if (!session && !this.undeclaredUnsupported) {
      session = await client.createUndeclaredUpload(f.size).catch((err: unknown) => {
        if (!(err instanceof StewardApiError)) throw err;
        if (err.code === 'not_found') this.undeclaredUnsupported = true;
        else if (!(err.code === 'conflict' && err.details.sizeStored)) throw err;
        return null;
      });
    }
    if (!session) {
      // Hash first; the ordinary path then asks the server before sending a byte.
      f.sha256 = await hasher.hash(f.abs);
      hashed(f, key);
      this.planned(-f.size);
      this.offer(f);
      return 'requeued';
    }
    sessions.set(memo, session.id);
    const offset = session.offset;
    if (offset > 0) this.resumedSession = true;
    this.sent(offset);
    // The hash covers exactly the bytes the server holds: after any surprise it restarts from
    // the file's first `offset` bytes.
    let stream: HashStream = hasher.stream(f.abs, offset);
    try {
      await this.transfer(session.id, f, offset, session.maxChunkBytes, () => stream, (at) => {
        stream.drop();
        stream = hasher.stream(f.abs, at);
      });
      const sha = await stream.digest();
      await client.completeUpload(session.id, sha);
      sessions.set(memo, undefined);
      f.sha256 = sha;
      hashed(f, key);
      return 'uploaded';
    } finally {
      stream.drop();
    }
  }
}

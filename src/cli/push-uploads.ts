/**
 * The upload side of a push: a queue that sends blobs while the rest of the directory is still
 * being hashed. Small files go in one PUT each, many at once (each costs the server a request,
 * an fsync and a SQL row more than bytes); large files go through resumable sessions, all at
 * once, each remembered in the cache dir so an interrupted push continues from the server's
 * offset. The queue never sends a blob twice in one push, and once the server has shown that it
 * holds some of them (a re-push after the hash cache was lost), it asks before sending each.
 */
import fs from 'node:fs';
import path from 'node:path';
import { StewardApiError, type StewardClient } from '../sdk/client.js';
import type { ByteProgress } from './progress.js';
import type { LocalFile } from './push-fns.js';
import { FileRange } from './upload-transport.js';

/** Files above this go through resumable sessions: an interruption then costs at most one chunk. */
export const SESSION_THRESHOLD = 64 * 1024 * 1024;
/** Chunk size of a session: big enough that per-request overhead vanishes, small enough to resume cheaply. */
const CHUNK_BYTES = 256 * 1024 * 1024;
/** Small files in flight at once: enough to hide each one's round trip and the server's fsync. */
const SMALL_CONCURRENCY = 8;
/** Sessions in flight at once: the server hashes each as it writes, so they share its CPU anyway. */
const LARGE_CONCURRENCY = 4;

/** Upload sessions this machine started, by server and sha, so a re-run resumes them. */
export class SessionMemory {
  private map: Record<string, string>;
  constructor(private readonly file: string) {
    try {
      this.map = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
    } catch {
      this.map = {};
    }
  }
  get = (k: string) => this.map[k];
  set(k: string, id: string | undefined) {
    if (id) this.map[k] = id;
    else delete this.map[k];
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.map));
    fs.renameSync(tmp, this.file);
  }
}

type State = 'queued' | 'running' | 'done';

export class UploadQueue {
  /** Bytes of blobs this push supplied (the server lacked them). */
  uploadedBytes = 0;
  /** True once a session continued from bytes an earlier run had sent. */
  resumedSession = false;
  private readonly state = new Map<string, State>();
  private readonly small: LocalFile[] = [];
  private readonly large: LocalFile[] = [];
  private running = { small: 0, large: 0 };
  private failed: unknown = null;
  private serverHasSome = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly client: StewardClient,
    private readonly sessions: SessionMemory,
    private readonly bar: ByteProgress,
  ) {}

  /** Queues a blob unless this push already queued or sent it. */
  offer(f: LocalFile): void {
    if (this.failed !== null || this.state.has(f.sha256)) return;
    this.state.set(f.sha256, 'queued');
    this.bar.grow(f.size);
    (f.size > SESSION_THRESHOLD ? this.large : this.small).push(f);
    this.pump();
  }

  /** Drops queued blobs the server turned out to hold (those not in `missing`). */
  restrict(missing: ReadonlySet<string>): void {
    for (const list of [this.small, this.large]) {
      for (let i = list.length - 1; i >= 0; i--) {
        const f = list[i]!;
        if (missing.has(f.sha256)) continue;
        list.splice(i, 1);
        this.state.delete(f.sha256);
        this.bar.grow(-f.size);
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
    await new Promise<void>((r) => this.idle.push(r));
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
    return this.running.small + this.running.large + (this.failed === null ? this.small.length + this.large.length : 0) > 0;
  }

  private settle(): void {
    if (this.busy()) return;
    for (const r of this.idle.splice(0)) r();
  }

  private pump(): void {
    while (this.failed === null && this.running.large < LARGE_CONCURRENCY && this.large.length) this.start(this.large.shift()!, 'large');
    while (this.failed === null && this.running.small < SMALL_CONCURRENCY && this.small.length) this.start(this.small.shift()!, 'small');
  }

  private start(f: LocalFile, kind: 'small' | 'large'): void {
    this.running[kind]++;
    this.state.set(f.sha256, 'running');
    const work = kind === 'large' ? this.sendLarge(f) : this.sendSmall(f);
    work.then(
      (uploaded) => {
        this.state.set(f.sha256, 'done');
        if (uploaded) this.uploadedBytes += f.size;
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

  /** One PUT; false when the server already held the blob. */
  private async sendSmall(f: LocalFile): Promise<boolean> {
    if (this.serverHasSome && (await this.client.blobExists(f.sha256))) {
      this.bar.add(f.size);
      return false;
    }
    const res = await this.client.putBlob(f.sha256, new FileRange(f.abs, 0, f.size, (n) => this.bar.add(n)), f.size);
    return res.created;
  }

  /** A resumable session, continued from the server's offset when this machine started one before. */
  private async sendLarge(f: LocalFile): Promise<boolean> {
    const { client, bar, sessions } = this;
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
      bar.add(f.size);
      return false;
    }
    sessions.set(key, session.id);
    let offset = session.offset;
    if (offset > 0) this.resumedSession = true;
    bar.add(offset);
    const chunk = Math.min(CHUNK_BYTES, session.maxChunkBytes);
    while (offset < f.size) {
      const end = Math.min(offset + chunk, f.size);
      let sent = 0;
      try {
        offset = (await client.appendUpload(session.id, offset, new FileRange(f.abs, offset, end - offset, (n) => ((sent += n), bar.add(n))), end - offset)).offset;
      } catch (err) {
        // Another writer or an earlier attempt moved the session: continue from where the server is.
        if (!(err instanceof StewardApiError && err.code === 'conflict' && typeof err.details.offset === 'number')) throw err;
        bar.add(err.details.offset - offset - sent);
        offset = err.details.offset;
      }
    }
    await client.completeUpload(session.id);
    sessions.set(key, undefined);
    return true;
  }
}

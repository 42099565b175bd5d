/**
 * Hashing on a worker thread, so a push hashes at full speed while the main thread feeds the
 * uploads of what is already hashed (on one thread the two took turns and both went at half
 * speed). The module is both sides: imported, it exports `HashWorker`; run as the worker, it
 * hashes the files it is sent, one at a time, in order, and reports bytes as it reads them.
 */
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import { parentPort, Worker, workerData } from 'node:worker_threads';

interface Job {
  id: number;
  abs: string;
}
type Reply = { id: number; bytes: number } | { id: number; sha256: string } | { id: number; error: string; code?: string };

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
    const fh = await fsp.open(abs, 'r');
    let next: Promise<{ bytesRead: number }> | null = null;
    try {
      let i = 0;
      let pos = 0;
      next = fh.read(this.bufs[0], 0, HASH_READ_BYTES, 0);
      for (;;) {
        const { bytesRead } = await next;
        next = null;
        if (bytesRead === 0) break;
        const buf = this.bufs[i]!;
        pos += bytesRead;
        i ^= 1;
        next = fh.read(this.bufs[i]!, 0, HASH_READ_BYTES, pos);
        h.update(bytesRead === HASH_READ_BYTES ? buf : buf.subarray(0, bytesRead));
        onBytes(bytesRead);
      }
    } finally {
      // Never close under a read in flight (or reuse its buffer for the next file).
      await next?.catch(() => undefined);
      await fh.close();
    }
    return h.digest('hex');
  }
}

/** Marks the thread this module starts, so importing it in any other worker (a test runner's) does nothing. */
const WORKER_ROLE = 'steward-hash-worker';

/** Bytes between progress messages: a message per read would cost more than the read. */
const REPORT_EVERY = 16 << 20;

export class HashWorker {
  private readonly worker = new Worker(new URL(import.meta.url), { workerData: { role: WORKER_ROLE } });
  private readonly jobs = new Map<number, { resolve: (sha: string) => void; reject: (err: Error) => void; onBytes: (n: number) => void }>();
  private nextId = 0;

  constructor() {
    this.worker.on('message', (m: Reply) => {
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
      this.jobs.set(id, { resolve, reject, onBytes });
      this.worker.postMessage({ id, abs } satisfies Job);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private failAll(err: Error): void {
    for (const job of this.jobs.values()) job.reject(err);
    this.jobs.clear();
  }
}

if (parentPort && (workerData as { role?: string } | null)?.role === WORKER_ROLE) {
  const port = parentPort;
  const hasher = new FileHasher();
  // Jobs arrive faster than they finish: chain them so files are read one at a time.
  let queue = Promise.resolve();
  port.on('message', (job: Job) => {
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
        const e = err as NodeJS.ErrnoException;
        port.postMessage({ id: job.id, error: e.message, ...(e.code ? { code: e.code } : {}) } satisfies Reply);
      }
    });
  });
}

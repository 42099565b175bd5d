/**
 * Where the filesystem blob store's received bytes go: a `BlobSink` takes them in batches, in
 * order, writes them at their place in the file and feeds them to the blob's hash.
 *
 * Two ways to write, the same contract:
 * - `DirectSink` (O_DIRECT): each batch is copied into one of two page-aligned 1 MiB buffers and
 *   every full buffer goes straight to the disk, one write in flight while the other fills; the
 *   tail (under 1 MiB) goes through an ordinary descriptor. No page-cache page is touched, so
 *   the write costs the CPU a memcpy and nothing else. On a VM that hands freed memory back to
 *   its host, filling fresh page-cache pages cost far more: a 2 GiB blob took 5 s of kernel
 *   time written through the page cache and fsynced, 0.5 s written this way.
 * - `BufferedSink`: the page cache, with a background flush every FLUSH_EVERY_BYTES so the
 *   fsync before the blob is used finds little left to do. For filesystems that refuse
 *   O_DIRECT (tmpfs, some network filesystems), an append at an offset that is not
 *   block-aligned, or when every aligned buffer is taken.
 */
import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { AlignedPool, DIRECT_ALIGN, DIRECT_BLOCK_BYTES } from '../aligned-buffers.js';
import type { RemoteHash } from './blob-fs-hash.js';

/**
 * Written bytes after which a buffered write starts flushing them to disk in the background.
 * Without it a large blob's whole writeback waited at its end (~0.3 s per 256 MiB session
 * chunk, the upload stalled meanwhile): the kernel starts writing back on its own only past
 * gigabytes.
 */
const FLUSH_EVERY_BYTES = 32 * 1024 * 1024;

export interface BlobSink {
  /** Writes `chunks` next and hands them to the hash; `movable`: they are the caller's to give away. */
  write(chunks: Buffer[], movable: boolean): Promise<void>;
  /** Writes whatever is still buffered. The caller fsyncs the file afterwards. */
  finish(): Promise<void>;
  /** Waits for every write in flight and gives the buffers back; always call it, after `finish` or a failure. */
  close(): Promise<void>;
}

/**
 * Whether files in `dir` take O_DIRECT writes from `pool`'s buffers: one aligned block written
 * to a probe file (removed again). False on platforms without O_DIRECT and on filesystems that
 * refuse it.
 */
export async function probeDirectIo(dir: string, pool: AlignedPool): Promise<boolean> {
  const flag = fs.constants.O_DIRECT;
  if (!flag) return false;
  const bufs = pool.takePair();
  if (!bufs) return false;
  const probe = path.join(dir, `direct-probe-${randomUUID()}`);
  let fh: FileHandle | null = null;
  try {
    fh = await fsp.open(probe, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | flag, 0o600);
    const { bytesWritten } = await fh.write(bufs[0], 0, DIRECT_ALIGN, 0);
    return bytesWritten === DIRECT_ALIGN;
  } catch {
    return false;
  } finally {
    pool.give(...bufs);
    await fh?.close().catch(() => undefined);
    await fsp.rm(probe, { force: true });
  }
}

/**
 * A sink for `file`, whose bytes so far number `start` (0 for a new file): direct when `pool`
 * is given (direct I/O works there), `start` is block-aligned, at least one whole block is
 * coming (`expected`, when known: a smaller body would be all tail) and two buffers are free;
 * buffered otherwise. Creates the file if it does not exist.
 */
export async function openSink(
  file: string,
  start: number,
  hash: RemoteHash,
  pool: AlignedPool | null,
  mode: { exclusive: boolean; expected?: number | undefined },
): Promise<{ sink: BlobSink; fh: FileHandle }> {
  const create = fs.constants.O_CREAT | (mode.exclusive ? fs.constants.O_EXCL : 0);
  const worth = mode.expected === undefined || mode.expected >= DIRECT_BLOCK_BYTES;
  const bufs = pool && worth && start % DIRECT_ALIGN === 0 ? pool.takePair() : null;
  if (pool && bufs) {
    let direct: FileHandle | null = null;
    try {
      direct = await fsp.open(file, fs.constants.O_WRONLY | create | fs.constants.O_DIRECT, 0o644);
      const fh = await fsp.open(file, fs.constants.O_WRONLY);
      return { sink: new DirectSink(direct, fh, start, hash, bufs, pool), fh };
    } catch (err) {
      pool.give(...bufs);
      await direct?.close().catch(() => undefined);
      throw err;
    }
  }
  const fh = await fsp.open(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | create, 0o644);
  return { sink: new BufferedSink(fh, hash), fh };
}

class DirectSink implements BlobSink {
  /** The buffer being filled, and how far. */
  private cur: Buffer;
  private fill = 0;
  /** File offset of `cur`'s first byte. */
  private pos: number;
  /** The other buffer: free, or being written by `inflight`. */
  private spare: Buffer | null;
  private inflight: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly direct: FileHandle,
    private readonly fh: FileHandle,
    start: number,
    private readonly hash: RemoteHash,
    private readonly bufs: [Buffer, Buffer],
    private readonly pool: AlignedPool,
  ) {
    this.cur = bufs[0];
    this.spare = bufs[1];
    this.pos = start;
  }

  async write(chunks: Buffer[], movable: boolean): Promise<void> {
    for (const c of chunks) {
      for (let at = 0; at < c.length; ) {
        const n = c.copy(this.cur, this.fill, at);
        at += n;
        this.fill += n;
        if (this.fill === DIRECT_BLOCK_BYTES) await this.flushBlock();
      }
    }
    // Copied: the chunks themselves can move to the hashing thread now.
    this.hash.update(chunks, movable);
  }

  async finish(): Promise<void> {
    await this.inflight;
    // The tail is not a whole block: through the page cache, so the file never holds padding.
    for (let at = 0; at < this.fill; ) {
      const { bytesWritten } = await this.fh.write(this.cur, at, this.fill - at, this.pos + at);
      at += bytesWritten;
    }
    this.pos += this.fill;
    this.fill = 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.inflight?.catch(() => undefined);
    this.pool.give(...this.bufs);
    await this.direct.close().catch(() => undefined);
  }

  /** Starts writing the full buffer once the previous write is done, and fills the other one meanwhile. */
  private async flushBlock(): Promise<void> {
    await this.inflight;
    const full = this.cur;
    const at = this.pos;
    this.cur = this.spare!;
    this.spare = null;
    this.fill = 0;
    this.pos += DIRECT_BLOCK_BYTES;
    this.inflight = this.direct.write(full, 0, DIRECT_BLOCK_BYTES, at).then(({ bytesWritten }) => {
      if (bytesWritten !== DIRECT_BLOCK_BYTES) throw new Error(`short direct write: ${bytesWritten} of ${DIRECT_BLOCK_BYTES} bytes at ${at}`);
      this.spare = full;
    });
  }
}

class BufferedSink implements BlobSink {
  private unflushed = 0;
  private flushing: Promise<void> | null = null;
  private flushError: unknown = null;

  constructor(
    private readonly fh: FileHandle,
    private readonly hash: RemoteHash,
  ) {}

  async write(chunks: Buffer[], movable: boolean): Promise<void> {
    if (this.flushError !== null) throw this.flushError;
    const { bytesWritten } = await this.fh.writev(chunks);
    // Written: the bytes go to the hashing thread.
    this.hash.update(chunks, movable);
    this.unflushed += bytesWritten;
    if (this.unflushed >= FLUSH_EVERY_BYTES && !this.flushing) {
      this.unflushed = 0;
      this.flushing = this.fh.datasync().then(
        () => {
          this.flushing = null;
        },
        (err: unknown) => {
          this.flushing = null;
          this.flushError = err;
        },
      );
    }
  }

  async finish(): Promise<void> {
    await this.flushing;
    if (this.flushError !== null) throw this.flushError;
  }

  async close(): Promise<void> {
    // Never leave a flush running on a handle the caller is about to close.
    await this.flushing;
  }
}

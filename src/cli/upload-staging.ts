/**
 * Writing a session's bytes into its staging file, for a push to a server on this host (see
 * `stagingPath` in the uploads contract and push-uploads.ts): the bytes skip HTTP and the
 * sockets altogether, and the server reads back what it is told was written.
 *
 * Whole blocks go with O_DIRECT from two page-aligned buffers, so they reach the disk without
 * filling page-cache pages (the server reads them back with O_DIRECT too); a range's unaligned
 * tail, or everything on a filesystem that refuses O_DIRECT, goes through the page cache. Each
 * block is read from the source file into a buffer of its own that then moves to the hashing
 * thread (a one-pass upload) and comes back for the next read.
 */
import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { AlignedPool, DIRECT_ALIGN, DIRECT_BLOCK_BYTES } from '../platform/aligned-buffers.js';
import type { FileRange } from './upload-transport.js';

/** Aligned buffers for the whole push: a pair per staging file being written, four files at once. */
const aligned = new AlignedPool(8);
/** Read buffers per staging file: one being read, one being copied, two with the hashing thread. */
const READ_BUFFERS = 4;

/**
 * The session's staging file, opened for writing once it checks out as the file the server
 * named: an absolute path whose name is the session id, a regular file (no symlink followed)
 * holding at least the bytes the server took in. Null when it cannot be used here (a path on
 * another host or in another container, no permission): the bytes then go over HTTP.
 */
export async function openStaging(session: { id: string; offset: number; stagingPath?: string | null | undefined }): Promise<StagingFile | null> {
  const p = session.stagingPath;
  if (!p || !path.isAbsolute(p) || path.basename(p) !== session.id) return null;
  const { O_RDWR, O_WRONLY, O_NOFOLLOW, O_DIRECT } = fs.constants;
  let fh: FileHandle;
  try {
    fh = await fsp.open(p, O_RDWR | O_NOFOLLOW);
  } catch {
    return null;
  }
  const st = await fh.stat().catch(() => null);
  if (!st?.isFile() || st.size < session.offset) {
    await fh.close();
    return null;
  }
  const direct = O_DIRECT ? await fsp.open(p, O_WRONLY | O_NOFOLLOW | O_DIRECT).catch(() => null) : null;
  return new StagingFile(fh, direct);
}

export class StagingFile {
  private readonly free: Buffer[] = [];
  private made = 0;
  private waiting: ((b: Buffer) => void)[] = [];

  constructor(
    private readonly fh: FileHandle,
    /** A second descriptor with O_DIRECT; null once direct writes proved impossible here. */
    private direct: FileHandle | null,
  ) {}

  /**
   * Writes the range's bytes at their own offsets (a blob's byte n is its file's byte n). With
   * `body.hash`, every block is hashed too, in order. Resolves once every byte is written (and
   * hashed).
   */
  async write(body: FileRange): Promise<void> {
    const pair = this.direct && body.start % DIRECT_ALIGN === 0 ? aligned.takePair() : null;
    const src = await fsp.open(body.file, 'r');
    let inflight: Promise<void> | null = null;
    let which = 0;
    try {
      for (let pos = body.start, end = body.start + body.length; pos < end; ) {
        const buf = await this.take();
        const { bytesRead } = await src.read(buf, 0, Math.min(buf.length, end - pos), pos);
        if (bytesRead === 0) {
          this.give(buf);
          throw new Error(`${body.file} is shorter than expected: it changed during the push`);
        }
        const at = pos;
        pos += bytesRead;
        // The other aligned buffer is free again once the write before is done.
        await inflight;
        if (pair && this.direct && bytesRead % DIRECT_ALIGN === 0) {
          const a = pair[which]!;
          which ^= 1;
          buf.copy(a, 0, 0, bytesRead);
          inflight = this.writeDirect(a, bytesRead, at).then(() => body.onBytes(bytesRead));
        } else {
          inflight = null;
          await writeAll(this.fh, buf, bytesRead, at);
          body.onBytes(bytesRead);
        }
        // The block is copied or written: its buffer goes on to the hash, then back here.
        if (!body.hash) this.give(buf);
        else body.hash.update(buf, bytesRead).then((b) => this.give(b), () => this.give(Buffer.allocUnsafeSlow(DIRECT_BLOCK_BYTES)));
      }
      await inflight;
      // With a hash, done means hashed: the caller asks for the digest next.
      while (this.free.length < this.made) await new Promise<void>((r) => this.waiting.push((b) => (this.free.push(b), r())));
    } finally {
      await inflight?.catch(() => undefined);
      if (pair) aligned.give(...pair);
      await src.close();
    }
  }

  async close(): Promise<void> {
    await this.direct?.close().catch(() => undefined);
    await this.fh.close();
  }

  /** One direct write; if the filesystem refuses it after all, this and every later block go through the page cache. */
  private async writeDirect(a: Buffer, n: number, at: number): Promise<void> {
    try {
      const { bytesWritten } = await this.direct!.write(a, 0, n, at);
      if (bytesWritten === n) return;
      await writeAll(this.fh, a.subarray(bytesWritten), n - bytesWritten, at + bytesWritten);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
      const d = this.direct;
      this.direct = null;
      await d?.close().catch(() => undefined);
      await writeAll(this.fh, a, n, at);
    }
  }

  private take(): Buffer | Promise<Buffer> {
    const b = this.free.pop();
    if (b) return b;
    if (this.made < READ_BUFFERS) {
      this.made++;
      return Buffer.allocUnsafeSlow(DIRECT_BLOCK_BYTES);
    }
    return new Promise<Buffer>((r) => this.waiting.push(r));
  }

  private give(b: Buffer): void {
    const w = this.waiting.shift();
    if (w) w(b);
    else this.free.push(b);
  }
}

async function writeAll(fh: FileHandle, buf: Buffer, n: number, at: number): Promise<void> {
  for (let done = 0; done < n; ) done += (await fh.write(buf, done, n - done, at + done)).bytesWritten;
}

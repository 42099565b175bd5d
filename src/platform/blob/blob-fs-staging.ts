/**
 * Taking in staged bytes: a client on the store's host writes a session's bytes straight into
 * the session file (see `BlobStore.staging`), and the store reads back the range it was told
 * about, hashes it and flushes it. Nothing crosses a socket, and the store trusts nothing it
 * did not read and hash itself.
 *
 * The range is read with O_DIRECT where the filesystem takes it: the client writes its blocks
 * with O_DIRECT too, so the bytes go disk-ward once and come back by DMA, and no page-cache page
 * is filled on either side (filling fresh ones was the dearest part of a push on our VMs; see
 * blob-fs-sink.ts). Each block read into an aligned buffer is copied once into a buffer that
 * moves to the hashing thread, while the next block is read.
 */
import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import { AlignedPool, DIRECT_ALIGN, DIRECT_BLOCK_BYTES } from '../aligned-buffers.js';
import { AppError } from '../errors.js';
import { HASH_BACKLOG_BYTES, type RemoteHash } from './blob-fs-hash.js';

const shrank = (pos: number) => new AppError('invalid_argument', `the session file ended at byte ${pos} while being read: it shrank`);

/**
 * Feeds bytes [offset, offset + length) of `file` into `hash` and flushes the file, so the
 * range is durable once this resolves. The caller checked the file holds them.
 */
export async function hashStagedRange(file: string, offset: number, length: number, hash: RemoteHash, pool: AlignedPool | null): Promise<void> {
  const bufs = pool && offset % DIRECT_ALIGN === 0 && fs.constants.O_DIRECT ? pool.takePair() : null;
  let fh: FileHandle | null = null;
  try {
    if (bufs) fh = await fsp.open(file, fs.constants.O_RDONLY | fs.constants.O_DIRECT).catch(() => null);
    if (fh && bufs) await readDirect(fh, offset, length, hash, bufs);
    else {
      fh ??= await fsp.open(file, 'r');
      await readBuffered(fh, offset, length, hash);
    }
    await fh.datasync();
  } finally {
    if (bufs) pool!.give(...bufs);
    await fh?.close().catch(() => undefined);
  }
}

/** Two aligned buffers: the next block is read into one while the other's bytes are copied out for the hash. */
async function readDirect(fh: FileHandle, offset: number, length: number, hash: RemoteHash, bufs: [Buffer, Buffer]): Promise<void> {
  const end = offset + length;
  // A direct read asks for whole blocks; past the range (or the file's end) the bytes are ignored.
  const read = (buf: Buffer, at: number) => {
    const want = Math.min(DIRECT_BLOCK_BYTES, Math.ceil((end - at) / DIRECT_ALIGN) * DIRECT_ALIGN);
    return fh.read(buf, 0, want, at).then(({ bytesRead }) => Math.min(bytesRead, end - at));
  };
  let i = 0;
  let next: Promise<number> | null = read(bufs[0], offset);
  try {
    for (let pos = offset; next; ) {
      const n = await next;
      if (n <= 0) throw shrank(pos);
      const buf = bufs[i]!;
      pos += n;
      i ^= 1;
      next = pos < end ? read(bufs[i]!, pos) : null;
      const copy = Buffer.allocUnsafeSlow(n);
      buf.copy(copy, 0, 0, n);
      hash.update([copy], true);
      await new Promise<void>((r) => hash.whenBelow(HASH_BACKLOG_BYTES, r));
    }
  } finally {
    // Never give the buffers back (or close the file) under a read in flight.
    await next?.catch(() => undefined);
  }
}

/** Through the page cache: each block is read into a fresh buffer that moves to the hashing thread whole. */
async function readBuffered(fh: FileHandle, offset: number, length: number, hash: RemoteHash): Promise<void> {
  const end = offset + length;
  const read = (at: number) => {
    const buf = Buffer.allocUnsafeSlow(Math.min(DIRECT_BLOCK_BYTES, end - at));
    return fh.read(buf, 0, buf.length, at).then(({ bytesRead }) => ({ buf, bytesRead }));
  };
  let next: ReturnType<typeof read> | null = length > 0 ? read(offset) : null;
  try {
    for (let pos = offset; next; ) {
      const { buf, bytesRead } = await next;
      if (bytesRead === 0) throw shrank(pos);
      pos += bytesRead;
      next = pos < end ? read(pos) : null;
      hash.update([bytesRead === buf.length ? buf : buf.subarray(0, bytesRead)], true);
      await new Promise<void>((r) => hash.whenBelow(HASH_BACKLOG_BYTES, r));
    }
  } finally {
    await next?.catch(() => undefined);
  }
}

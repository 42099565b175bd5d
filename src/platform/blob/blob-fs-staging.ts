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
import { DIRECT_ALIGN, DIRECT_BLOCK_BYTES, type AlignedPool } from '../aligned-buffers.js';
import { AppError } from '../errors.js';
import { HASH_BACKLOG_BYTES, type RemoteHash } from './blob-fs-hash.js';
import type { BlobStaging } from './blob-store.js';

const shrank = (pos: number) => new AppError('invalid_argument', `the session file ended at byte ${pos} while being read: it shrank`);

/** A live upload session of the fs store: its running hash and the bytes it holds. */
export interface LiveSession {
  hash: RemoteHash;
  offset: number;
  /** One append (or one staged range) at a time per session; a second concurrent one is a conflict. */
  busy: boolean;
}

/**
 * Makes `hash`, a copy of the session's hash that took in `bytes` more, the session's state
 * (an append or a staged range succeeded). Frees it at once if the session was aborted
 * meanwhile: nothing will ask for it again. Returns the new offset.
 */
export function advanceSession(live: ReadonlyMap<string, LiveSession>, id: string, s: LiveSession, hash: RemoteHash, bytes: number): number {
  s.hash.drop();
  s.hash = hash;
  s.offset += bytes;
  if (live.get(id) !== s) hash.drop();
  return s.offset;
}

/** What staging needs of the fs store that owns the sessions. */
export interface FsStagingDeps {
  sessionPath(id: string): string;
  /** Session states this process holds, by id. */
  live: Map<string, LiveSession>;
  /** The state of a session, rebuilt from its file when this process holds none. */
  liveSession(id: string): Promise<LiveSession>;
  fileSize(id: string): Promise<number>;
  newHash(): RemoteHash;
  directPool(): Promise<AlignedPool | null>;
}

/** The fs store's `staging` (see `BlobStore.staging`). */
export function createFsStaging(deps: FsStagingDeps): BlobStaging {
  const { sessionPath, live, liveSession, fileSize, newHash, directPool } = deps;
  return {
    async open(id) {
      const file = sessionPath(id);
      const created = await fsp.writeFile(file, '', { flag: 'wx', mode: 0o600 }).then(
        () => true,
        (err: NodeJS.ErrnoException) => {
          if (err.code !== 'EEXIST') throw err;
          return false;
        },
      );
      // A new session's state is known (nothing taken in): the client writes ahead of what the
      // store took in, so a rebuild from the file would hash bytes nobody announced yet.
      if (created && !live.has(id)) live.set(id, { hash: newHash(), offset: 0, busy: false });
      return file;
    },
    async find(id) {
      const file = sessionPath(id);
      return fs.existsSync(file) ? file : null;
    },
    async ingest(id, offset, length) {
      const file = sessionPath(id);
      const known = live.get(id);
      // A state this process holds is the truth; only without one is it rebuilt from the file.
      const s = known && known.hash.alive ? known : await liveSession(id);
      if (s.busy) throw new AppError('conflict', `upload session ${id} is taking in another range`, { offset: s.offset });
      if (offset !== s.offset) throw new AppError('conflict', `upload session ${id} holds ${s.offset} bytes, not ${offset}`, { offset: s.offset });
      const size = await fileSize(id);
      if (size < offset + length) {
        throw new AppError('invalid_argument', `the session file holds ${size} bytes, fewer than the ${offset + length} claimed: write the range before taking it in`, { offset: s.offset });
      }
      s.busy = true;
      const hash = s.hash.copy();
      try {
        await hashStagedRange(file, offset, length, hash, await directPool());
        return advanceSession(live, id, s, hash, length);
      } catch (err) {
        // The file is as it was: the state stays, only the copy goes.
        hash.drop();
        throw err;
      } finally {
        s.busy = false;
      }
    },
  };
}

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

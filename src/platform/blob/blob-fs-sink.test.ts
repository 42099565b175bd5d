import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HashThread } from './blob-fs-hash.js';
import { AlignedPool, DIRECT_BLOCK_BYTES } from '../aligned-buffers.js';
import { openSink, probeDirectIo } from './blob-fs-sink.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-sink-'));
const hasher = new HashThread();
afterAll(async () => {
  await hasher.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Writes `data` through a sink in uneven batches, as sockets deliver it; the file's bytes and the hash's digest. */
async function writeThrough(file: string, start: number, data: Buffer, pool: AlignedPool | null, expected?: number) {
  const hash = hasher.create();
  const { sink, fh } = await openSink(file, start, hash, pool, { exclusive: start === 0, expected });
  try {
    for (let at = 0; at < data.length; ) {
      const n = Math.min(data.length - at, 1 + ((at * 7919) % 300_000));
      await sink.write([Buffer.from(data.subarray(at, at + n))], true);
      at += n;
    }
    await sink.finish();
  } finally {
    await sink.close();
    await fh.sync();
    await fh.close();
  }
  const digest = await hash.digest();
  hash.drop();
  return { kind: sink.constructor.name, digest };
}

describe('blob sinks', async () => {
  const pool = new AlignedPool(4);
  const direct = await probeDirectIo(dir, pool);

  it('hands out page-aligned buffers of one block, and no more than its maximum', () => {
    const p = new AlignedPool(4);
    const a = p.takePair()!;
    const b = p.takePair()!;
    for (const buf of [...a, ...b]) {
      expect(buf.length).toBe(DIRECT_BLOCK_BYTES);
      expect(buf.byteOffset % 4096).toBe(0);
    }
    // Buffers are made 16 at a time: a maximum below 16 still makes one batch; 0 makes none.
    expect(new AlignedPool(1).takePair()).not.toBeNull();
    expect(new AlignedPool(0).takePair()).toBeNull();
    p.give(...a);
    expect(p.takePair()).not.toBeNull();
  });

  it.runIf(direct)('writes whole blocks directly and the unaligned tail through the page cache, exactly', async () => {
    const data = randomBytes(3 * DIRECT_BLOCK_BYTES + 12_345);
    const file = path.join(dir, 'direct.bin');
    const res = await writeThrough(file, 0, data, pool);
    expect(res.kind).toBe('DirectSink');
    expect(res.digest).toBe(sha(data));
    expect(fs.readFileSync(file).equals(data)).toBe(true);
  });

  it.runIf(direct)('appends directly at an aligned offset, and through the page cache at an unaligned one', async () => {
    const data = randomBytes(5 * DIRECT_BLOCK_BYTES + 777);
    const file = path.join(dir, 'append.bin');
    const first = await writeThrough(file, 0, data.subarray(0, 2 * DIRECT_BLOCK_BYTES + 5), pool);
    expect(first.kind).toBe('DirectSink');
    const second = await writeThrough(file, 2 * DIRECT_BLOCK_BYTES + 5, data.subarray(2 * DIRECT_BLOCK_BYTES + 5), pool);
    expect(second.kind).toBe('BufferedSink');
    expect(fs.readFileSync(file).equals(data)).toBe(true);
  });

  it('writes through the page cache without a pool, or for a body smaller than a block', async () => {
    const data = randomBytes(DIRECT_BLOCK_BYTES + 1);
    const a = await writeThrough(path.join(dir, 'nopool.bin'), 0, data, null);
    expect(a.kind).toBe('BufferedSink');
    expect(a.digest).toBe(sha(data));
    const small = randomBytes(1000);
    const b = await writeThrough(path.join(dir, 'small.bin'), 0, small, pool, small.length);
    expect(b.kind).toBe('BufferedSink');
    expect(fs.readFileSync(path.join(dir, 'small.bin')).equals(small)).toBe(true);
  });

  it('falls back to the page cache when the pool is spent, and gives buffers back on close', async () => {
    const tiny = new AlignedPool(0);
    const r = await writeThrough(path.join(dir, 'spent.bin'), 0, randomBytes(2 * DIRECT_BLOCK_BYTES), tiny);
    expect(r.kind).toBe('BufferedSink');
    if (!direct) return;
    // Two sinks in a row from a pool of one pair: the first gave its pair back.
    const one = new AlignedPool(2);
    expect((await writeThrough(path.join(dir, 'p1.bin'), 0, randomBytes(DIRECT_BLOCK_BYTES * 2), one)).kind).toBe('DirectSink');
    expect((await writeThrough(path.join(dir, 'p2.bin'), 0, randomBytes(DIRECT_BLOCK_BYTES * 2), one)).kind).toBe('DirectSink');
  });
});

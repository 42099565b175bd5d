/**
 * The blob store contract: one suite, run by every implementation (fs, s3), so both keep
 * exactly the same promises. Called from blob-fs.test.ts and blob-s3.int.test.ts.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore } from './blob-store.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A source that emits `parts` and then fails, like a client whose connection drops. */
function failingSource(parts: Buffer[]): Readable {
  let i = 0;
  return new Readable({
    read() {
      if (i < parts.length) this.push(parts[i++]);
      else this.destroy(new Error('connection reset'));
    },
  });
}

export function runBlobStoreContract(name: string, makeStore: () => Promise<BlobStore>, opts: { largeBytes?: number } = {}): void {
  describe(`blob store contract: ${name}`, () => {
    let store: BlobStore;
    beforeAll(async () => {
      store = await makeStore();
    });
    afterAll(async () => {
      await store?.close();
    });

    it('stores bytes under their sha256 and reads them back whole and by range', async () => {
      const data = randomBytes(100_000);
      const h = sha(data);
      expect(await store.stat(h)).toBeNull();
      const res = await store.put(h, Readable.from([data]), { size: data.length });
      expect(res).toEqual({ size: data.length, created: true });
      expect(await store.stat(h)).toEqual({ size: data.length });
      expect((await buffer(await store.get(h))).equals(data)).toBe(true);
      const part = await buffer(await store.get(h, { start: 10, end: 99 }));
      expect(part.equals(data.subarray(10, 100))).toBe(true);
      const tail = await buffer(await store.get(h, { start: 99_990 }));
      expect(tail.equals(data.subarray(99_990))).toBe(true);
    });

    it('stores an empty blob', async () => {
      const h = sha(Buffer.alloc(0));
      await store.put(h, Readable.from([]), { size: 0 });
      expect(await store.stat(h)).toEqual({ size: 0 });
      expect((await buffer(await store.get(h))).length).toBe(0);
    });

    it('reports created=false for bytes it already holds', async () => {
      const data = randomBytes(1000);
      const h = sha(data);
      await store.put(h, Readable.from([data]));
      expect(await store.put(h, Readable.from([data]))).toEqual({ size: 1000, created: false });
    });

    it('rejects bytes that do not match their sha256 and keeps nothing', async () => {
      const data = randomBytes(5000);
      const wrong = sha(randomBytes(10));
      await expect(store.put(wrong, Readable.from([data]))).rejects.toMatchObject({ code: 'unprocessable' });
      expect(await store.stat(wrong)).toBeNull();
    });

    it('rejects a byte count that differs from the declared size', async () => {
      const data = randomBytes(5000);
      const h = sha(data);
      await expect(store.put(h, Readable.from([data]), { size: 4999 })).rejects.toMatchObject({ code: 'unprocessable' });
      await expect(store.put(h, Readable.from([data]), { size: 5001 })).rejects.toMatchObject({ code: 'unprocessable' });
      expect(await store.stat(h)).toBeNull();
    });

    it('leaves nothing visible when the source fails midway', async () => {
      const data = randomBytes(64 * 1024);
      const h = sha(data);
      await expect(store.put(h, failingSource([data.subarray(0, 1000)]))).rejects.toThrow();
      expect(await store.stat(h)).toBeNull();
    });

    it('answers not_found for a missing blob', async () => {
      await expect(store.get(sha(randomBytes(8)))).rejects.toMatchObject({ code: 'not_found' });
    });

    it('deletes a blob, and deleting again is harmless', async () => {
      const data = randomBytes(100);
      const h = sha(data);
      await store.put(h, Readable.from([data]));
      await store.delete(h);
      expect(await store.stat(h)).toBeNull();
      await store.delete(h);
    });

    it('assembles an upload session from chunks at exact offsets', async () => {
      const data = randomBytes(300_000);
      const h = sha(data);
      const id = randomUUID();
      expect(await store.sessionOffset(id)).toBe(0);
      expect(await store.sessionAppend(id, 0, Readable.from([data.subarray(0, 100_000)]), { maxBytes: 1 << 30 })).toBe(100_000);
      await expect(
        store.sessionAppend(id, 0, Readable.from([data.subarray(0, 10)]), { maxBytes: 1 << 30 }),
      ).rejects.toMatchObject({ code: 'conflict', details: { offset: 100_000 } });
      expect(await store.sessionAppend(id, 100_000, Readable.from([data.subarray(100_000)]), { maxBytes: 1 << 30 })).toBe(300_000);
      expect(await store.sessionOffset(id)).toBe(300_000);
      expect(await store.sessionComplete(id, h, data.length)).toEqual({ size: data.length, created: true });
      expect((await buffer(await store.get(h))).equals(data)).toBe(true);
      expect(await store.sessionOffset(id)).toBe(0);
    });

    it('resumes a session after a failed chunk from the offset it reports', async () => {
      const data = randomBytes(200_000);
      const h = sha(data);
      const id = randomUUID();
      await store.sessionAppend(id, 0, Readable.from([data.subarray(0, 50_000)]), { maxBytes: 1 << 30 });
      await expect(
        store.sessionAppend(id, 50_000, failingSource([data.subarray(50_000, 60_000)]), { maxBytes: 1 << 30 }),
      ).rejects.toThrow();
      const offset = await store.sessionOffset(id);
      // fs keeps the bytes that arrived; s3 keeps whole chunks only. Either way a prefix of the data.
      expect(offset === 50_000 || offset === 60_000).toBe(true);
      await store.sessionAppend(id, offset, Readable.from([data.subarray(offset)]), { maxBytes: 1 << 30 });
      expect(await store.sessionComplete(id, h, data.length)).toMatchObject({ size: data.length });
      expect((await buffer(await store.get(h))).equals(data)).toBe(true);
    });

    it('refuses a chunk larger than maxBytes', async () => {
      const id = randomUUID();
      await expect(store.sessionAppend(id, 0, Readable.from([randomBytes(2000)]), { maxBytes: 1000 })).rejects.toMatchObject({
        code: 'too_large',
      });
      await store.sessionAbort(id);
    });

    it('rejects a completed session whose bytes do not match, and forgets it', async () => {
      const data = randomBytes(10_000);
      const id = randomUUID();
      await store.sessionAppend(id, 0, Readable.from([data]), { maxBytes: 1 << 30 });
      const wrong = sha(randomBytes(4));
      await expect(store.sessionComplete(id, wrong, data.length)).rejects.toMatchObject({ code: 'unprocessable' });
      expect(await store.stat(wrong)).toBeNull();
      expect(await store.sessionOffset(id)).toBe(0);
    });

    it('aborts a session and forgets its bytes', async () => {
      const id = randomUUID();
      await store.sessionAppend(id, 0, Readable.from([randomBytes(1000)]), { maxBytes: 1 << 30 });
      await store.sessionAbort(id);
      expect(await store.sessionOffset(id)).toBe(0);
    });

    it('rejects malformed hashes and session ids', async () => {
      await expect(store.stat('../../etc/passwd')).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(store.sessionOffset('../x')).rejects.toMatchObject({ code: 'invalid_argument' });
    });

    const large = opts.largeBytes ?? 24 * 1024 * 1024;
    it(`streams a ${Math.round(large / 1048576)} MiB blob through in pieces`, async () => {
      const piece = randomBytes(1 << 20);
      const pieces = Math.ceil(large / piece.length);
      const h = createHash('sha256');
      for (let i = 0; i < pieces; i++) h.update(piece);
      const digest = h.digest('hex');
      const src = Readable.from((function* () {
        for (let i = 0; i < pieces; i++) yield piece;
      })());
      expect(await store.put(digest, src, { size: pieces * piece.length })).toMatchObject({ size: pieces * piece.length });
      const back = await store.get(digest, { start: piece.length * 3 + 5, end: piece.length * 3 + 14 });
      expect((await buffer(back)).equals(piece.subarray(5, 15))).toBe(true);
    });

    it('is ready', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}

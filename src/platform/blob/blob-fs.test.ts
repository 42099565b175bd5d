import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createFsBlobStore } from './blob-fs.js';
import { runBlobStoreContract } from './blob-store.contract.js';

runBlobStoreContract('fs', async () => createFsBlobStore({ root: fs.mkdtempSync(path.join(os.tmpdir(), 'steward-blob-')) }));

describe('fs blob store specifics', () => {
  it('rebuilds a session hash in a new process (a new store over the same root)', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-blob-'));
    const data = randomBytes(100_000);
    const h = createHash('sha256').update(data).digest('hex');
    const id = randomUUID();
    const first = createFsBlobStore({ root });
    await first.sessionAppend(id, 0, Readable.from([data.subarray(0, 40_000)]), { maxBytes: 1 << 30 });
    const second = createFsBlobStore({ root });
    expect(await second.sessionOffset(id)).toBe(40_000);
    await second.sessionAppend(id, 40_000, Readable.from([data.subarray(40_000)]), { maxBytes: 1 << 30 });
    expect(await second.sessionComplete(id, h, data.length)).toEqual({ size: data.length, created: true });
  });

  it('never leaves a temp file behind after a rejected put', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-blob-'));
    const store = createFsBlobStore({ root });
    await expect(store.put('0'.repeat(64), Readable.from([randomBytes(10)]))).rejects.toThrow();
    expect(fs.readdirSync(path.join(root, 'tmp'))).toEqual([]);
  });
});

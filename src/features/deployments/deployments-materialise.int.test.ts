/**
 * Materialising a version's files into the deployment cache, from the filesystem store (hard
 * links: the blob's own inode) and from S3 (streamed and hashed): shared by concurrent builders,
 * nothing left behind when a blob is missing or corrupt.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFsBlobStore } from '../../platform/blob/blob-fs.js';
import { createS3BlobStore } from '../../platform/blob/blob-s3.js';
import type { BlobStore } from '../../platform/blob/blob-store.js';
import { startS3rver } from '../../../test/helpers/test-server.js';
import { materialise, type MaterialiseFile } from './deployments-materialise.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function version(store: BlobStore, files: Record<string, Buffer>): Promise<{ digest: string; files: MaterialiseFile[] }> {
  const out: MaterialiseFile[] = [];
  for (const [p, bytes] of Object.entries(files)) {
    await store.put(sha(bytes), Readable.from([bytes]), { size: bytes.length });
    out.push({ path: p, size: bytes.length, sha256: sha(bytes) });
  }
  return { digest: `sha256:${sha(Buffer.from(JSON.stringify(out)))}`, files: out };
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'steward-mat-'));
const leftovers = (root: string) => (fs.existsSync(root) ? fs.readdirSync(root).filter((n) => n.startsWith('.tmp-')) : []);

describe('materialise from the filesystem store', () => {
  let root: string;
  let store: BlobStore;
  beforeAll(() => {
    root = tmp();
    store = createFsBlobStore({ root: path.join(root, 'blobs') });
  });
  afterAll(async () => {
    await store.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('links every file to its blob (same inode, no bytes copied), once, and reuses the directory', async () => {
    const v = await version(store, { 'config.json': Buffer.from('{"a":1}'), 'weights/model.bin': randomBytes(300_000) });
    const cache = path.join(root, 'cache');
    const res = await materialise({ store, cacheRoot: cache, ...v });
    expect(res).toMatchObject({ created: true, linked: 2, copied: 0 });
    const file = path.join(res.dir, 'weights/model.bin');
    const blob = (await store.localPath!(v.files[1]!.sha256))!;
    expect(fs.statSync(file).ino).toBe(fs.statSync(blob).ino);
    expect(sha(fs.readFileSync(file))).toBe(v.files[1]!.sha256);
    expect(await materialise({ store, cacheRoot: cache, ...v })).toMatchObject({ dir: res.dir, created: false });
  });

  it('lets concurrent builders share one complete directory and leaves no temporary one', async () => {
    const v = await version(store, { 'a.bin': randomBytes(50_000), 'b/c.bin': randomBytes(10_000) });
    const cache = path.join(root, 'cache-race');
    const all = await Promise.all(Array.from({ length: 6 }, () => materialise({ store, cacheRoot: cache, ...v })));
    expect(new Set(all.map((r) => r.dir)).size).toBe(1);
    expect(all.filter((r) => r.created).length).toBeGreaterThanOrEqual(1);
    expect(fs.readdirSync(all[0]!.dir).sort()).toEqual(['a.bin', 'b']);
    expect(leftovers(cache)).toEqual([]);
  });

  it('refuses a corrupt or missing blob and leaves nothing behind', async () => {
    const good = randomBytes(4096);
    const v = await version(store, { 'w.bin': good });
    // The blob's bytes changed on disk behind the store's back (same size).
    const blob = (await store.localPath!(v.files[0]!.sha256))!;
    fs.chmodSync(blob, 0o600);
    fs.writeFileSync(blob, randomBytes(4096));
    const cache = path.join(root, 'cache-bad');
    await expect(materialise({ store, cacheRoot: cache, ...v, verify: 'full' })).rejects.toMatchObject({ code: 'unprocessable' });
    fs.truncateSync(blob, 100);
    await expect(materialise({ store, cacheRoot: cache, ...v })).rejects.toMatchObject({ code: 'unprocessable' });
    const missing = { digest: `sha256:${'0'.repeat(64)}`, files: [{ path: 'x.bin', size: 3, sha256: 'f'.repeat(64) }] };
    await expect(materialise({ store, cacheRoot: cache, ...missing })).rejects.toMatchObject({ code: 'not_found' });
    expect(fs.readdirSync(cache)).toEqual([]);
  });

  it('copies and hashes when the cache is on another filesystem', async () => {
    if (!fs.existsSync('/dev/shm') || fs.statSync('/dev/shm').dev === fs.statSync(root).dev) return;
    const v = await version(store, { 'w.bin': randomBytes(20_000) });
    const cache = fs.mkdtempSync('/dev/shm/steward-mat-');
    try {
      const res = await materialise({ store, cacheRoot: cache, ...v });
      expect(res.linked + res.copied).toBe(1);
      expect(sha(fs.readFileSync(path.join(res.dir, 'w.bin')))).toBe(v.files[0]!.sha256);
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });
});

describe('materialise from S3', () => {
  let root: string;
  let s3: { endpoint: string; close(): Promise<void> };
  let store: BlobStore;
  beforeAll(async () => {
    root = tmp();
    s3 = await startS3rver(path.join(root, 's3'), 'mat');
    store = createS3BlobStore({ kind: 's3', bucket: 'mat', prefix: 'p', endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });
  });
  afterAll(async () => {
    await store.close();
    await s3.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('streams every file through sha256 into the cache', async () => {
    const v = await version(store, { 'config.json': Buffer.from('{}'), 'model.bin': randomBytes(200_000) });
    const res = await materialise({ store, cacheRoot: path.join(root, 'cache'), ...v });
    expect(res).toMatchObject({ created: true, linked: 0, copied: 2 });
    expect(sha(fs.readFileSync(path.join(res.dir, 'model.bin')))).toBe(v.files[1]!.sha256);
    const missing = { digest: `sha256:${'1'.repeat(64)}`, files: [{ path: 'x.bin', size: 3, sha256: 'e'.repeat(64) }] };
    await expect(materialise({ store, cacheRoot: path.join(root, 'cache'), ...missing })).rejects.toMatchObject({ code: 'not_found' });
    expect(leftovers(path.join(root, 'cache'))).toEqual([]);
  });
});

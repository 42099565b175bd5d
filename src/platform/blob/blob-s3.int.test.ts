import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobConfig } from '../config.js';
import { createS3BlobStore } from './blob-s3.js';
import { runBlobStoreContract } from './blob-store.contract.js';

const BUCKET = 'steward-test';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let server: S3rver;
let dir: string;
let endpoint: string;
/** Every request s3rver saw, as "METHOD /path?query": how the tests see which S3 calls a write made. */
const requests: string[] = [];
const contractCleanupErrors: unknown[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-s3rver-'));
  server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: BUCKET }] });
  const { port } = await server.run();
  server.httpServer?.on('request', (req: IncomingMessage) => requests.push(`${req.method} ${req.url}`));
  endpoint = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
  // The contract never fails a multipart upload, so nothing there should have needed cleaning up.
  expect(contractCleanupErrors).toEqual([]);
});

function config(prefix: string): Extract<BlobConfig, { kind: 's3' }> {
  // s3rver's built-in account; its continuation tokens only accept us-east-1.
  return {
    kind: 's3',
    bucket: BUCKET,
    prefix,
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
  };
}

async function keysUnder(prefix: string): Promise<string[]> {
  const client = new S3Client({ ...config(''), credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  try {
    const res = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
    return (res.Contents ?? []).map((o) => o.Key ?? '');
  } finally {
    client.destroy();
  }
}

runBlobStoreContract('s3', async () =>
  createS3BlobStore(config(`run-${randomUUID()}`), { onCleanupError: (err) => contractCleanupErrors.push(err) }),
);

describe('s3 blob store specifics', () => {
  it('puts a blob under its prefix, at blobs/sha256/<2 hex>/<hex>', async () => {
    const prefix = `nested/p-${randomUUID()}`;
    const store = createS3BlobStore(config(`/${prefix}/`));
    const data = randomBytes(1000);
    const h = sha(data);
    await store.put(h, Readable.from([data]));
    expect(await keysUnder(`nested/p-`)).toContain(`${prefix}/blobs/sha256/${h.slice(0, 2)}/${h}`);
    expect(await keysUnder(`${prefix}/`)).toEqual([`${prefix}/blobs/sha256/${h.slice(0, 2)}/${h}`]);
    await store.close();
  });

  it('writes a blob larger than one part as a multipart upload and reads it back whole', async () => {
    const store = createS3BlobStore(config(`run-${randomUUID()}`));
    const data = randomBytes(40 * 1024 * 1024 + 123);
    const h = sha(data);
    const seen = requests.length;
    // Small pieces: parts are cut across source chunks, not one per chunk.
    const step = 300_001;
    const pieces = Array.from({ length: Math.ceil(data.length / step) }, (_, i) => data.subarray(i * step, (i + 1) * step));
    expect(await store.put(h, Readable.from(pieces), { size: data.length })).toEqual({ size: data.length, created: true });
    const mine = requests.slice(seen).filter((r) => r.includes(h));
    expect(mine.filter((r) => /^POST .*\?uploads/.test(r))).toHaveLength(1);
    expect(mine.filter((r) => /^PUT .*partNumber=/.test(r))).toHaveLength(3);
    expect(mine.filter((r) => /^POST .*uploadId=/.test(r))).toHaveLength(1);
    expect(mine.some((r) => /^PUT (?!.*partNumber=)/.test(r))).toBe(false);
    expect((await buffer(await store.get(h))).equals(data)).toBe(true);
    await store.close();
  });

  it('never completes a multipart upload whose bytes do not match, and aborts it', async () => {
    const cleanup: unknown[] = [];
    const store = createS3BlobStore(config(`run-${randomUUID()}`), { onCleanupError: (err) => cleanup.push(err) });
    const data = randomBytes(17 * 1024 * 1024);
    const wrong = sha(randomBytes(8));
    const seen = requests.length;
    await expect(store.put(wrong, Readable.from([data]))).rejects.toMatchObject({ code: 'unprocessable' });
    expect(await store.stat(wrong)).toBeNull();
    const mine = requests.slice(seen).filter((r) => r.includes(wrong));
    expect(mine.filter((r) => /^PUT .*partNumber=/.test(r))).toHaveLength(2);
    expect(mine.filter((r) => /^POST .*uploadId=/.test(r))).toHaveLength(0);
    expect(mine.filter((r) => /^DELETE .*uploadId=/.test(r))).toHaveLength(1);
    // s3rver does not implement AbortMultipartUpload (405); real S3 and MinIO do.
    expect(cleanup).toMatchObject([{ name: 'MethodNotAllowed' }]);
    await store.close();
  });

  it('assembles a session whose chunk spans several parts', async () => {
    const store = createS3BlobStore(config(`run-${randomUUID()}`));
    const data = randomBytes(20 * 1024 * 1024);
    const h = sha(data);
    const id = randomUUID();
    const cut = 1000;
    await store.sessionAppend(id, 0, Readable.from([data.subarray(0, cut)]), { maxBytes: 1 << 30 });
    expect(await store.sessionAppend(id, cut, Readable.from([data.subarray(cut)]), { maxBytes: 1 << 30 })).toBe(data.length);
    expect(await store.sessionOffset(id)).toBe(data.length);
    expect(await store.sessionComplete(id, h, data.length)).toEqual({ size: data.length, created: true });
    expect((await buffer(await store.get(h))).equals(data)).toBe(true);
    expect(await store.sessionOffset(id)).toBe(0);
    await store.close();
  });

  it('reports a failing store as not ready', async () => {
    const store = createS3BlobStore({ ...config(''), bucket: 'no-such-bucket' });
    await expect(store.ping()).rejects.toThrow();
    await store.close();
  });
});

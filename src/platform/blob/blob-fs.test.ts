import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFsBlobStore } from './blob-fs.js';
import { runBlobStoreContract } from './blob-store.contract.js';

runBlobStoreContract('fs', async () => createFsBlobStore({ root: fs.mkdtempSync(path.join(os.tmpdir(), 'steward-blob-')) }));
// Where the filesystem takes O_DIRECT (ext4 here), the suite above writes directly; this one
// keeps the page-cache path honest too.
runBlobStoreContract('fs, page cache only', async () => createFsBlobStore({ root: fs.mkdtempSync(path.join(os.tmpdir(), 'steward-blob-')), directIo: false }));

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

/**
 * Request bodies take the store's fast path: their chunks move to the hashing thread instead of
 * being copied. These tests send real HTTP bodies, so that path is the one exercised.
 */
describe('fs blob store fed by HTTP request bodies', () => {
  const MiB = 1 << 20;
  let root: string;
  let store: ReturnType<typeof createFsBlobStore>;
  let server: http.Server;
  let url: string;
  // A tiny server handing request bodies to the store: /put/<sha> and /append/<id>/<offset>.
  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-blob-http-'));
    store = createFsBlobStore({ root });
    server = http.createServer((req, res) => {
      const [, op, a, b] = (req.url ?? '').split('/');
      const work = op === 'put' ? store.put(a!, req, { size: Number(req.headers['content-length']) }) : store.sessionAppend(a!, Number(b), req, { maxBytes: 1 << 30 });
      work.then(
        (out) => res.end(JSON.stringify({ ok: out })),
        (err: unknown) => res.end(JSON.stringify({ error: (err as { code?: string }).code ?? String(err) })),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await store.close();
    fs.rmSync(root, { recursive: true, force: true });
  });
  const send = async (p: string, body: Buffer) => (await fetch(`${url}${p}`, { method: 'PUT', body: new Uint8Array(body) })).json() as Promise<{ ok?: unknown; error?: string }>;

  it('stores a body whose bytes match, across many chunks and background flushes', async () => {
    // Above the 32 MiB at which a write starts flushing in the background.
    const data = randomBytes(40 * MiB + 123);
    const h = createHash('sha256').update(data).digest('hex');
    expect(await send(`/put/${h}`, data)).toEqual({ ok: { size: data.length, created: true } });
    expect(fs.readFileSync(path.join(root, 'sha256', h.slice(0, 2), h)).equals(data)).toBe(true);
    expect(fs.readdirSync(path.join(root, 'tmp'))).toEqual([]);
  });

  it('rejects a body whose bytes do not match and leaves nothing behind', async () => {
    const data = randomBytes(3 * MiB);
    const wrong = createHash('sha256').update('something else').digest('hex');
    expect(await send(`/put/${wrong}`, data)).toEqual({ error: 'unprocessable' });
    expect(await store.stat(wrong)).toBeNull();
    expect(fs.readdirSync(path.join(root, 'tmp'))).toEqual([]);
  });

  it('verifies a session assembled from request bodies, and refuses one that does not match', async () => {
    const data = randomBytes(5 * MiB + 7);
    const h = createHash('sha256').update(data).digest('hex');
    const id = randomUUID();
    expect(await send(`/append/${id}/0`, data.subarray(0, 2 * MiB))).toEqual({ ok: 2 * MiB });
    expect(await send(`/append/${id}/${2 * MiB}`, data.subarray(2 * MiB))).toEqual({ ok: data.length });
    expect(await store.sessionComplete(id, h, data.length)).toEqual({ size: data.length, created: true });

    const bad = randomUUID();
    expect(await send(`/append/${bad}/0`, data)).toEqual({ ok: data.length });
    const other = createHash('sha256').update(data.subarray(1)).digest('hex');
    await expect(store.sessionComplete(bad, other, data.length)).rejects.toMatchObject({ code: 'unprocessable' });
    expect(await store.stat(other)).toBeNull();
    expect(await store.sessionOffset(bad)).toBe(0);
  });
});

describe('fs blob store and the caller\'s buffers', () => {
  it('never empties buffers a caller handed it (only request bodies move to the hashing thread)', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-blob-'));
    const store = createFsBlobStore({ root });
    const data = randomBytes(600_000);
    const copy = Buffer.from(data);
    const twice = createHash('sha256').update(data).update(data).digest('hex');
    expect(await store.put(twice, Readable.from([data, data]))).toEqual({ size: 2 * data.length, created: true });
    expect(data.length).toBe(600_000);
    expect(data.equals(copy)).toBe(true);
    await store.close();
  });
});

describe.each([true, false])('fs blob store staging (direct I/O allowed: %s)', (directIo) => {
  const MiB = 1 << 20;
  const write = (file: string, at: number, bytes: Buffer) => {
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, bytes, 0, bytes.length, at);
    fs.closeSync(fd);
  };

  it('takes in aligned and unaligned ranges a client wrote, and verifies them at completion', async () => {
    const store = createFsBlobStore({ root: fs.mkdtempSync(path.join(os.tmpdir(), 'steward-blob-')), directIo });
    const data = randomBytes(3 * MiB + 4321);
    const id = randomUUID();
    const file = await store.staging!.open(id);
    expect(await store.staging!.find(id)).toBe(file);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    write(file, 0, data);
    // Whole blocks, then an unaligned range (read through the page cache), then the rest.
    expect(await store.staging!.ingest(id, 0, 2 * MiB)).toBe(2 * MiB);
    expect(await store.staging!.ingest(id, 2 * MiB, 1000)).toBe(2 * MiB + 1000);
    expect(await store.sessionOffset(id)).toBe(2 * MiB + 1000);
    expect(await store.staging!.ingest(id, 2 * MiB + 1000, data.length - 2 * MiB - 1000)).toBe(data.length);
    const h = createHash('sha256').update(data).digest('hex');
    expect(await store.sessionComplete(id, h, data.length)).toEqual({ size: data.length, created: true });
    expect(await store.staging!.find(id)).toBeNull();
    const back = await store.get(h);
    const chunks: Buffer[] = [];
    for await (const c of back) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });

  it('refuses a range at the wrong offset or beyond what the file holds, and keeps its state', async () => {
    const store = createFsBlobStore({ root: fs.mkdtempSync(path.join(os.tmpdir(), 'steward-blob-')), directIo });
    const id = randomUUID();
    const file = await store.staging!.open(id);
    write(file, 0, randomBytes(5000));
    await expect(store.staging!.ingest(id, 10, 10)).rejects.toMatchObject({ code: 'conflict', details: { offset: 0 } });
    await expect(store.staging!.ingest(id, 0, 5001)).rejects.toMatchObject({ code: 'invalid_argument' });
    expect(await store.staging!.ingest(id, 0, 5000)).toBe(5000);
  });

  it('after a restart, rebuilds the state from everything the file holds and says where to continue', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-blob-'));
    const data = randomBytes(MiB + 77);
    const id = randomUUID();
    const first = createFsBlobStore({ root, directIo });
    const file = await first.staging!.open(id);
    write(file, 0, data.subarray(0, 600_000));
    await first.staging!.ingest(id, 0, 300_000);
    await first.close();
    // The new process cannot know what was announced: it takes in the whole file and says so.
    const second = createFsBlobStore({ root, directIo });
    await expect(second.staging!.ingest(id, 300_000, 300_000)).rejects.toMatchObject({ code: 'conflict', details: { offset: 600_000 } });
    write(file, 600_000, data.subarray(600_000));
    expect(await second.staging!.ingest(id, 600_000, data.length - 600_000)).toBe(data.length);
    expect(await second.sessionComplete(id, createHash('sha256').update(data).digest('hex'), data.length)).toMatchObject({ created: true });
  });
});

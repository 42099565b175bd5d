import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

  it('rebuilds a session hash in turn with appends: a chunk arriving during the rebuild waits for it', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-blob-'));
    const data = randomBytes(8 * 1024 * 1024 + 3);
    const h = createHash('sha256').update(data).digest('hex');
    const id = randomUUID();
    const half = 4 * 1024 * 1024;
    await createFsBlobStore({ root }).sessionAppend(id, 0, Readable.from([data.subarray(0, half)]), { maxBytes: 1 << 30 });
    // A new process: its first append rebuilds the hash from the file. A second append at the
    // same offset, sent at the same moment, must neither write during that read nor succeed after it.
    const second = createFsBlobStore({ root });
    const rest = data.subarray(half);
    const [a, b] = await Promise.allSettled([
      second.sessionAppend(id, half, Readable.from([rest]), { maxBytes: 1 << 30 }),
      second.sessionAppend(id, half, Readable.from([rest]), { maxBytes: 1 << 30 }),
    ]);
    expect(a).toEqual({ status: 'fulfilled', value: data.length });
    expect(b).toMatchObject({ status: 'rejected', reason: { code: 'conflict', details: { offset: data.length } } });
    expect(await second.sessionComplete(id, h, data.length)).toEqual({ size: data.length, created: true });
    expect(fs.readFileSync(path.join(root, 'sha256', h.slice(0, 2), h)).equals(data)).toBe(true);
  });

  it('rebuilds the hash after a failed chunk from the bytes the file kept', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-blob-'));
    const store = createFsBlobStore({ root });
    const data = randomBytes(3 * 1024 * 1024);
    const id = randomUUID();
    // A client that sends 2 MiB at its pace, then drops: the store writes as bytes come.
    const failing = Readable.from((async function* () {
      for (let at = 0; at < 2 * 1024 * 1024; at += 256 * 1024) {
        yield data.subarray(at, at + 256 * 1024);
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error('connection reset');
    })());
    await expect(store.sessionAppend(id, 0, failing, { maxBytes: 1 << 30 })).rejects.toThrow('connection reset');
    const offset = await store.sessionOffset(id);
    expect(offset).toBeGreaterThan(0);
    await store.sessionAppend(id, offset, Readable.from([data.subarray(offset)]), { maxBytes: 1 << 30 });
    expect(await store.sessionComplete(id, createHash('sha256').update(data).digest('hex'), data.length)).toMatchObject({ created: true });
  });

  it('waits in close for a put whose client went away, so its temp file is gone when the process exits', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-blob-'));
    const store = createFsBlobStore({ root });
    // A body that stalls after 1000 bytes and is then cut (a server closing its connections).
    const body = new PassThrough();
    const put = store.put('0'.repeat(64), body, { size: 1_000_000 });
    put.catch(() => undefined);
    body.write(randomBytes(1000));
    await new Promise((r) => setTimeout(r, 50));
    expect(fs.readdirSync(path.join(root, 'tmp')).length).toBe(1);
    body.destroy(new Error('socket closed'));
    await store.close();
    expect(fs.readdirSync(path.join(root, 'tmp'))).toEqual([]);
    await expect(put).rejects.toThrow('socket closed');
  });

  it('never leaves a temp file behind after a rejected put', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-blob-'));
    const store = createFsBlobStore({ root });
    await expect(store.put('0'.repeat(64), Readable.from([randomBytes(10)]))).rejects.toThrow();
    expect(fs.readdirSync(path.join(root, 'tmp'))).toEqual([]);
  });
});

/** Real HTTP request bodies: a rejected body still gets its error reply, a good one is stored whole. */
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

  it('stores a body whose bytes match, across many chunks', async () => {
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
  it('leaves buffers a caller handed it untouched', async () => {
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

/**
 * Only Steward writes in the store: a symbolic link in place of a session or blob file (another
 * user of a shared data dir, a careless script) is refused, never followed, so neither an
 * upload writes nor a download reads through it.
 */
describe('fs blob store and symbolic links', () => {
  const setup = () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-blob-'));
    const outside = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'steward-outside-')), 'victim');
    fs.writeFileSync(outside, 'precious');
    return { root, outside, store: createFsBlobStore({ root }) };
  };
  const chunk = (b: Buffer | string) => Readable.from([Buffer.from(b)]);

  it('refuses to append to, measure, rebuild or complete a session whose file became a link', async () => {
    const { root, outside, store } = setup();
    const id = randomUUID();
    await store.sessionAppend(id, 0, chunk('abc'), { maxBytes: 1 << 20 });
    const file = path.join(root, 'uploads', id);
    fs.rmSync(file);
    fs.symlinkSync(outside, file);
    const refused = { code: 'internal', message: expect.stringMatching(/not a regular file \(a symbolic link\?\): refused/) };
    await expect(store.sessionOffset(id)).rejects.toMatchObject(refused);
    await expect(store.sessionAppend(id, 3, chunk('def'), { maxBytes: 1 << 20 })).rejects.toMatchObject(refused);
    await expect(store.sessionComplete(id, createHash('sha256').update('precious').digest('hex'), 8)).rejects.toMatchObject(refused);
    // A new process (no running hash in memory) would read the file to rebuild it: refused too.
    await expect(createFsBlobStore({ root }).sessionAppend(id, 8, chunk('x'), { maxBytes: 1 << 20 })).rejects.toMatchObject(refused);
    expect(fs.readFileSync(outside, 'utf8')).toBe('precious');
    // Abort removes the link, not what it points at.
    await store.sessionAbort(id);
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.readFileSync(outside, 'utf8')).toBe('precious');
  });

  it('never truncates through a link planted where a new session will write', async () => {
    const { root, outside, store } = setup();
    const id = randomUUID();
    fs.symlinkSync(outside, path.join(root, 'uploads', id));
    await expect(store.sessionAppend(id, 0, chunk('evil'), { maxBytes: 1 << 20 })).rejects.toMatchObject({ code: 'internal' });
    expect(fs.readFileSync(outside, 'utf8')).toBe('precious');
  });

  it('serves no blob through a link; the next upload of that blob replaces the link', async () => {
    const { root, outside, store } = setup();
    const data = Buffer.from('the real bytes');
    const h = createHash('sha256').update(data).digest('hex');
    await store.put(h, chunk(data));
    const file = path.join(root, 'sha256', h.slice(0, 2), h);
    fs.rmSync(file);
    fs.symlinkSync(outside, file);
    await expect(store.get(h)).rejects.toMatchObject({ code: 'internal' });
    expect(await store.stat(h)).toBeNull();
    expect(await store.put(h, chunk(data))).toEqual({ size: data.length, created: true });
    expect(fs.lstatSync(file).isFile()).toBe(true);
    expect(fs.readFileSync(file).equals(data)).toBe(true);
    expect(fs.readFileSync(outside, 'utf8')).toBe('precious');
  });
});

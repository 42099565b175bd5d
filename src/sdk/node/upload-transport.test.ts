import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileHasher, type HashStream } from './hash-worker.js';
import { createUploadTransport, FileRange } from './upload-transport.js';

const MiB = 1 << 20;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-transport-'));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Answers with the sha256 and length of the body; `/early` answers 409 after the first bytes. */
let server: http.Server;
let url = '';
beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/early') {
      req.once('data', () => res.writeHead(409, { 'content-type': 'application/json' }).end('{"error":{"code":"conflict","message":"moved"}}'));
      return;
    }
    const h = createHash('sha256');
    let n = 0;
    req.on('data', (c: Buffer) => {
      h.update(c);
      n += c.length;
    });
    req.on('end', () => res.end(JSON.stringify({ sha256: h.digest('hex'), bytes: n, headers: req.headers })));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('upload transport', () => {
  it('sends a file range byte for byte through reused buffers, reporting progress', async () => {
    const data = randomBytes(5 * MiB + 123);
    const file = path.join(dir, 'range.bin');
    fs.writeFileSync(file, data);
    const t = createUploadTransport();
    try {
      for (const [start, length] of [[0, data.length], [MiB + 7, 3 * MiB], [data.length - 10, 10], [0, 0]] as const) {
        let reported = 0;
        const res = await t.send({ method: 'PUT', url: `${url}/x`, headers: { 'content-length': String(length) }, body: new FileRange(file, start, length, (n) => (reported += n)) });
        expect(res.status).toBe(200);
        expect(JSON.parse(res.text)).toMatchObject({ sha256: sha(data.subarray(start, start + length)), bytes: length });
        expect(reported).toBe(length);
      }
      // Other bodies: bytes and async iterables.
      const bytes = await t.send({ method: 'PATCH', url: `${url}/y`, headers: { 'content-length': '3', 'upload-offset': '9' }, body: Buffer.from('abc') });
      expect(JSON.parse(bytes.text)).toMatchObject({ sha256: sha(Buffer.from('abc')), headers: { 'upload-offset': '9' } });
      const iter = await t.send({ method: 'PUT', url: `${url}/z`, headers: { 'content-length': '6' }, body: (async function* () { yield Buffer.from('abc'); yield Buffer.from('def'); })() });
      expect(JSON.parse(iter.text)).toMatchObject({ sha256: sha(Buffer.from('abcdef')) });
    } finally {
      t.close();
    }
  });

  it('stops sending when the server answers early, and the next request still works', async () => {
    const file = path.join(dir, 'early.bin');
    fs.writeFileSync(file, randomBytes(64 * MiB));
    const t = createUploadTransport();
    try {
      const res = await t.send({ method: 'PATCH', url: `${url}/early`, headers: { 'content-length': String(64 * MiB) }, body: new FileRange(file, 0, 64 * MiB) });
      expect(res.status).toBe(409);
      expect(JSON.parse(res.text)).toMatchObject({ error: { code: 'conflict' } });
      const ok = await t.send({ method: 'PUT', url: `${url}/after`, headers: { 'content-length': '2' }, body: Buffer.from('ok') });
      expect(ok.status).toBe(200);
    } finally {
      t.close();
    }
  });

  it('rejects (a network error for the SDK) when nothing listens', async () => {
    const t = createUploadTransport();
    try {
      await expect(t.send({ method: 'PUT', url: 'http://127.0.0.1:9/x', headers: { 'content-length': '1' }, body: Buffer.from('x') })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      t.close();
    }
  });

  it('a FileRange is also a plain async iterable of its bytes (for a client without this transport)', async () => {
    const data = randomBytes(2 * MiB + 500);
    const file = path.join(dir, 'iter.bin');
    fs.writeFileSync(file, data);
    const parts: Uint8Array[] = [];
    for await (const c of new FileRange(file, 100, 2 * MiB)) parts.push(Buffer.from(c));
    expect(Buffer.concat(parts).equals(data.subarray(100, 100 + 2 * MiB))).toBe(true);
  });
});

describe('file hasher', () => {
  it('hashes files of every size class, reusing its buffers between files', async () => {
    const hasher = new FileHasher();
    for (const size of [0, 1, MiB - 1, MiB, MiB + 1, 3 * MiB + 17]) {
      const data = randomBytes(size);
      const file = path.join(dir, `h-${size}.bin`);
      fs.writeFileSync(file, data);
      let seen = 0;
      expect(await hasher.hash(file, (n) => (seen += n))).toBe(sha(data));
      expect(seen).toBe(size);
    }
    await expect(hasher.hash(path.join(dir, 'missing.bin'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('file range with a hash', () => {
  it('feeds the hash exactly the bytes sent, in order, before the send resolves', async () => {
    const data = randomBytes(6 * MiB + 333);
    const file = path.join(dir, 'hashed.bin');
    fs.writeFileSync(file, data);
    const h = createHash('sha256');
    let fed = 0;
    // Like the hashing thread: takes each buffer away for a moment and gives it back.
    const hash: HashStream = {
      update: (buf, length) =>
        new Promise((resolve) =>
          setTimeout(() => {
            h.update(buf.subarray(0, length));
            fed += length;
            resolve(buf);
          }, 1),
        ),
      digest: async () => h.digest('hex'),
      drop: () => undefined,
    };
    const t = createUploadTransport();
    try {
      const start = 1000;
      const length = data.length - start;
      const res = await t.send({ method: 'PUT', url: `${url}/h`, headers: { 'content-length': String(length) }, body: new FileRange(file, start, length, () => undefined, hash) });
      expect(fed).toBe(length);
      expect(JSON.parse(res.text)).toMatchObject({ sha256: sha(data.subarray(start)) });
      expect(await hash.digest()).toBe(sha(data.subarray(start)));
    } finally {
      t.close();
    }
  });
});

describe('file hasher prefixes', () => {
  it('hashes the first bytes of a file, or all of a shorter one', async () => {
    const data = randomBytes(3 * MiB + 10);
    const file = path.join(dir, 'prefix.bin');
    fs.writeFileSync(file, data);
    const hasher = new FileHasher();
    for (const limit of [0, 1, MiB, MiB + 1, 3 * MiB + 10, 5 * MiB]) {
      const h = createHash('sha256');
      const n = await hasher.hashInto(h, file, limit);
      expect(n).toBe(Math.min(limit, data.length));
      expect(h.digest('hex')).toBe(sha(data.subarray(0, limit)));
    }
  });
});

/**
 * Staged uploads over HTTP on both backends: a caller on the server's host asks for a staging
 * file, writes a session's bytes into it and has the server take each range in (read back,
 * hashed, flushed); completion verifies them like any session. The filesystem store grants
 * staging, the S3 store does not (the bytes then go by PATCH).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlobResponse, UploadSessionResponse } from '../../contracts/uploads.js';
import { BACKENDS, type TestServer } from '../../../test/helpers/test-server.js';
import { expectBody, expectError, randomBlob, type Api, serveSuite } from '../../../test/helpers/test-api.js';

/** Writes `bytes` into the staging file at `at`, as a local client does. */
function writeStaged(file: string, at: number, bytes: Buffer): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.writeSync(fd, bytes, 0, bytes.length, at);
  } finally {
    fs.closeSync(fd);
  }
}

/** The counter of received bytes by `via`, read from /metrics. */
async function receivedBytes(server: TestServer, via: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const m = new RegExp(`^steward_upload_bytes_total\\{via="${via}"\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

describe.each(BACKENDS)('staged uploads on %s', (backend) => {
  let server: TestServer;
  let api: Api;
  serveSuite(backend, (s, a) => ((server = s), (api = a)));
  // Sizes no other test of this server uses: an undeclared session is refused while a blob has its size.
  let nextSize = 500_001;
  const fresh = () => randomBlob(nextSize++);
  const staged = (id: string, offset: number, length: number) => api.post(`/api/v1/uploads/${id}/staged`, { offset, length });

  // Only a filesystem store can grant staging; the S3 store's refusal is the last test.
  if (backend === 'sqlite-fs') {
    it('grants a staging file to a local caller and stores what was written there once taken in', async () => {
      const b = fresh();
      const before = await receivedBytes(server, 'staged');
      const s = expectBody(await api.post('/api/v1/uploads', { size: b.size, staging: true }), 201, UploadSessionResponse);
      expect(s.stagingPath).not.toBeNull();
      const file = s.stagingPath!;
      expect(path.isAbsolute(file)).toBe(true);
      expect(path.basename(file)).toBe(s.id);
      const st = fs.statSync(file);
      expect(st.size).toBe(0);
      expect(st.mode & 0o777).toBe(0o600);

      // The client writes ahead of what it announces: the session's offset is what was taken in.
      writeStaged(file, 0, b.bytes);
      expect(expectBody(await staged(s.id, 0, 100_000), 200, UploadSessionResponse)).toMatchObject({ offset: 100_000, stagingPath: file });
      expect(expectBody(await api.get(`/api/v1/uploads/${s.id}`), 200, UploadSessionResponse)).toMatchObject({ offset: 100_000, stagingPath: file });
      expectBody(await staged(s.id, 100_000, b.size - 100_000), 200, UploadSessionResponse);
      expect(expectBody(await api.post(`/api/v1/uploads/${s.id}/complete`, { sha256: b.sha256 }), 201, BlobResponse)).toEqual({ sha256: b.sha256, size: b.size, created: true });
      expect((await api.get(`/api/v1/blobs/${b.sha256}`)).bytes.equals(b.bytes)).toBe(true);
      expect(fs.existsSync(file)).toBe(false);
      expect((await receivedBytes(server, 'staged')) - before).toBe(b.size);
    });

    it('refuses ranges at the wrong offset, not written yet, past the blob or over a chunk, and keeps the session', async () => {
      const b = fresh();
      const s = expectBody(await api.post(`/api/v1/blobs/${b.sha256}/uploads`, { size: b.size, staging: true }), 201, UploadSessionResponse);
      const file = s.stagingPath!;
      writeStaged(file, 0, b.bytes.subarray(0, 200_000));
      expect(expectError(await staged(s.id, 5, 10), 409, 'conflict').details).toMatchObject({ offset: 0 });
      expect(expectError(await staged(s.id, 0, 200_001), 400, 'invalid_argument').details).toMatchObject({ offset: 0 });
      expectError(await staged(s.id, 0, b.size + 1), 400, 'invalid_argument');
      expectError(await staged(s.id, -1, 10), 400, 'invalid_argument');
      expectError(await staged(s.id, 0, 0), 400, 'invalid_argument');
      expectError(await api.post('/api/v1/uploads/00000000-0000-4000-8000-000000000000/staged', { offset: 0, length: 1 }), 404, 'not_found');
      // Nothing above moved the session: it continues and completes.
      expectBody(await staged(s.id, 0, 200_000), 200, UploadSessionResponse);
      writeStaged(file, 200_000, b.bytes.subarray(200_000));
      expectBody(await staged(s.id, 200_000, b.size - 200_000), 200, UploadSessionResponse);
      expectBody(await api.post(`/api/v1/uploads/${s.id}/complete`), 201, BlobResponse);
    });

    it('takes a range no larger than a chunk', async () => {
      const big = 4 * 1024 * 1024 * 1024;
      const s = expectBody(await api.post('/api/v1/uploads', { size: big, staging: true }), 201, UploadSessionResponse);
      expectError(await staged(s.id, 0, s.maxChunkBytes + 1), 413, 'too_large');
      expect(await api.call('DELETE', `/api/v1/uploads/${s.id}`)).toMatchObject({ status: 204 });
      expect(fs.existsSync(s.stagingPath!)).toBe(false);
    });

    it('verifies staged bytes at completion: a wrong byte keeps nothing', async () => {
      const b = fresh();
      const s = expectBody(await api.post('/api/v1/uploads', { size: b.size, staging: true }), 201, UploadSessionResponse);
      const wrong = Buffer.from(b.bytes);
      wrong[12_345] = wrong[12_345]! ^ 0xff;
      writeStaged(s.stagingPath!, 0, wrong);
      expectBody(await staged(s.id, 0, b.size), 200, UploadSessionResponse);
      expectError(await api.post(`/api/v1/uploads/${s.id}/complete`, { sha256: b.sha256 }), 422, 'unprocessable');
      expect((await api.head(`/api/v1/blobs/${b.sha256}`)).status).toBe(404);
      expect(fs.existsSync(s.stagingPath!)).toBe(false);
    });
  }

  it('names no staging file unless asked, and none on a store that cannot have one', async () => {
    const b = fresh();
    const plain = expectBody(await api.post('/api/v1/uploads', { size: b.size }), 201, UploadSessionResponse);
    expect(plain.stagingPath).toBeNull();
    const asked = expectBody(await api.post('/api/v1/uploads', { size: b.size + 1_000_000, staging: true }), 201, UploadSessionResponse);
    if (backend === 'sqlite-fs') expect(asked.stagingPath).not.toBeNull();
    else {
      expect(asked.stagingPath).toBeNull();
      expectError(await staged(asked.id, 0, 1), 400, 'invalid_argument');
    }
  });
});

/**
 * The upload routes added for one-pass pushes, over HTTP on both backends: sessions whose
 * sha256 is declared at completion (verified against what the server stored, refused while a
 * stored blob has the same size).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BlobResponse, UploadSessionResponse } from '../../contracts/uploads.js';
import { BACKENDS } from '../../../test/helpers/test-server.js';
import { expectBody, expectError, randomBlob, type Api, serveSuite } from '../../../test/helpers/test-api.js';

describe.each(BACKENDS)('sessions with the sha256 declared at completion on %s', (backend) => {
  let api: Api;
  serveSuite(backend, (_server, a) => (api = a));

  const patch = (id: string, offset: number, bytes: Buffer) => api.call('PATCH', `/api/v1/uploads/${id}`, { bytes, headers: { 'upload-offset': String(offset) } });
  // Sizes no other test of this server uses: a session is refused while a blob has its size.
  let nextSize = 300_001;
  const fresh = () => randomBlob(nextSize++);

  it('stores bytes sent before their hash once the declared sha256 matches what the server stored', async () => {
    const b = fresh();
    const s = expectBody(await api.post('/api/v1/uploads', { size: b.size }), 201, UploadSessionResponse);
    expect(s).toMatchObject({ sha256: null, size: b.size, offset: 0, complete: false });
    expectBody(await patch(s.id, 0, b.bytes.subarray(0, 100_000)), 200, UploadSessionResponse);
    expect(expectBody(await api.get(`/api/v1/uploads/${s.id}`), 200, UploadSessionResponse)).toMatchObject({ sha256: null, offset: 100_000 });
    expectBody(await patch(s.id, 100_000, b.bytes.subarray(100_000)), 200, UploadSessionResponse);
    // Completing needs the sha256.
    expectError(await api.post(`/api/v1/uploads/${s.id}/complete`), 400, 'invalid_argument');
    expect(expectBody(await api.post(`/api/v1/uploads/${s.id}/complete`, { sha256: b.sha256 }), 201, BlobResponse)).toEqual({ sha256: b.sha256, size: b.size, created: true });
    expect((await api.get(`/api/v1/blobs/${b.sha256}`)).bytes.equals(b.bytes)).toBe(true);
  });

  it('refuses a declared sha256 that is not the digest of the stored bytes, keeping nothing', async () => {
    const b = fresh();
    const s = expectBody(await api.post('/api/v1/uploads', { size: b.size }), 201, UploadSessionResponse);
    expectBody(await patch(s.id, 0, b.bytes), 200, UploadSessionResponse);
    const claimed = createHash('sha256').update(b.bytes.subarray(1)).digest('hex');
    expectError(await api.post(`/api/v1/uploads/${s.id}/complete`, { sha256: claimed }), 422, 'unprocessable');
    expect((await api.head(`/api/v1/blobs/${claimed}`)).status).toBe(404);
    expect((await api.head(`/api/v1/blobs/${b.sha256}`)).status).toBe(404);
    expectError(await api.get(`/api/v1/uploads/${s.id}`), 404, 'not_found');
  });

  it('refuses to start one while a stored blob has that size: the bytes might be it', async () => {
    const b = fresh();
    expectBody(await api.call('PUT', `/api/v1/blobs/${b.sha256}`, { bytes: b.bytes }), 201, BlobResponse);
    const res = expectError(await api.post('/api/v1/uploads', { size: b.size }), 409, 'conflict');
    expect(res.details).toMatchObject({ sizeStored: true });
  });

  it('checks a sha256 sent to complete an ordinary session against the session\'s own', async () => {
    const b = fresh();
    const s = expectBody(await api.post(`/api/v1/blobs/${b.sha256}/uploads`, { size: b.size }), 201, UploadSessionResponse);
    expect(s.sha256).toBe(b.sha256);
    expectBody(await patch(s.id, 0, b.bytes), 200, UploadSessionResponse);
    const other = createHash('sha256').update('other').digest('hex');
    expectError(await api.post(`/api/v1/uploads/${s.id}/complete`, { sha256: other }), 400, 'invalid_argument');
    expect(expectBody(await api.post(`/api/v1/uploads/${s.id}/complete`, { sha256: b.sha256 }), 201, BlobResponse)).toMatchObject({ created: true });
  });
});

/**
 * Blobs over HTTP, on both backends: single-request PUT (verified, deduplicated), HEAD and
 * GET, resumable upload sessions (offsets, resume after a refused chunk, completion and its
 * verification), and garbage collection (dry run, real run, referenced blobs kept).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreatedTokenResponse } from '../src/contracts/auth.js';
import { BlobResponse, GcResponse, UploadSessionResponse } from '../src/contracts/uploads.js';
import { BACKENDS, startTestServer, type TestServer } from './helpers/test-server.js';
import { apiClient, blob, createModel, createVersion, expectBody, expectError, finalize, manifest, pushVersion, putBlob, randomBlob, uid, versionPath, type Api, type TestBlob, serveSuite } from './helpers/test-api.js';

describe.each(BACKENDS)('blob uploads on %s', (backend) => {
  let api: Api;
  serveSuite(backend, (_server, a) => (api = a));

  const startSession = async (b: TestBlob, size = b.size) =>
    expectBody(await api.post(`/api/v1/blobs/${b.sha256}/uploads`, { size }), 201, UploadSessionResponse);
  const patchChunk = (id: string, offset: number, bytes: Buffer) =>
    api.call('PATCH', `/api/v1/uploads/${id}`, { bytes, headers: { 'upload-offset': String(offset) } });

  it('stores a blob once: PUT verifies and creates it, a second PUT answers 200, HEAD and GET serve it', async () => {
    const b = randomBlob(5000);
    const path = `/api/v1/blobs/${b.sha256}`;
    expect((await api.head(path)).status).toBe(404);
    expect(expectBody(await api.call('PUT', path, { bytes: b.bytes }), 201, BlobResponse)).toEqual({ sha256: b.sha256, size: 5000, created: true });
    expect(expectBody(await api.call('PUT', path, { bytes: b.bytes }), 200, BlobResponse)).toEqual({ sha256: b.sha256, size: 5000, created: false });

    const head = await api.head(path);
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('5000');
    expect(head.bytes.length).toBe(0);
    const got = await api.get(path);
    expect(got.status).toBe(200);
    expect(got.bytes.equals(b.bytes)).toBe(true);
    const part = await api.get(path, { headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 100-199/5000');
    expect(part.bytes.equals(b.bytes.subarray(100, 200))).toBe(true);
    const past = await api.get(path, { headers: { range: 'bytes=5000-' } });
    expectError(past, 416, 'range_not_satisfiable');
    expect(past.headers.get('content-range')).toBe('bytes */5000');
  });

  it('resumes an upload session chunk by chunk, refusing a wrong offset with the real one', async () => {
    const b = randomBlob(300_000);
    const s = await startSession(b);
    expect(s).toMatchObject({ sha256: b.sha256, size: b.size, offset: 0, complete: false });

    const first = await patchChunk(s.id, 0, b.bytes.subarray(0, 100_000));
    expect(expectBody(first, 200, UploadSessionResponse).offset).toBe(100_000);
    expect(first.headers.get('upload-offset')).toBe('100000');

    // A retry of a chunk the server already holds: 409 says where to continue.
    const stale = expectError(await patchChunk(s.id, 0, b.bytes.subarray(0, 100_000)), 409, 'conflict');
    expect(stale.details?.offset).toBe(100_000);
    const ahead = expectError(await patchChunk(s.id, 200_000, b.bytes.subarray(200_000)), 409, 'conflict');
    expect(ahead.details?.offset).toBe(100_000);

    const status = await api.get(`/api/v1/uploads/${s.id}`);
    expect(expectBody(status, 200, UploadSessionResponse).offset).toBe(100_000);
    expect(status.headers.get('upload-offset')).toBe('100000');

    expect(expectBody(await patchChunk(s.id, 100_000, b.bytes.subarray(100_000, 250_000)), 200, UploadSessionResponse).offset).toBe(250_000);
    expect(expectBody(await patchChunk(s.id, 250_000, b.bytes.subarray(250_000)), 200, UploadSessionResponse).offset).toBe(300_000);
    expect(expectBody(await api.post(`/api/v1/uploads/${s.id}/complete`), 201, BlobResponse)).toEqual({ sha256: b.sha256, size: b.size, created: true });

    expect((await api.head(`/api/v1/blobs/${b.sha256}`)).status).toBe(200);
    expect((await api.get(`/api/v1/blobs/${b.sha256}`)).bytes.equals(b.bytes)).toBe(true);
    expectError(await api.get(`/api/v1/uploads/${s.id}`), 404, 'not_found');

    // The blob counts for versions at once.
    const name = `sess-${uid()}`;
    await createModel(api, name);
    expect((await createVersion(api, name, { version: '1.0.0', files: manifest({ 'big.bin': b }) })).missing).toEqual([]);
    expect((await finalize(api, name, '1.0.0')).state).toBe('ready');
  });

  it('answers complete=true for a session on a blob it already has', async () => {
    const b = randomBlob(64);
    await putBlob(api, b);
    const res = await api.post(`/api/v1/blobs/${b.sha256}/uploads`, { size: b.size });
    expect(expectBody(res, 200, UploadSessionResponse)).toMatchObject({ complete: true, offset: b.size });
  });

  it('refuses a chunk longer than the declared size, and the session still completes from its offset', async () => {
    const b = randomBlob(1000);
    const s = await startSession(b);
    expectError(await patchChunk(s.id, 0, Buffer.concat([b.bytes, Buffer.from('extra')])), 413, 'too_large');
    const { offset } = expectBody(await api.get(`/api/v1/uploads/${s.id}`), 200, UploadSessionResponse);
    expect(offset).toBeGreaterThanOrEqual(0);
    expect(offset).toBeLessThanOrEqual(b.size);
    if (offset < b.size) expect(expectBody(await patchChunk(s.id, offset, b.bytes.subarray(offset)), 200, UploadSessionResponse).offset).toBe(b.size);
    expectBody(await api.post(`/api/v1/uploads/${s.id}/complete`), 201, BlobResponse);
    expect((await api.get(`/api/v1/blobs/${b.sha256}`)).bytes.equals(b.bytes)).toBe(true);
  });

  it('ends a session whose bytes do not match its hash with 422, storing nothing', async () => {
    const declared = randomBlob(2000);
    const s = await startSession(declared);
    const wrong = randomBlob(2000);
    expectBody(await patchChunk(s.id, 0, wrong.bytes), 200, UploadSessionResponse);
    expectError(await api.post(`/api/v1/uploads/${s.id}/complete`), 422, 'unprocessable');
    expectError(await api.get(`/api/v1/uploads/${s.id}`), 404, 'not_found');
    expect((await api.head(`/api/v1/blobs/${declared.sha256}`)).status).toBe(404);
    expect((await api.head(`/api/v1/blobs/${wrong.sha256}`)).status).toBe(404);
  });

  it('ends a session holding fewer bytes than declared with 422 as well', async () => {
    const b = randomBlob(2000);
    const s = await startSession(b);
    expectBody(await patchChunk(s.id, 0, b.bytes.subarray(0, 1000)), 200, UploadSessionResponse);
    expectError(await api.post(`/api/v1/uploads/${s.id}/complete`), 422, 'unprocessable');
    expectError(await api.get(`/api/v1/uploads/${s.id}`), 404, 'not_found');
    expect((await api.head(`/api/v1/blobs/${b.sha256}`)).status).toBe(404);
  });

  it('abandons a session on DELETE, and needs Upload-Offset on every chunk', async () => {
    const b = randomBlob(100);
    const s = await startSession(b);
    expectError(await api.call('PATCH', `/api/v1/uploads/${s.id}`, { bytes: b.bytes }), 400, 'invalid_argument');
    expectError(await api.call('PATCH', `/api/v1/uploads/${s.id}`, { bytes: b.bytes, headers: { 'upload-offset': '-1' } }), 400, 'invalid_argument');
    expect((await api.del(`/api/v1/uploads/${s.id}`)).status).toBe(204);
    expectError(await api.get(`/api/v1/uploads/${s.id}`), 404, 'not_found');
    expectError(await patchChunk(s.id, 0, b.bytes), 404, 'not_found');
    expectError(await api.get('/api/v1/uploads/00000000-0000-4000-8000-000000000000'), 404, 'not_found');
  });
});

describe.each(BACKENDS)('garbage collection on %s', (backend) => {
  let server: TestServer;
  let api: Api;
  beforeAll(async () => {
    // No grace period: a blob is collectable as soon as nothing references it.
    server = await startTestServer(backend, { gcGraceSeconds: 0 });
    api = apiClient(server);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('lists unreferenced blobs on a dry run, removes them on a real run, and never touches referenced ones', async () => {
    const name = `gc-${uid()}`;
    await createModel(api, name);
    const kept = randomBlob(300);
    await pushVersion(api, name, '1.0.0', { 'kept.bin': kept });
    const pendingRef = randomBlob(200);
    await createVersion(api, name, { version: '2.0.0', files: manifest({ 'p.bin': pendingRef }) });
    await putBlob(api, pendingRef);
    const orphan = randomBlob(123);
    await putBlob(api, orphan);
    // Timestamps have millisecond precision and the cut-off is "created before now".
    await new Promise((r) => setTimeout(r, 20));

    // Other tests on this server may leave orphans too: assert on these blobs, not on totals.
    const referenced = [kept.sha256, pendingRef.sha256];
    const dry = expectBody(await api.post('/api/v1/gc', { dryRun: true }), 200, GcResponse);
    expect(dry.dryRun).toBe(true);
    expect(dry.sample).toContain(orphan.sha256);
    for (const sha of referenced) expect(dry.sample).not.toContain(sha);
    expect(dry.blobs).toBe(dry.sample.length);
    expect(dry.bytes).toBeGreaterThanOrEqual(123);
    expect((await api.head(`/api/v1/blobs/${orphan.sha256}`)).status).toBe(200);
    expect((await api.get(`/api/v1/blobs/${orphan.sha256}`)).bytes.equals(orphan.bytes)).toBe(true);

    const real = expectBody(await api.post('/api/v1/gc', { dryRun: false }), 200, GcResponse);
    expect(real).toMatchObject({ dryRun: false, blobs: dry.blobs, bytes: dry.bytes, sample: dry.sample });
    expect((await api.head(`/api/v1/blobs/${orphan.sha256}`)).status).toBe(404);
    expectError(await api.get(`/api/v1/blobs/${orphan.sha256}`), 404, 'not_found');
    // Gone from the store too: uploading it again creates it afresh.
    expect((await putBlob(api, orphan)).created).toBe(true);

    // Referenced by a ready and by a pending version: still there, still served.
    for (const b of [kept, pendingRef]) expect((await api.head(`/api/v1/blobs/${b.sha256}`)).status).toBe(200);
    expect((await api.get(`${versionPath(name, '1.0.0')}/files/kept.bin`)).bytes.equals(kept.bytes)).toBe(true);
    expect((await finalize(api, name, '2.0.0')).state).toBe('ready');
    expect((await api.get(`${versionPath(name, '2.0.0')}/files/p.bin`)).bytes.equals(pendingRef.bytes)).toBe(true);
    const again = expectBody(await api.post('/api/v1/gc', { dryRun: false }), 200, GcResponse);
    expect(again.sample).toContain(orphan.sha256);
    for (const sha of referenced) expect(again.sample).not.toContain(sha);
  });

  it('runs a dry run by default and needs an admin token', async () => {
    const b = blob(`default dry run ${uid()}`);
    await putBlob(api, b);
    await new Promise((r) => setTimeout(r, 20));
    const res = expectBody(await api.post('/api/v1/gc', {}), 200, GcResponse);
    expect(res.dryRun).toBe(true);
    expect(res.sample).toContain(b.sha256);
    expect((await api.head(`/api/v1/blobs/${b.sha256}`)).status).toBe(200);
    expectError(await api.post('/api/v1/gc', { dryRun: false }, { token: null }), 401, 'unauthenticated');
    const dev = expectBody(await api.post('/api/v1/tokens', { name: `dev-${uid()}`, role: 'developer' }), 201, CreatedTokenResponse);
    expectError(await api.post('/api/v1/gc', { dryRun: false }, { token: dev.token }), 403, 'permission_denied');
    expect((await api.head(`/api/v1/blobs/${b.sha256}`)).status).toBe(200);
  });
});

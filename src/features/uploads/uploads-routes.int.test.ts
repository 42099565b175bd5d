/**
 * The upload routes added for one-pass pushes, over HTTP on both backends: sessions whose
 * sha256 is declared at completion (verified against what the server stored, refused while a
 * stored blob has the same size), and the local upload socket (offered to callers on this
 * host only, the same API and auth through it).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobResponse, LocalSocketResponse, UploadSessionResponse } from '../../contracts/uploads.js';
import { BACKENDS, startTestServer, type TestServer } from '../../../test/helpers/test-server.js';
import { apiClient, expectBody, expectError, randomBlob, type Api, serveSuite } from '../../../test/helpers/test-api.js';
import { isLocalCaller } from './uploads-local-socket.js';

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

describe('the local upload socket', () => {
  let server: TestServer;
  let api: Api;
  beforeAll(async () => {
    server = await startTestServer('sqlite-fs');
    api = apiClient(server);
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** A request through a Unix socket, answered with status and parsed JSON. */
  function overSocket(socketPath: string, method: string, path: string, body?: Buffer, token: string | null = server.token): Promise<{ status: number; body: unknown }> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
      if (body) Object.assign(headers, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
      const req = http.request({ socketPath, method, path, headers, agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  it('is offered to a caller on this host and carries the same API, auth included', async () => {
    const offer = expectBody(await api.get('/api/v1/uploads/local-socket'), 200, LocalSocketResponse);
    expect(offer.socket).toBe(`${server.dataDir}/uploads.sock`);
    expect(fs.statSync(offer.socket!).isSocket()).toBe(true);
    // Through the socket: the same server instance answers.
    expect(LocalSocketResponse.parse((await overSocket(offer.socket!, 'GET', '/api/v1/uploads/local-socket')).body)).toEqual(offer);
    const b = randomBlob(70_000);
    const put = await overSocket(offer.socket!, 'PUT', `/api/v1/blobs/${b.sha256}`, b.bytes);
    expect(put.status).toBe(201);
    expect(BlobResponse.parse(put.body)).toEqual({ sha256: b.sha256, size: b.size, created: true });
    expect((await api.get(`/api/v1/blobs/${b.sha256}`)).bytes.equals(b.bytes)).toBe(true);
    // No token, no upload: the socket grants nothing by itself.
    const other = randomBlob(1000);
    expect((await overSocket(offer.socket!, 'PUT', `/api/v1/blobs/${other.sha256}`, other.bytes, null)).status).toBe(401);
    expect((await api.head(`/api/v1/blobs/${other.sha256}`)).status).toBe(404);
  });

  it('tells loopback callers from others', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', undefined]) expect([a, isLocalCaller(a)]).toEqual([a, true]);
    for (const a of ['10.0.0.1', '192.168.1.7', '::ffff:10.0.0.1', 'fe80::1', '128.0.0.1']) expect([a, isLocalCaller(a)]).toEqual([a, false]);
  });

  it('goes away with the server', async () => {
    const s = await startTestServer('sqlite-fs');
    const offer = LocalSocketResponse.parse((await apiClient(s).get('/api/v1/uploads/local-socket')).body);
    expect(offer.socket).not.toBeNull();
    await s.close();
    expect(fs.existsSync(offer.socket!)).toBe(false);
    fs.rmSync(s.dataDir, { recursive: true, force: true });
  });
});


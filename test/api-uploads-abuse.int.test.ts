/**
 * Uploads under abuse, on both backends: an upload session answers only the token that started
 * it (any other, an admin's included, gets the 404 of a session that does not exist), and a PUT
 * whose body never arrives whole (the client disconnects, or declares more than it sends)
 * stores nothing and leaves no temp file, also when the server shuts down while it waits.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CreatedTokenResponse } from '../src/contracts/auth.js';
import { BlobResponse, UploadSessionResponse } from '../src/contracts/uploads.js';
import { apiClient, expectBody, expectError, randomBlob, serveSuite, uid, type Api, type TestBlob } from './helpers/test-api.js';
import { BACKENDS, startTestServer, type TestServer } from './helpers/test-server.js';

/**
 * Sends a PUT of a blob over a raw socket, declaring `declared` bytes and sending `sent`, then
 * `how`: 'destroy' drops the connection, 'end' half-closes it (the body can never complete),
 * 'stall' leaves it open. Resolves once the socket closes (or at once for 'stall').
 */
function truncatedPut(url: string, token: string, b: TestBlob, sent: number, how: 'destroy' | 'end' | 'stall'): Promise<{ answer: string; socket: net.Socket }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(
        `PUT /api/v1/blobs/${b.sha256} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${token}\r\n` +
          `Content-Type: application/octet-stream\r\nContent-Length: ${b.size}\r\n\r\n`,
      );
      socket.write(b.bytes.subarray(0, sent), () => {
        if (how === 'stall') resolve({ answer, socket });
        // Give the server time to start writing the body before it is cut.
        else setTimeout(() => (how === 'destroy' ? socket.destroy() : socket.end()), 100);
      });
    });
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve({ answer, socket }));
  });
}

/** Waits until `check` holds (the server finishes with a dropped request after the socket closed). */
async function eventually(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) if (await check()) return;
  expect(await check()).toBe(true);
}

const tmpFiles = (server: TestServer) => (server.config.blobs.kind === 'fs' ? fs.readdirSync(path.join(server.config.blobs.root, 'tmp')) : []);

describe.each(BACKENDS)('upload sessions belong to their token on %s', (backend) => {
  let api: Api;
  let server: TestServer;
  serveSuite(backend, (s, a) => ((server = s), (api = a)));
  const tokenOf = async (role: string) => expectBody(await api.post('/api/v1/tokens', { name: `up-${uid()}`, role }), 201, CreatedTokenResponse).token;

  it('answers another token, an admin too, as if the session did not exist, and keeps serving its own', async () => {
    const owner = apiClient({ url: server.url, token: await tokenOf('developer') });
    const other = apiClient({ url: server.url, token: await tokenOf('developer') });
    const b = randomBlob(3000);
    const s = expectBody(await owner.post(`/api/v1/blobs/${b.sha256}/uploads`, { size: b.size }), 201, UploadSessionResponse);
    expectBody(await owner.call('PATCH', `/api/v1/uploads/${s.id}`, { bytes: b.bytes.subarray(0, 1000), headers: { 'upload-offset': '0' } }), 200, UploadSessionResponse);

    const unknown = '00000000-0000-4000-8000-000000000000';
    for (const intruder of [other, api]) {
      for (const id of [s.id, unknown]) {
        const says = [
          expectError(await intruder.get(`/api/v1/uploads/${id}`), 404, 'not_found'),
          expectError(await intruder.call('PATCH', `/api/v1/uploads/${id}`, { bytes: b.bytes.subarray(1000), headers: { 'upload-offset': '1000' } }), 404, 'not_found'),
          expectError(await intruder.post(`/api/v1/uploads/${id}/complete`), 404, 'not_found'),
          expectError(await intruder.del(`/api/v1/uploads/${id}`), 404, 'not_found'),
        ];
        // The same words as for a session that does not exist: nothing tells them apart.
        for (const e of says) expect(e.message).toBe(`upload session ${id} not found (it may have completed or expired)`);
      }
    }

    // Nothing the others sent reached it: the owner resumes at its own offset and completes.
    expect(expectBody(await owner.get(`/api/v1/uploads/${s.id}`), 200, UploadSessionResponse).offset).toBe(1000);
    expectBody(await owner.call('PATCH', `/api/v1/uploads/${s.id}`, { bytes: b.bytes.subarray(1000), headers: { 'upload-offset': '1000' } }), 200, UploadSessionResponse);
    expect(expectBody(await owner.post(`/api/v1/uploads/${s.id}/complete`), 201, BlobResponse)).toEqual({ sha256: b.sha256, size: b.size, created: true });
  });

  it('binds a session started without its sha256 the same way', async () => {
    const owner = apiClient({ url: server.url, token: await tokenOf('developer') });
    const other = apiClient({ url: server.url, token: await tokenOf('developer') });
    const b = randomBlob(400_000 + Math.floor(Math.random() * 100_000));
    const s = expectBody(await owner.post('/api/v1/uploads', { size: b.size }), 201, UploadSessionResponse);
    expectBody(await owner.call('PATCH', `/api/v1/uploads/${s.id}`, { bytes: b.bytes, headers: { 'upload-offset': '0' } }), 200, UploadSessionResponse);
    expectError(await other.post(`/api/v1/uploads/${s.id}/complete`, { sha256: b.sha256 }), 404, 'not_found');
    expect((await other.head(`/api/v1/blobs/${b.sha256}`)).status).toBe(404);
    expectBody(await owner.post(`/api/v1/uploads/${s.id}/complete`, { sha256: b.sha256 }), 201, BlobResponse);
  });
});

describe.each(BACKENDS)('truncated PUT bodies on %s', (backend) => {
  let server: TestServer;
  serveSuite(backend, (s) => (server = s));

  for (const how of ['destroy', 'end'] as const) {
    it(`stores nothing and leaves no temp file when the client ${how === 'destroy' ? 'disconnects' : 'sends less than Content-Length'}`, async () => {
      const b = randomBlob(3 * 1024 * 1024);
      await truncatedPut(server.url, server.token, b, 1024 * 1024, how);
      await eventually(() => tmpFiles(server).length === 0);
      expect((await apiClient(server).head(`/api/v1/blobs/${b.sha256}`)).status).toBe(404);
      // The whole body afterwards is stored as usual.
      expectBody(await apiClient(server).call('PUT', `/api/v1/blobs/${b.sha256}`, { bytes: b.bytes }), 201, BlobResponse);
    });
  }
});

describe('a PUT body cut by the server shutting down', () => {
  it('leaves no temp file once the server has closed', async () => {
    const server = await startTestServer('sqlite-fs', { shutdownGraceSeconds: 0 });
    const root = server.config.blobs.kind === 'fs' ? server.config.blobs.root : '';
    try {
      const b = randomBlob(2 * 1024 * 1024);
      const { socket } = await truncatedPut(server.url, server.token, b, 1024 * 1024, 'stall');
      await eventually(() => fs.readdirSync(path.join(root, 'tmp')).length === 1);
      // What `steward up` does on SIGTERM before exiting: whatever close leaves stays on disk.
      await server.close();
      expect(fs.readdirSync(path.join(root, 'tmp'))).toEqual([]);
      socket.destroy();
    } finally {
      await server.stop();
    }
  });
});

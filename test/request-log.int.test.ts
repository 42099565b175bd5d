/**
 * What `steward up` prints per request: at the default level only requests that failed or were
 * slow; a client that goes away mid-download is a debug line, not an error with a stack trace.
 */
import http from 'node:http';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { apiClient, blob, createModel, pushVersion, randomBlob, uid, versionPath } from './helpers/test-api.js';

interface Line {
  level: number;
  msg: string;
  req?: { url: string };
  err?: { code?: string };
}

async function logged(overrides: Parameters<typeof startTestServer>[1]): Promise<{ server: TestServer; lines: () => Line[] }> {
  let text = '';
  const sink = new PassThrough();
  sink.on('data', (d: Buffer) => (text += d.toString()));
  const server = await startTestServer('sqlite-fs', overrides, { logDestination: sink });
  return { server, lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line) };
}

const DEBUG = 20;
const INFO = 30;
const WARN = 40;

describe('request logging', () => {
  let quiet: Awaited<ReturnType<typeof logged>>;
  let slow: Awaited<ReturnType<typeof logged>>;
  beforeAll(async () => {
    quiet = await logged({ logLevel: 'debug' });
    slow = await logged({ logLevel: 'info', slowRequestMs: 0 });
  });
  afterAll(async () => {
    await quiet?.server.stop();
    await slow?.server.stop();
  });

  it('logs healthy and refused requests at debug only, one completion line each', async () => {
    const api = apiClient(quiet.server);
    const name = `quiet-${uid()}`;
    await createModel(api, name);
    expect((await api.get(`/api/v1/models/${name}`)).status).toBe(200);
    expect((await api.get(`/api/v1/models/missing-${name}`)).status).toBe(404);
    await new Promise((r) => setTimeout(r, 50));
    // The GET and the 404 (the POST's URL does not name the model).
    const mine = quiet.lines().filter((l) => l.req?.url.includes(name));
    expect(mine.filter((l) => l.msg === 'request completed')).toHaveLength(2);
    expect(mine.filter((l) => l.msg === 'incoming request')).toHaveLength(2);
    for (const l of mine) expect(l.level, l.msg).toBe(DEBUG);
  });

  it('logs a slow request at info, with what it was', async () => {
    const api = apiClient(slow.server);
    const name = `slow-${uid()}`;
    await createModel(api, name);
    await new Promise((r) => setTimeout(r, 50));
    const mine = slow.lines().filter((l) => l.req?.url === '/api/v1/models');
    expect(mine.map((l) => [l.level, l.msg])).toContainEqual([INFO, 'request completed']);
    expect(mine.some((l) => l.msg === 'incoming request')).toBe(false);
  });

  it('treats a client that disconnects mid-download as normal: a debug line, no error', async () => {
    const api = apiClient(quiet.server);
    const name = `dl-${uid()}`;
    await createModel(api, name);
    await pushVersion(api, name, '1.0.0', { 'w.bin': randomBlob(16 * 1024 * 1024), 'small.txt': blob(name) });
    const before = quiet.lines().length;
    for (let i = 0; i < 3; i++) {
      // The client reads the first bytes, then its connection goes away (as when a pull is interrupted).
      await new Promise<void>((resolve, reject) => {
        const req = http.get(`${api.url}${versionPath(name, '1.0.0')}/files/w.bin`, { headers: { authorization: `Bearer ${api.token}` } }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', reject);
      });
      await new Promise((r) => setTimeout(r, 200));
    }
    const after = quiet.lines().slice(before);
    expect(after.filter((l) => l.msg === 'client closed the connection before the response ended').length).toBeGreaterThan(0);
    expect(after.filter((l) => l.level >= WARN)).toEqual([]);
    expect(JSON.stringify(after)).not.toContain('ERR_HTTP_HEADERS_SENT');
    // The server still serves that file whole.
    expect((await api.get(`${versionPath(name, '1.0.0')}/files/small.txt`)).body).toBe(name);
  });
});

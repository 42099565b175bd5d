/**
 * Request size limits per route and the failed-authentication rate limit, as a client sees them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorEnvelope } from '../src/contracts/errors.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer('sqlite-fs', { authFailuresPerMinute: 5 });
});
afterAll(async () => {
  await server?.stop();
});

describe('body size limits', () => {
  it('refuses a JSON body over the route limit with 413 and creates nothing', async () => {
    const res = await fetch(`${server.url}/api/v1/models`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'big/one', description: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(res.status).toBe(413);
    expect(ErrorEnvelope.parse(await res.json()).error.code).toBe('too_large');
    expect((await fetch(`${server.url}/api/v1/models/big%2Fone`, { headers: { authorization: `Bearer ${server.token}` } })).status).toBe(404);
  });

  it('accepts a manifest far larger than 1 MiB on version creation (its own limit)', async () => {
    const h = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' };
    await fetch(`${server.url}/api/v1/models`, { method: 'POST', headers: h, body: JSON.stringify({ name: 'big/many-files' }) });
    const files = Array.from({ length: 20_000 }, (_, i) => ({ path: `shard-${String(i).padStart(6, '0')}.bin`, size: i, sha256: i.toString(16).padStart(64, '0') }));
    const res = await fetch(`${server.url}/api/v1/models/big%2Fmany-files/versions`, { method: 'POST', headers: h, body: JSON.stringify({ version: '1.0.0', files }) });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { fileCount: number }).fileCount).toBe(20_000);
  });
});

describe('failed authentication rate limit', () => {
  it('answers 429 with Retry-After once an address has failed too often, yet still admits a valid token from it', async () => {
    const bad = { authorization: `Bearer stw_${'z'.repeat(43)}` };
    const good = { authorization: `Bearer ${server.token}` };
    for (let i = 0; i < 5; i++) expect((await fetch(`${server.url}/api/v1/whoami`, { headers: bad })).status).toBe(401);
    const limited = await fetch(`${server.url}/api/v1/whoami`, { headers: bad });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(ErrorEnvelope.parse(await limited.json()).error.code).toBe('rate_limited');
    // Someone else behind the same address (a NAT, a proxy) with a valid token is not locked out,
    // and their success does not lift the limit for the guesser.
    expect((await fetch(`${server.url}/api/v1/whoami`, { headers: good })).status).toBe(200);
    expect((await fetch(`${server.url}/api/v1/whoami`, { headers: { authorization: 'Bearer malformed' } })).status).toBe(429);
    expect((await fetch(`${server.url}/api/v1/whoami`, { headers: bad })).status).toBe(429);
    // Health endpoints stay reachable: they take no credentials.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});

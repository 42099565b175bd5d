/**
 * Secrets never reach the logs: with logging at its most verbose, the server log of a session
 * that uses, creates, mistypes and revokes tokens contains none of their secrets.
 */
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StewardClient } from '../src/sdk/client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
let log = '';

beforeAll(async () => {
  const sink = new PassThrough();
  sink.on('data', (d: Buffer) => (log += d.toString()));
  server = await startTestServer('sqlite-fs', { logLevel: 'trace' }, { logDestination: sink });
});
afterAll(async () => {
  await server?.stop();
});

describe('log hygiene', () => {
  it('keeps every token secret out of the trace-level log', async () => {
    const admin = new StewardClient({ url: server.url, token: server.token });
    const created = await admin.createToken({ name: 'log-probe', role: 'developer' });
    const dev = new StewardClient({ url: server.url, token: created.token });
    await dev.createAsset('model', { name: 'logs/m' });
    await dev.listAssets('model');
    // A wrong secret that looks real, and one that does not.
    const wrong = `stw_${'x'.repeat(43)}`;
    await expect(new StewardClient({ url: server.url, token: wrong }).listAssets('model')).rejects.toMatchObject({ code: 'unauthenticated' });
    await fetch(`${server.url}/api/v1/models`, { headers: { authorization: 'Bearer hunter2-not-a-token' } });
    await fetch(`${server.url}/api/v1/models?token=${created.token}`, { headers: { authorization: `Bearer ${server.token}` } });
    await admin.revokeToken(created.id);
    await new Promise((r) => setTimeout(r, 100));

    expect(log).toContain('incoming request'); // the log really was written
    expect(log).toContain('/api/v1/tokens');
    for (const secret of [server.token, created.token, wrong, 'hunter2-not-a-token']) {
      expect(log.includes(secret), `log contains ${secret.slice(0, 8)}…`).toBe(false);
      // nor the part after the fixed prefix, which is the actual secret
      expect(log.includes(secret.slice(4, 30))).toBe(false);
    }
  });
});

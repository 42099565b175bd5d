/**
 * A pending version that is never finalised expires: GC (and the background sweeper) delete
 * it, it never shows up as ready or latest, and its never-uploaded blobs leave nothing behind;
 * an asset a push registered with it goes too, so an abandoned push leaves nothing.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StewardClient } from '../src/sdk/client.js';
import { BACKENDS, startTestServer, type TestServer } from './helpers/test-server.js';

describe.each(BACKENDS)('pending version expiry (%s)', (backend) => {
  let server: TestServer;
  let client: StewardClient;
  beforeAll(async () => {
    server = await startTestServer(backend, { pendingTtlSeconds: 1, gcGraceSeconds: 0 });
    client = new StewardClient({ url: server.url, token: server.token });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('deletes an abandoned pending version after its TTL, keeping ready ones', async () => {
    await client.createAsset('model', { name: 'exp/model' });
    const blob = new TextEncoder().encode('kept');
    const sha = await sha256(blob);
    await client.createVersion('model', 'exp/model', { version: '1.0.0', files: [{ path: 'w', size: blob.length, sha256: sha }] });
    await client.putBlob(sha, blob, blob.length);
    await client.finalizeVersion('model', 'exp/model', '1.0.0');
    await client.createVersion('model', 'exp/model', { version: '2.0.0', files: [{ path: 'w', size: 5, sha256: 'e'.repeat(64) }] });
    expect((await client.getVersion('model', 'exp/model', 'latest')).version).toBe('1.0.0');

    await new Promise((r) => setTimeout(r, 1200));
    const dry = await client.gc(true);
    expect(dry.expiredVersions).toBe(0);
    const gc = await client.gc(false);
    expect(gc.expiredVersions).toBe(1);
    await expect(client.getVersion('model', 'exp/model', '2.0.0')).rejects.toMatchObject({ code: 'not_found' });
    expect((await client.getVersion('model', 'exp/model', '1.0.0')).state).toBe('ready');
    // The ready version's blob is referenced, so GC kept it.
    expect(await client.blobExists(sha)).toBe(true);
    // The version number is free again.
    const again = await client.createVersion('model', 'exp/model', { version: '2.0.0', files: [{ path: 'w', size: blob.length, sha256: sha }] });
    expect(again.missing).toEqual([]);
  });

  it('removes the asset an abandoned push registered with its pending version; keeps one registered on its own', async () => {
    const pushed = `exp/pushed-${Date.now()}`;
    const registered = `exp/registered-${Date.now()}`;
    await client.createVersion('model', pushed, { version: '1.0.0', files: [{ path: 'w', size: 5, sha256: 'f'.repeat(64) }], asset: { description: 'abandoned' } });
    await client.createAsset('model', { name: registered });
    await client.createVersion('model', registered, { version: '1.0.0', files: [{ path: 'w', size: 5, sha256: 'f'.repeat(64) }] });
    expect((await client.getAsset('model', pushed)).description).toBe('abandoned');

    await new Promise((r) => setTimeout(r, 1200));
    // Two here, and whatever the test before left pending.
    expect((await client.gc(false)).expiredVersions).toBeGreaterThanOrEqual(2);
    await expect(client.getAsset('model', pushed)).rejects.toMatchObject({ code: 'not_found' });
    expect((await client.getAsset('model', registered)).versionCount).toBe(0);
    const audit = await client.listAudit({ target: `model:${pushed}*`, order: 'asc' });
    expect(audit.items.map((e) => e.action)).toEqual(['model.create', 'model.version.create', 'model.version.expire', 'model.delete']);
  });
});

async function sha256(bytes: Uint8Array): Promise<string> {
  return createHash('sha256').update(bytes).digest('hex');
}

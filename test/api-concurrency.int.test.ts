/**
 * Read-modify-writes under concurrency, on both backends. On PostgreSQL (READ COMMITTED) a
 * transaction that reads a row and then writes what it read lost the race silently: 50
 * concurrent moves of one alias recorded the wrong `previous` in most history rows and audit
 * events. Each test fires many requests at once and checks that what the history and the audit
 * trail say each change replaced is what it really replaced, and that the final state is one
 * the requests could have produced in some order.
 */
import { describe, expect, it } from 'vitest';
import { AliasHistory, AliasResponse, AssetPage, AssetResponse, VersionResponse } from '../src/contracts/assets.js';
import { AuditPage } from '../src/contracts/audit.js';
import { ModelVersionDocument } from '../src/contracts/model-version.js';
import { TokenResponse } from '../src/contracts/auth.js';
import { UploadSessionResponse } from '../src/contracts/uploads.js';
import { BACKENDS } from './helpers/test-server.js';
import { blob, createModel, createVersion, expectBody, finalize, manifest, modelPath, pushVersion, putBlob, uid, versionPath, type Api, serveSuite } from './helpers/test-api.js';

describe.each(BACKENDS)('concurrent read-modify-writes on %s', (backend) => {
  let api: Api;
  serveSuite(backend, (_server, a) => (api = a));

  /** Audit events of one action and target, oldest first. */
  const audited = async (action: string, target: string) => expectBody(await api.get(`/api/v1/audit?action=${action}&target=${encodeURIComponent(target)}&order=asc&limit=500`), 200, AuditPage).items;

  it('records what each of 50 concurrent alias moves replaced: one chain in the history and the audit trail', async () => {
    const name = `alias-race-${uid()}`;
    await createModel(api, name);
    const weights = blob(`weights of ${name}`);
    const versions = Array.from({ length: 50 }, (_, i) => `1.0.${i}`);
    await pushVersion(api, name, versions[0]!, { w: weights });
    for (const v of versions.slice(1)) {
      await createVersion(api, name, { version: v, files: manifest({ w: weights }) });
      await finalize(api, name, v);
    }
    const moves = await Promise.all(versions.map((v) => api.put(`${modelPath(name)}/aliases/champion`, { version: v })));
    for (const r of moves) expect(r.status, JSON.stringify(r.body)).toBe(200);

    const history = expectBody(await api.get(`${modelPath(name)}/alias-history?alias=champion`), 200, AliasHistory).items.reverse();
    expect(history).toHaveLength(50);
    expect(history[0]!.previousVersion).toBeNull();
    for (let i = 1; i < history.length; i++) expect(history[i]!.previousVersion, `move ${i}`).toBe(history[i - 1]!.version);
    expect(new Set(history.map((h) => h.version)).size).toBe(50);

    const events = await audited('model.alias.set', `model:${name}`);
    expect(events.map((e) => [e.change.version, e.change.previous])).toEqual(history.map((h) => [h.version, h.previousVersion]));
    expect(expectBody(await api.get(`${modelPath(name)}/aliases/champion`), 200, AliasResponse).version).toBe(history.at(-1)!.version);
  });

  it('audits each of many concurrent state changes from the state it really left', async () => {
    const name = `state-race-${uid()}`;
    await createModel(api, name);
    await pushVersion(api, name, '1.0.0', { w: blob(`w ${name}`) });
    const wanted = Array.from({ length: 30 }, (_, i) => (i % 2 ? 'ready' : 'deprecated'));
    const res = await Promise.all(wanted.map((state) => api.patch(versionPath(name, '1.0.0'), { state })));
    for (const r of res) expect(r.status, JSON.stringify(r.body)).toBe(200);
    const events = (await audited('model.version.*', `model:${name}@1.0.0`)).filter((e) => e.action !== 'model.version.create' && e.action !== 'model.version.finalize');
    let state = 'ready';
    for (const e of events) {
      expect(e.change.from, `event ${e.seq}`).toBe(state);
      expect(e.change.to).not.toBe(state);
      state = e.change.to as string;
    }
    expect(expectBody(await api.get(versionPath(name, '1.0.0')), 200, ModelVersionDocument).state).toBe(state);
  });

  it('never leaves an alias on a version archived at the same time', async () => {
    const name = `archive-race-${uid()}`;
    await createModel(api, name);
    const w = blob(`w ${name}`);
    for (let i = 0; i < 10; i++) {
      const v = `2.0.${i}`;
      if (i === 0) await pushVersion(api, name, v, { w });
      else {
        await createVersion(api, name, { version: v, files: manifest({ w }) });
        await finalize(api, name, v);
      }
      const [archive, alias] = await Promise.all([api.patch(versionPath(name, v), { state: 'archived' }), api.put(`${modelPath(name)}/aliases/a${i}`, { version: v })]);
      // One of the two wins; the other is refused with the reason.
      expect([archive.status, alias.status].sort(), JSON.stringify([archive.body, alias.body])).toEqual([200, 412]);
    }
  });

  it('keeps an asset\'s labels and their index the same under concurrent updates', async () => {
    const name = `labels-race-${uid()}`;
    await createModel(api, name);
    const bodies = Array.from({ length: 20 }, (_, i) => ({ labels: { [`k${i}`]: 'x', shared: String(i) } }));
    const res = await Promise.all(bodies.map((b) => api.patch(modelPath(name), b)));
    for (const r of res) expect(r.status, JSON.stringify(r.body)).toBe(200);
    const labels = expectBody(await api.get(modelPath(name)), 200, AssetResponse).labels;
    const winner = Number(labels.shared);
    expect(labels).toEqual(bodies[winner]!.labels);
    // The label index agrees with the document: no key of a losing update is left in it.
    for (let i = 0; i < bodies.length; i++) {
      const found = expectBody(await api.get(`/api/v1/models?q=${name}&label=k${i}=x`), 200, AssetPage).items.map((a) => a.name);
      expect(found, `k${i}`).toEqual(i === winner ? [name] : []);
    }
  });

  it('finalises a version once when asked many times at once; every request succeeds', async () => {
    const name = `finalize-race-${uid()}`;
    await createModel(api, name);
    const w = blob(`w ${name}`);
    await createVersion(api, name, { version: '1.0.0', files: manifest({ w }) });
    await putBlob(api, w);
    const res = await Promise.all(Array.from({ length: 10 }, () => api.post(`${versionPath(name, '1.0.0')}/finalize`)));
    for (const r of res) expect(expectBody(r, 200, VersionResponse).state).toBe('ready');
    expect(await audited('model.version.finalize', `model:${name}@1.0.0`)).toHaveLength(1);
  });

  it('audits a token revoked by many requests at once once, with the time it was revoked', async () => {
    const created = await api.post('/api/v1/tokens', { name: `revoke-race-${uid()}`, role: 'viewer' });
    const { id } = created.body as { id: string };
    const res = await Promise.all(Array.from({ length: 10 }, () => api.del(`/api/v1/tokens/${id}`)));
    const revokedAt = new Set(res.map((r) => expectBody(r, 200, TokenResponse).revokedAt));
    expect(await audited('token.revoke', `token:${id}`)).toHaveLength(1);
    expect(revokedAt.size).toBe(1);
  });

  it('audits an upload session aborted by many requests at once once', async () => {
    const b = blob(`abort race ${uid()}`);
    const session = expectBody(await api.post(`/api/v1/blobs/${b.sha256}/uploads`, { size: b.size }), 201, UploadSessionResponse);
    const res = await Promise.all(Array.from({ length: 10 }, () => api.del(`/api/v1/uploads/${session.id}`)));
    expect(res.filter((r) => r.status === 204).length).toBeGreaterThanOrEqual(1);
    for (const r of res) expect([204, 404]).toContain(r.status);
    const events = (await audited('upload.abort', `blob:${b.sha256}`)).filter((e) => e.change.session === session.id);
    expect(events).toHaveLength(1);
  });
});

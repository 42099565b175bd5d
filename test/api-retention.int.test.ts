/**
 * The retention policy of an asset (issue 12, item 5), over HTTP on both backends: with
 * `keepArchivedFiles: N`, archiving a version releases the files of the archived versions beyond
 * the N most recently archived, each audited; a released version keeps its document and
 * manifest but its files are refused (412, the policy named) and it cannot be restored; GC then
 * frees, from the store itself, the blobs no unreleased version lists and keeps shared ones.
 * Changing the policy applies it at once (a lower N releases, null releases no more, released
 * stays released); bad values are 400 and change nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AssetResponse, CreateVersionResponse, VersionPage, VersionResponse } from '../src/contracts/assets.js';
import { AuditPage } from '../src/contracts/audit.js';
import { ModelVersionDocument } from '../src/contracts/model-version.js';
import { EnvironmentResponse } from '../src/contracts/promotions.js';
import { GcResponse } from '../src/contracts/uploads.js';
import { openBlobStore } from '../src/platform/blob/blob-open.js';
import { fileModes } from '../src/platform/data-dir.js';
import type { BlobStore } from '../src/platform/blob/blob-store.js';
import { StewardClient } from '../src/sdk/client.js';
import { apiClient, createModel, expectBody, expectError, manifest, modelPath, pushVersion, putBlob, randomBlob, uid, versionPath, type Api } from './helpers/test-api.js';
import { BACKENDS, startTestServer, type TestServer } from './helpers/test-server.js';

describe.each(BACKENDS)('retention of archived versions\' files on %s', (backend) => {
  let server: TestServer;
  let api: Api;
  let dev: Api;
  let devName: string;
  let store: BlobStore;
  // The models of these tests live in one team whose development environment takes no version
  // by itself, so no automatic entry races the archives (and the audit counts) below.
  const team = `ret${uid()}`;
  beforeAll(async () => {
    server = await startTestServer(backend, { gcGraceSeconds: 0 });
    api = apiClient(server);
    devName = `dev-${uid()}`;
    dev = apiClient({ url: server.url, token: (await new StewardClient({ url: server.url, token: server.token }).createToken({ name: devName, role: 'developer' })).token });
    // The server's own store, opened beside it: GC must remove the bytes, not only the index row.
    store = await openBlobStore(server.config.blobs, server.log, { modes: fileModes(false) });
    expectBody(await api.put(`/api/v1/environments/development?namespace=${team}`, { autoPromote: false }), 200, EnvironmentResponse);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const doc = async (name: string, v: string) => expectBody(await api.get(versionPath(name, v)), 200, ModelVersionDocument);
  const archive = async (who: Api, name: string, v: string) => expectBody(await who.patch(versionPath(name, v), { state: 'archived' }), 200, VersionResponse);
  const released = async (name: string, versions: string[]) => Object.fromEntries(await Promise.all(versions.map(async (v) => [v, (await doc(name, v)).filesReleasedAt !== null])));
  const auditOf = async (target: string) => expectBody(await api.get(`/api/v1/audit?target=${encodeURIComponent(target)}&order=asc&limit=100`), 200, AuditPage).items;

  it('keep 1: archiving releases the files of all but the most recently archived; reads stay, downloads and restores are refused; GC frees only their own blobs', async () => {
    const name = `${team}/bot-${uid()}`;
    await createModel(api, name);
    const set = expectBody(await api.patch(modelPath(name), { keepArchivedFiles: 1 }), 200, AssetResponse);
    expect(set.keepArchivedFiles).toBe(1);
    expect(expectBody(await api.get(modelPath(name)), 200, AssetResponse).keepArchivedFiles).toBe(1);

    const [a1, a2, a3] = [randomBlob(1000), randomBlob(1001), randomBlob(1002)];
    const shared = randomBlob(500); // every version lists it, 2.0.0 (ready) too
    const twoReleased = randomBlob(300); // only 1.0.0 and 1.1.0, both released in the end
    const withKept = randomBlob(200); // 1.0.0 and 1.2.0, the archived version that keeps its files
    await pushVersion(api, name, '1.0.0', { w: a1, shared, c: twoReleased, k: withKept });
    await pushVersion(api, name, '1.1.0', { w: a2, shared, c: twoReleased });
    await pushVersion(api, name, '1.2.0', { w: a3, shared, k: withKept });
    await pushVersion(api, name, '2.0.0', { shared });

    const first = await archive(api, name, '1.0.0');
    expect(first).toMatchObject({ state: 'archived', archivedAt: expect.any(String), filesReleasedAt: null });
    await archive(api, name, '1.1.0');
    expect(await released(name, ['1.0.0', '1.1.0'])).toEqual({ '1.0.0': true, '1.1.0': false });
    const third = await archive(api, name, '1.2.0');
    expect(third.filesReleasedAt).toBeNull();
    expect(await released(name, ['1.0.0', '1.1.0', '1.2.0', '2.0.0'])).toEqual({ '1.0.0': true, '1.1.0': true, '1.2.0': false, '2.0.0': false });

    // The record stays: document, manifest, metadata; the release time is shown.
    const gone = await doc(name, '1.0.0');
    expect(gone.files?.map((f) => f.path)).toEqual(['c', 'k', 'shared', 'w']);
    expect(gone.files?.find((f) => f.path === 'w')).toEqual({ path: 'w', size: 1000, sha256: a1.sha256 });
    expect(gone.filesReleasedAt! >= gone.archivedAt!).toBe(true);
    const listed = expectBody(await api.get(`${modelPath(name)}/versions?state=archived&sort=version&order=asc`), 200, VersionPage).items;
    expect(listed.map((v) => [v.version, v.filesReleasedAt !== null])).toEqual([['1.0.0', true], ['1.1.0', true], ['1.2.0', false]]);

    // Audited per version, by who archived; nothing released for the one kept.
    const events = await auditOf(`model:${name}@1.0.0`);
    expect(events.map((e) => e.action)).toEqual(['model.version.create', 'model.version.finalize', 'model.version.archive', 'model.version.release-files']);
    expect(events[3]!.change).toMatchObject({ keepArchivedFiles: 1, files: 4, bytes: 2000 });
    expect((await auditOf(`model:${name}@1.2.0`)).map((e) => e.action)).not.toContain('model.version.release-files');

    // Downloads of released files are refused, naming the policy; kept ones still download.
    for (const [v, path] of [['1.0.0', 'w'], ['1.1.0', 'shared']] as const) {
      const e = expectError(await api.get(`${versionPath(name, v)}/files/${path}`), 412, 'failed_precondition');
      expect(e.message).toContain(`the files of ${name}:${v} were released at`);
      expect(e.message).toContain('by the retention policy of model');
      expect(e.message).toContain('(keepArchivedFiles=1)');
      expect(e.details).toMatchObject({ version: v, keepArchivedFiles: 1, filesReleasedAt: expect.any(String) });
    }
    expect((await api.get(`${versionPath(name, '1.2.0')}/files/w`)).bytes.equals(a3.bytes)).toBe(true);

    // A released version cannot come back; the reason is the release.
    for (const state of ['ready', 'deprecated']) {
      const e = expectError(await api.patch(versionPath(name, '1.0.0'), { state }), 412, 'failed_precondition');
      expect(e.message).toMatch(/were released at .* by the retention policy/);
    }
    expect(expectError(await api.patch(versionPath(name, '1.2.0'), { state: 'ready' }), 412, 'failed_precondition').message).toBe(`${name}:1.2.0 is archived and cannot become ready`);

    // GC frees what only released versions list, from the store itself; shared and kept blobs stay.
    const gc = expectBody(await api.post('/api/v1/gc', { dryRun: false }), 200, GcResponse);
    for (const b of [a1, a2, twoReleased]) {
      expect(gc.sample).toContain(b.sha256);
      expect((await api.head(`/api/v1/blobs/${b.sha256}`)).status).toBe(404);
      expect(await store.stat(b.sha256)).toBeNull();
    }
    for (const b of [a3, shared, withKept]) {
      expect(gc.sample).not.toContain(b.sha256);
      expect(await store.stat(b.sha256)).not.toBeNull();
    }
    expect((await api.get(`${versionPath(name, '2.0.0')}/files/shared`)).bytes.equals(shared.bytes)).toBe(true);
    expect((await api.get(`${versionPath(name, '1.2.0')}/files/k`)).bytes.equals(withKept.bytes)).toBe(true);
    // Still readable after its bytes went.
    expect((await doc(name, '1.0.0')).files).toHaveLength(4);
  });

  it('a policy change applies at once, audited as its author: a lower N releases, null releases no more and keeps released released', async () => {
    const name = `${team}/change-${uid()}`;
    await createModel(api, name);
    const blobs = { '1.0.0': randomBlob(64), '1.1.0': randomBlob(64), '1.2.0': randomBlob(64), '1.3.0': randomBlob(64) };
    for (const [v, b] of Object.entries(blobs)) await pushVersion(api, name, v, { w: b });
    // No policy: archiving keeps every file. Archived out of version order: "most recent" is by archiving time.
    for (const v of ['1.2.0', '1.0.0', '1.1.0']) {
      await archive(api, name, v);
      await new Promise((r) => setTimeout(r, 5)); // distinct archiving times
    }
    expect(await released(name, ['1.0.0', '1.1.0', '1.2.0'])).toEqual({ '1.0.0': false, '1.1.0': false, '1.2.0': false });

    // A developer sets keep 1: the two archived earliest are released in that request, as the developer.
    expect(expectBody(await dev.patch(modelPath(name), { keepArchivedFiles: 1 }), 200, AssetResponse).keepArchivedFiles).toBe(1);
    expect(await released(name, ['1.0.0', '1.1.0', '1.2.0'])).toEqual({ '1.0.0': true, '1.1.0': false, '1.2.0': true });
    const rel = (await auditOf(`model:${name}@1.0.0`)).find((e) => e.action === 'model.version.release-files');
    expect(rel?.actor).toBe(devName);
    expect((await auditOf(`model:${name}`)).map((e) => e.action)).toContain('model.update');

    // Cleared: nothing more is released, what was stays released.
    expect(expectBody(await api.patch(modelPath(name), { keepArchivedFiles: null }), 200, AssetResponse).keepArchivedFiles).toBeNull();
    await archive(api, name, '1.3.0');
    expect(await released(name, ['1.0.0', '1.1.0', '1.2.0', '1.3.0'])).toEqual({ '1.0.0': true, '1.1.0': false, '1.2.0': true, '1.3.0': false });
    const e = expectError(await api.get(`${versionPath(name, '1.0.0')}/files/w`), 412, 'failed_precondition');
    expect(e.message).toContain('(keepArchivedFiles, since cleared)');
    expectBody(await api.post('/api/v1/gc', { dryRun: false }), 200, GcResponse);
    expect(await store.stat(blobs['1.0.0'].sha256)).toBeNull();
    expect(await store.stat(blobs['1.1.0'].sha256)).not.toBeNull();
    expect(await store.stat(blobs['1.3.0'].sha256)).not.toBeNull();

    // 0 keeps none: every archived version's files go.
    expectBody(await api.patch(modelPath(name), { keepArchivedFiles: 0 }), 200, AssetResponse);
    expect(await released(name, ['1.1.0', '1.3.0'])).toEqual({ '1.1.0': true, '1.3.0': true });
    // Setting the same policy again releases nothing twice.
    expectBody(await api.patch(modelPath(name), { keepArchivedFiles: 0 }), 200, AssetResponse);
    expect((await auditOf(`model:${name}@1.2.0`)).filter((x) => x.action === 'model.version.release-files')).toHaveLength(1);
  });

  it('datasets share the policy', async () => {
    const name = `${team}/data-${uid()}`;
    const path = `/api/v1/datasets/${encodeURIComponent(name)}`;
    expectBody(await api.post('/api/v1/datasets', { name }), 201, AssetResponse);
    expectBody(await api.patch(path, { keepArchivedFiles: 0 }), 200, AssetResponse);
    const b = randomBlob(32);
    const created = expectBody(await api.post(`${path}/versions`, { version: '1.0.0', files: manifest({ 'train.jsonl': b }) }), 201, CreateVersionResponse);
    if (created.missing.length) await putBlob(api, b);
    expectBody(await api.post(`${path}/versions/1.0.0/finalize`), 200, VersionResponse);
    expect(expectBody(await api.patch(`${path}/versions/1.0.0`, { state: 'archived' }), 200, VersionResponse).filesReleasedAt).not.toBeNull();
    expectError(await api.get(`${path}/versions/1.0.0/files/train.jsonl`), 412, 'failed_precondition');
    expect((await auditOf(`dataset:${name}@1.0.0`)).map((e) => e.action)).toContain('dataset.version.release-files');
  });

  it('bad input is 400 and changes nothing: negative, fractional, text; prompts have no files; an unknown model is 404', async () => {
    const name = `${team}/bad-${uid()}`;
    await createModel(api, name);
    expectBody(await api.patch(modelPath(name), { keepArchivedFiles: 3 }), 200, AssetResponse);
    for (const keepArchivedFiles of [-1, 1.5, '2', true, 2_000_000]) {
      const e = expectError(await api.patch(modelPath(name), { keepArchivedFiles, description: 'changed' }), 400, 'invalid_argument');
      expect(e.message).toContain('keepArchivedFiles');
    }
    expect(expectBody(await api.get(modelPath(name)), 200, AssetResponse)).toMatchObject({ keepArchivedFiles: 3, description: '' });
    const prompt = `${team}/p-${uid()}`;
    expectBody(await api.post('/api/v1/prompts', { name: prompt }), 201, AssetResponse);
    expect(expectError(await api.patch(`/api/v1/prompts/${encodeURIComponent(prompt)}`, { keepArchivedFiles: 1 }), 400, 'invalid_argument').message).toContain('prompt versions have no files');
    expectError(await api.patch(modelPath(`${name}-nope`), { keepArchivedFiles: 1 }), 404, 'not_found');
  });
});

/**
 * Deleting versions, whole assets and evaluation runs over HTTP, on both backends: what depends
 * on a version (an alias, another version's lineage, an evaluation run) keeps it, with a 409
 * naming every reason and nothing half-deleted; a deletion is audited and announced as a domain
 * event; GC then frees the blobs only deleted versions listed (from the fs and the S3 store);
 * the evaluations of a deleted model version go with it; and a push the server refuses leaves
 * no asset behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AliasHistory, AssetPage, AssetResponse, CreateVersionResponse, DeleteResponse, VersionPage } from '../src/contracts/assets.js';
import { AuditPage } from '../src/contracts/audit.js';
import { RunPage, RunResponse } from '../src/contracts/evals.js';
import { ModelVersionDocument } from '../src/contracts/model-version.js';
import { EventPage } from '../src/contracts/events.js';
import { GcResponse } from '../src/contracts/uploads.js';
import { openBlobStore } from '../src/platform/blob/blob-open.js';
import { fileModes } from '../src/platform/data-dir.js';
import type { BlobStore } from '../src/platform/blob/blob-store.js';
import { datasetPath, jsonl, pushModel, pushSuite, startRun, waitRun } from './helpers/evals-fixtures.js';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.js';
import {
  apiClient,
  blob,
  createModel,
  createVersion,
  expectBody,
  expectError,
  manifest,
  modelPath,
  pushVersion,
  randomBlob,
  uid,
  versionPath,
  type Api,
} from './helpers/test-api.js';
import { BACKENDS, startTestServer, type TestServer } from './helpers/test-server.js';

interface Blocker {
  version: string;
  reason: string;
  refs: string[];
  message: string;
}

describe.each(BACKENDS)('deletion on %s', (backend) => {
  let server: TestServer;
  let api: Api;
  let store: BlobStore;
  let fake: FakeOpenAI;
  beforeAll(async () => {
    server = await startTestServer(backend, { gcGraceSeconds: 0, evalRetryBaseMs: 5, evalLeaseSeconds: 5 });
    api = apiClient(server);
    // The server's own store, opened beside it: GC must remove the bytes, not only the index row.
    store = await openBlobStore(server.config.blobs, server.log, { modes: fileModes(false) });
    fake = await startFakeOpenAI();
  });
  afterAll(async () => {
    await server?.stop();
    await fake?.close();
  });

  const audit = async (target: string) => expectBody(await api.get(`/api/v1/audit?target=${encodeURIComponent(target)}&order=asc&limit=100`), 200, AuditPage).items.map((e) => e.action);
  const events = async (type: string) => expectBody(await api.get(`/api/v1/events?types=${type}&limit=1000`), 200, EventPage).items;
  const blockersOf = (e: { details?: Record<string, unknown> | undefined }) => e.details!.blockers as Blocker[];

  it('deletes a version: gone from reads and listings, asset figures updated, audited, announced', async () => {
    const name = `del-${uid()}/bot`;
    await createModel(api, name);
    const a = randomBlob(64);
    await pushVersion(api, name, '1.0.0', { w: a });
    await pushVersion(api, name, '1.1.0', { w: randomBlob(64) });

    const res = expectBody(await api.del(versionPath(name, '1.1.0')), 200, DeleteResponse);
    expect(res).toEqual({ kind: 'model', name, versions: [{ version: '1.1.0', state: 'ready', digest: expect.stringMatching(/^sha256:/), size: 64 }], assetDeleted: false, removed: {} });
    expectError(await api.get(versionPath(name, '1.1.0')), 404, 'not_found');
    expect(expectBody(await api.get(`${modelPath(name)}/versions`), 200, VersionPage).items.map((v) => v.version)).toEqual(['1.0.0']);
    expect(expectBody(await api.get(modelPath(name)), 200, AssetResponse)).toMatchObject({ versionCount: 1, latestVersion: '1.0.0' });
    expect(await audit(`model:${name}@1.1.0`)).toEqual(['model.version.create', 'model.version.finalize', 'model.version.delete']);
    const ev = (await events('version.deleted')).filter((e) => e.subject === `model:${name}@1.1.0`);
    expect(ev.map((e) => e.data)).toEqual([{ kind: 'model', name, version: '1.1.0', state: 'ready', digest: res.versions[0]!.digest }]);
    expect(ev[0]!.namespace).toBe(name.split('/')[0]);

    // The number is free again.
    await pushVersion(api, name, '1.1.0', { w: a });
    // A pending version (an abandoned upload) can be deleted too.
    await createVersion(api, name, { version: '2.0.0', files: manifest({ w: randomBlob(8) }) });
    expect(expectBody(await api.del(versionPath(name, 'v2.0.0')), 200, DeleteResponse).versions[0]).toMatchObject({ version: '2.0.0', state: 'pending' });
  });

  it('answers bad input with the envelope and deletes nothing: unknown asset or version 404, an alias or "latest" 400', async () => {
    const name = `bad-${uid()}`;
    await createModel(api, name);
    await pushVersion(api, name, '1.0.0', { w: randomBlob(16) });
    expect(expectError(await api.del(versionPath(name, '9.9.9')), 404, 'not_found').message).toBe(`model ${name} has no version 9.9.9`);
    expectError(await api.del(versionPath(`${name}-nope`, '1.0.0')), 404, 'not_found');
    expectError(await api.del(modelPath(`${name}-nope`)), 404, 'not_found');
    expectError(await api.del(`/api/v1/datasets/${name}/versions/1.0.0`), 404, 'not_found');
    // Deletion names a version number: aliases and "latest" move.
    for (const ref of ['latest', 'champion']) expect(expectError(await api.del(versionPath(name, ref)), 400, 'invalid_argument').message).toMatch(/semantic version/);
    expect(expectBody(await api.get(versionPath(name, '1.0.0')), 200, ModelVersionDocument).state).toBe('ready');
  });

  it('refuses while an alias points at the version, naming it; nothing is deleted; allowed once the alias is gone', async () => {
    const name = `alias-${uid()}`;
    await createModel(api, name);
    await pushVersion(api, name, '1.0.0', { w: randomBlob(16) });
    await pushVersion(api, name, '2.0.0', { w: randomBlob(16) });
    await api.put(`${modelPath(name)}/aliases/champion`, { version: '1.0.0' });
    await api.put(`${modelPath(name)}/aliases/stable`, { version: '1.0.0' });

    const e = expectError(await api.del(versionPath(name, '1.0.0')), 409, 'conflict');
    expect(e.message).toBe(`model ${name}:1.0.0 cannot be deleted: aliases champion, stable point at it (move or remove them: steward alias rm ${name} champion)`);
    expect(blockersOf(e)).toEqual([{ version: '1.0.0', reason: 'alias', refs: ['champion', 'stable'], message: expect.any(String) }]);
    // The whole asset: every version must be free, so the same reason refuses it, and 2.0.0 stays too.
    const all = expectError(await api.del(modelPath(name)), 409, 'conflict');
    expect(all.message).toMatch(new RegExp(`^model ${name} cannot be deleted: 1\\.0\\.0: aliases champion, stable`));
    expect(expectBody(await api.get(`${modelPath(name)}/versions`), 200, VersionPage).items.map((v) => v.version)).toEqual(['2.0.0', '1.0.0']);
    expect((await api.get(`${modelPath(name)}/aliases/champion`)).status).toBe(200);
    expect(await audit(`model:${name}@1.0.0`)).not.toContain('model.version.delete');

    await api.del(`${modelPath(name)}/aliases/champion`);
    await api.del(`${modelPath(name)}/aliases/stable`);
    expectBody(await api.del(versionPath(name, '1.0.0')), 200, DeleteResponse);
  });

  it('refuses while another version derives from it (parent, base model, dataset); a whole asset may hold its own chain', async () => {
    const base = `base-${uid()}`;
    const child = `child-${uid()}`;
    const data = `data-${uid()}`;
    await createModel(api, base);
    await createModel(api, child);
    await pushVersion(api, base, '1.0.0', { w: randomBlob(16) });
    expectBody(await api.post('/api/v1/datasets', { name: data }), 201, AssetResponse);
    const ds = expectBody(await api.post(`${datasetPath(data)}/versions`, { version: '1.0.0', files: [] }), 201, CreateVersionResponse);
    expect(ds.missing).toEqual([]);
    await api.post(`${datasetPath(data)}/versions/1.0.0/finalize`);
    await pushVersion(api, child, '1.0.0', { w: randomBlob(16) }, { lineage: { baseModel: `${base}:1.0.0`, datasets: [`${data}:1.0.0`] } });
    // Within one asset: 1.1.0 derives from 1.0.0.
    await pushVersion(api, base, '1.1.0', { w: randomBlob(16) }, { lineage: { parent: `${base}:1.0.0` } });

    const e = expectError(await api.del(versionPath(base, '1.0.0')), 409, 'conflict');
    expect(blockersOf(e)).toEqual([{ version: '1.0.0', reason: 'lineage', refs: [`${base}:1.1.0`, `${child}:1.0.0`].sort(), message: expect.stringMatching(/derive from it/) }]);
    const d = expectError(await api.del(`${datasetPath(data)}/versions/1.0.0`), 409, 'conflict');
    expect(d.message).toBe(`dataset ${data}:1.0.0 cannot be deleted: ${child}:1.0.0 derives from it (lineage; delete that version first)`);
    expectError(await api.del(`${datasetPath(data)}`), 409, 'conflict');
    // The whole base asset: its own 1.1.0 goes with it, but child still derives from 1.0.0.
    expect(blockersOf(expectError(await api.del(modelPath(base)), 409, 'conflict')).map((b) => b.refs)).toEqual([[`${child}:1.0.0`]]);

    expectBody(await api.del(versionPath(child, '1.0.0')), 200, DeleteResponse);
    const all = expectBody(await api.del(modelPath(base)), 200, DeleteResponse);
    expect(all).toMatchObject({ name: base, assetDeleted: true });
    expect(all.versions.map((v) => v.version)).toEqual(['1.0.0', '1.1.0']);
    expectBody(await api.del(`${datasetPath(data)}/versions/1.0.0`), 200, DeleteResponse);
  });

  it('deletes a whole asset: versions, aliases history and labels gone, the name free again, audited, announced', async () => {
    const name = `whole-${uid()}`;
    await createModel(api, name, { labels: { team: 'x' } });
    await pushVersion(api, name, '1.0.0', { w: randomBlob(16) }, { labels: { stage: 'a' } });
    await pushVersion(api, name, '2.0.0', { w: randomBlob(16) });
    await api.put(`${modelPath(name)}/aliases/champion`, { version: '2.0.0' });
    await api.del(`${modelPath(name)}/aliases/champion`);

    const res = expectBody(await api.del(modelPath(name)), 200, DeleteResponse);
    expect(res).toMatchObject({ kind: 'model', name, assetDeleted: true, removed: {} });
    expectError(await api.get(modelPath(name)), 404, 'not_found');
    expectError(await api.get(versionPath(name, '1.0.0')), 404, 'not_found');
    expect(expectBody(await api.get(`/api/v1/models?q=${name}`), 200, AssetPage).items).toEqual([]);
    expect(expectBody(await api.get(`/api/v1/models/-/versions?label=${encodeURIComponent('stage=a')}&q=${name}`), 200, VersionPage).items).toEqual([]);
    expect(await audit(`model:${name}`)).toEqual(['model.create', 'model.alias.set', 'model.alias.delete', 'model.delete']);
    expect(await audit(`model:${name}@2.0.0`)).toEqual(['model.version.create', 'model.version.finalize', 'model.version.delete']);
    expect((await events('asset.deleted')).filter((e) => e.subject === `model:${name}`).map((e) => e.data)).toEqual([{ kind: 'model', name, versions: ['1.0.0', '2.0.0'] }]);

    // A fresh asset of the same name starts empty: no old aliases history, labels or versions.
    await createModel(api, name);
    expect(expectBody(await api.get(`${modelPath(name)}/alias-history`), 200, AliasHistory).items).toEqual([]);
    expect(expectBody(await api.get(modelPath(name)), 200, AssetResponse)).toMatchObject({ labels: {}, versionCount: 0 });
    // An asset without versions is deleted as well.
    expect(expectBody(await api.del(modelPath(name)), 200, DeleteResponse)).toMatchObject({ versions: [], assetDeleted: true });
  });

  it('frees blobs by GC once only deleted versions listed them; a blob another version lists stays', async () => {
    const name = `gc-${uid()}`;
    await createModel(api, name);
    const only = randomBlob(1000);
    const shared = randomBlob(500);
    await pushVersion(api, name, '1.0.0', { only, shared });
    await pushVersion(api, name, '1.1.0', { shared });
    expect(expectBody(await api.post('/api/v1/gc', { dryRun: true }), 200, GcResponse).sample).not.toContain(only.sha256);

    expectBody(await api.del(versionPath(name, '1.0.0')), 200, DeleteResponse);
    const gc = expectBody(await api.post('/api/v1/gc', { dryRun: false }), 200, GcResponse);
    expect(gc.sample).toContain(only.sha256);
    expect(gc.sample).not.toContain(shared.sha256);
    expect((await api.head(`/api/v1/blobs/${only.sha256}`)).status).toBe(404);
    expect(await store.stat(only.sha256)).toBeNull();
    expect((await api.head(`/api/v1/blobs/${shared.sha256}`)).status).toBe(200);
    expect(await store.stat(shared.sha256)).not.toBeNull();
    expect((await api.get(`${versionPath(name, '1.1.0')}/files/shared`)).bytes.equals(shared.bytes)).toBe(true);

    expectBody(await api.del(modelPath(name)), 200, DeleteResponse);
    expect(expectBody(await api.post('/api/v1/gc', { dryRun: false }), 200, GcResponse).sample).toContain(shared.sha256);
    expect(await store.stat(shared.sha256)).toBeNull();
  });

  it('a version the server refuses registers no asset: bad lineage, oversized or invalid metadata, a bad prompt spec', async () => {
    const before = expectBody(await api.get('/api/v1/models?limit=1000'), 200, AssetPage).items.map((a) => a.name);
    const name = `fail-${uid()}`;
    const files = manifest({ w: randomBlob(8) });
    expectError(await api.post(`${modelPath(name)}/versions`, { version: '1.0.0', files, asset: {}, lineage: { parent: `${name}-ghost:1.0.0` } }), 404, 'not_found');
    expectError(await api.post(`${modelPath(name)}/versions`, { version: '1.0.0', files, asset: {}, metadata: { blob: 'x'.repeat(2 * 1024 * 1024) } }), 413, 'too_large');
    expectError(await api.post(`${modelPath(name)}/versions`, { version: 'one', files, asset: {} }), 400, 'invalid_argument');
    expectError(await api.post(`/api/v1/prompts/${name}/versions`, { version: '1.0.0', files: [], asset: {}, metadata: { template: { type: 'text', text: 'Hi {{' } } }), 400, 'invalid_argument');
    expectError(await api.post(`${datasetPath(name)}/versions`, { version: '1.0.0', files, asset: {}, metadata: { evalSuite: { metrics: [{ metric: 'nope' }] } } }), 400, 'invalid_argument');
    expectError(await api.get(modelPath(name)), 404, 'not_found');
    expectError(await api.get(`/api/v1/prompts/${name}`), 404, 'not_found');
    expectError(await api.get(datasetPath(name)), 404, 'not_found');
    expect(expectBody(await api.get('/api/v1/models?limit=1000'), 200, AssetPage).items.map((a) => a.name)).toEqual(before);
    expect(await audit(`model:${name}`)).toEqual([]);

    // Without `asset`, a missing asset is still a 404; with it, asset and version come together.
    expectError(await api.post(`${modelPath(name)}/versions`, { version: '1.0.0', files }), 404, 'not_found');
    const v = expectBody(await api.post(`${modelPath(name)}/versions`, { version: '1.0.0', files, asset: { description: 'pushed' } }), 201, CreateVersionResponse);
    expect(v.state).toBe('pending');
    expect(expectBody(await api.get(modelPath(name)), 200, AssetResponse)).toMatchObject({ description: 'pushed', versionCount: 0 });
    expect(await audit(`model:${name}`)).toEqual(['model.create']);
    // An existing asset is left as it is.
    expectBody(await api.post(`${modelPath(name)}/versions`, { version: '1.0.1', files, asset: { description: 'other' } }), 201, CreateVersionResponse);
    expect(expectBody(await api.get(modelPath(name)), 200, AssetResponse).description).toBe('pushed');
    // Deleting the last version of an asset a push registered and never finished removes it too.
    expectBody(await api.del(versionPath(name, '1.0.1')), 200, DeleteResponse);
    expect(expectBody(await api.del(versionPath(name, '1.0.0')), 200, DeleteResponse).assetDeleted).toBe(true);
    expectError(await api.get(modelPath(name)), 404, 'not_found');
  });

  it('an asset a push registered stays once a version of it was ready', async () => {
    const name = `kept-${uid()}`;
    const b = blob(`kept ${name}`);
    expectBody(await api.post(`${modelPath(name)}/versions`, { version: '1.0.0', files: manifest({ w: b }), asset: {} }), 201, CreateVersionResponse);
    await api.call('PUT', `/api/v1/blobs/${b.sha256}`, { bytes: b.bytes });
    await api.post(`${versionPath(name, '1.0.0')}/finalize`);
    expect(expectBody(await api.del(versionPath(name, '1.0.0')), 200, DeleteResponse).assetDeleted).toBe(false);
    expect(expectBody(await api.get(modelPath(name)), 200, AssetResponse)).toMatchObject({ versionCount: 0, latestVersion: null });
  });

  describe('with evaluations', () => {
    const cases = (tag: string, n: number, slow = 0) => jsonl(Array.from({ length: n }, (_, i) => ({ id: `c${i}`, input: `${tag} ${i}${slow ? ` [[slow:${slow}]]` : ''} ANSWER: a${i}`, expected: `a${i}` })));

    it('keeps a suite version runs used; deletes a model version with its runs and their results', async () => {
      const model = `ev-${uid()}/bot`;
      const suite = `ev-${uid()}/qa`;
      await pushModel(api, model, '1.0.0');
      await pushModel(api, model, '2.0.0');
      await pushSuite(api, suite, '1.0.0', cases('keep', 3), { metrics: [{ metric: 'exact_match' }] });
      const r1 = await waitRun(api, (await startRun(api, { suite: `${suite}:1.0.0`, model: `${model}:1.0.0`, endpoint: { url: fake.url } })).id);
      const r2 = await waitRun(api, (await startRun(api, { suite: `${suite}:1.0.0`, model: `${model}:2.0.0`, endpoint: { url: fake.url } })).id);
      expect([r1.state, r2.state]).toEqual(['succeeded', 'succeeded']);
      expect(expectBody(await api.get(versionPath(model, '1.0.0')), 200, ModelVersionDocument).evaluations.map((e) => e.run)).toEqual([r1.id]);

      const e = expectError(await api.del(`${datasetPath(suite)}/versions/1.0.0`), 409, 'conflict');
      expect(blockersOf(e)).toEqual([{ version: '1.0.0', reason: 'evaluation', refs: [r1.id, r2.id], message: `evaluation runs ${r1.id}, ${r2.id} used it as their suite (delete them first: steward eval rm ${r1.id})` }]);

      const res = expectBody(await api.del(versionPath(model, '1.0.0')), 200, DeleteResponse);
      // 1.0.0 entered development by itself and leaves it when 2.0.0's readiness is delivered: under load
      // that may not have happened yet, and then the deletion takes it out (one environment removed).
      const { environments, ...removed } = res.removed as Record<string, number>;
      expect(removed).toEqual({ evaluations: 1 });
      expect([undefined, 1]).toContain(environments);
      expectError(await api.get(`/api/v1/evals/runs/${r1.id}`), 404, 'not_found');
      expectError(await api.get(`/api/v1/evals/runs/${r1.id}/results`), 404, 'not_found');
      expect(await audit(`eval-run:${r1.id}`)).toEqual(['eval.run.create', 'eval.run.finish', 'eval.run.delete']);
      expect((await events('eval.run.deleted')).filter((x) => x.subject === `eval-run:${r1.id}`).map((x) => x.data)).toEqual([
        { runId: r1.id, model: { name: model, version: '1.0.0' }, suite: { name: suite, version: '1.0.0' }, state: 'succeeded' },
      ]);
      // Re-created under the same number, the version carries none of the old evaluations.
      await pushVersion(api, model, '1.0.0', { 'config.json': blob('another') });
      expect(expectBody(await api.get(versionPath(model, '1.0.0')), 200, ModelVersionDocument).evaluations).toEqual([]);

      // The suite still has r2: deleting that run frees it.
      expect(blockersOf(expectError(await api.del(`${datasetPath(suite)}/versions/1.0.0`), 409, 'conflict'))[0]!.refs).toEqual([r2.id]);
      expect(expectBody(await api.del(`/api/v1/evals/runs/${r2.id}`), 200, RunResponse)).toMatchObject({ id: r2.id, state: 'succeeded' });
      expectError(await api.del(`/api/v1/evals/runs/${r2.id}`), 404, 'not_found');
      expectBody(await api.del(`${datasetPath(suite)}/versions/1.0.0`), 200, DeleteResponse);
    });

    it('refuses while a run is queued or running (the model version and the run itself); cancelled, it goes', async () => {
      const model = `busy-${uid()}/bot`;
      const suite = `busy-${uid()}/qa`;
      await pushModel(api, model, '1.0.0');
      await pushSuite(api, suite, '1.0.0', cases('busy', 40, 200), { metrics: [{ metric: 'exact_match' }] });
      const run = await startRun(api, { suite: `${suite}:1.0.0`, model: `${model}:1.0.0`, endpoint: { url: fake.url }, concurrency: 1 });

      const e = expectError(await api.del(versionPath(model, '1.0.0')), 409, 'conflict');
      expect(blockersOf(e)).toEqual([{ version: '1.0.0', reason: 'evaluation', refs: [run.id], message: `evaluation run ${run.id} is queued or running against it (wait for it, or cancel: steward eval cancel ${run.id})` }]);
      expect(expectError(await api.del(`/api/v1/evals/runs/${run.id}`), 409, 'conflict').message).toMatch(/cancel it first/);
      expectError(await api.del(modelPath(model)), 409, 'conflict');
      expect((await api.get(`/api/v1/evals/runs/${run.id}`)).status).toBe(200);

      expect(expectBody(await api.post(`/api/v1/evals/runs/${run.id}/cancel`), 200, RunResponse).state).toBe('cancelled');
      expect(expectBody(await api.del(`/api/v1/evals/runs/${run.id}`), 200, RunResponse).id).toBe(run.id);
      expectError(await api.get(`/api/v1/evals/runs/${run.id}/results`), 404, 'not_found');
      expect(expectBody(await api.del(modelPath(model)), 200, DeleteResponse)).toMatchObject({ assetDeleted: true, removed: {} });
      expectBody(await api.del(datasetPath(suite)), 200, DeleteResponse);
    });

    it('a run cannot be started on a version being deleted, nor leave one behind', async () => {
      const model = `race-${uid()}`;
      const suite = `race-${uid()}`;
      await pushModel(api, model, '1.0.0');
      await pushSuite(api, suite, '1.0.0', cases('race', 2), { metrics: [{ metric: 'exact_match' }] });
      // Both at once, in either order: never a run left referring to a deleted version.
      const [run, del] = await Promise.all([api.post('/api/v1/evals/runs', { suite: `${suite}:1.0.0`, model: `${model}:1.0.0`, endpoint: { url: fake.url } }), api.del(versionPath(model, '1.0.0'))]);
      const runs = async () => expectBody(await api.get(`/api/v1/evals/runs?model=${model}`), 200, RunPage).items;
      if (del.status === 409) {
        // The run came first and was still busy.
        expect(run.status, JSON.stringify(run.body)).toBe(201);
        await waitRun(api, (run.body as RunResponse).id);
        expect(await runs()).toHaveLength(1);
      } else {
        expectBody(del, 200, DeleteResponse);
        // The deletion came first (the run found no version), or the run had finished and went with it.
        expect([201, 404]).toContain(run.status);
        expect(await runs()).toEqual([]);
      }
    });
  });
});

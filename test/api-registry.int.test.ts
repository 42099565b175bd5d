/**
 * The registry over HTTP, on both backends: push (create, upload what is missing, finalize),
 * read by number, alias and `latest`, downloads with Range and ETag, dedup, aliases, state
 * transitions, comparison and lineage. Bodies are checked against the contract schemas.
 */
import { ModelVersionDocument } from '../src/contracts/model-version.js';
import { describe, expect, it } from 'vitest';
import {
  AliasHistory,
  AliasList,
  AliasResponse,
  AssetResponse,
  CompareResponse,
  CreateVersionResponse,
  VersionResponse,
} from '../src/contracts/assets.js';
import { BACKENDS } from './helpers/test-server.js';
import { blob, createModel, createVersion, expectBody, expectError, finalize, manifest, modelPath, pushVersion, putBlob, randomBlob, uid, versionPath, type Api, serveSuite } from './helpers/test-api.js';

describe.each(BACKENDS)('registry API on %s', (backend) => {
  let api: Api;
  serveSuite(backend, (_server, a) => (api = a));

  it('pushes a namespaced model: create, upload the missing blobs, finalize, read back', async () => {
    const name = `org-${uid()}/llama-3-8b`;
    const model = await createModel(api, name, { description: 'test model', labels: { team: 'nlp' } });
    expect(model).toMatchObject({ kind: 'model', name, namespace: name.split('/')[0], labels: { team: 'nlp' }, versionCount: 0, latestVersion: null });
    expect(expectBody(await api.get(modelPath(name)), 200, AssetResponse).name).toBe(name);

    const weights = randomBlob(4096);
    const config = blob('{"hidden_size": 4096}');
    const created = await createVersion(api, name, {
      version: 'v1.2.0',
      files: manifest({ 'model.safetensors': weights, 'config/config.json': config }),
      metadata: { architecture: 'llama', parameters: 8e9, accuracy_score: 0.71 },
      labels: { stage: 'candidate' },
      card: '# Llama\n',
    });
    expect(created.version).toBe('1.2.0');
    expect(created.state).toBe('pending');
    expect(created.missing).toEqual([weights.sha256, config.sha256]);
    expect(created.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(created.size).toBe(weights.size + config.size);
    expect(created.fileCount).toBe(2);

    for (const b of [weights, config]) expect(await putBlob(api, b)).toEqual({ sha256: b.sha256, size: b.size, created: true });
    const ready = await finalize(api, name, '1.2.0');
    expect(ready).toMatchObject({ state: 'ready', digest: created.digest, expiresAt: null, card: '# Llama\n', labels: { stage: 'candidate' } });
    expect(ready.readyAt).not.toBeNull();
    expect(ready.files?.map((f) => f.path).sort()).toEqual(['config/config.json', 'model.safetensors']);

    const alias = expectBody(await api.put(`${modelPath(name)}/aliases/champion`, { version: '1.2.0' }), 200, AliasResponse);
    expect(alias).toMatchObject({ name, alias: 'champion', version: '1.2.0' });
    for (const ref of ['1.2.0', 'v1.2.0', 'champion', 'latest']) {
      const v = expectBody(await api.get(versionPath(name, ref)), 200, ModelVersionDocument);
      expect(v, ref).toMatchObject({ name, version: '1.2.0', state: 'ready', digest: created.digest, aliases: ['champion'] });
      expect(v.metadata).toMatchObject({ architecture: 'llama', accuracy_score: 0.71 });
    }
    const after = expectBody(await api.get(modelPath(name)), 200, AssetResponse);
    expect(after).toMatchObject({ versionCount: 1, latestVersion: '1.2.0' });
  });

  it('resolves latest to the highest ready version by semver precedence', async () => {
    const name = `latest-${uid()}`;
    await createModel(api, name);
    const f = { 'a.txt': blob(`latest ${name}`) };
    await pushVersion(api, name, '1.10.0', f);
    await pushVersion(api, name, '1.2.0', f);
    await createVersion(api, name, { version: '3.0.0', files: manifest(f) }); // pending: never latest
    expect(expectBody(await api.get(versionPath(name, 'latest')), 200, ModelVersionDocument).version).toBe('1.10.0');
  });

  it('downloads a file whole and by Range, with the quoted sha256 as ETag and 304 on If-None-Match', async () => {
    const name = `dl-${uid()}`;
    await createModel(api, name);
    const data = randomBlob(1000);
    await pushVersion(api, name, '1.0.0', { 'weights/part-1.bin': data });
    const file = `${versionPath(name, '1.0.0')}/files/weights/part-1.bin`;

    const whole = await api.get(file);
    expect(whole.status).toBe(200);
    expect(whole.bytes.equals(data.bytes)).toBe(true);
    expect(whole.headers.get('etag')).toBe(`"${data.sha256}"`);
    expect(whole.headers.get('content-length')).toBe('1000');
    expect(whole.headers.get('accept-ranges')).toBe('bytes');

    const cases: [string, number, number][] = [['bytes=10-19', 10, 19], ['bytes=990-', 990, 999], ['bytes=-5', 995, 999], ['bytes=900-5000', 900, 999]];
    for (const [range, start, end] of cases) {
      const part = await api.get(file, { headers: { range } });
      expect(part.status, range).toBe(206);
      expect(part.headers.get('content-range'), range).toBe(`bytes ${start}-${end}/1000`);
      expect(part.bytes.equals(data.bytes.subarray(start, end + 1)), range).toBe(true);
    }

    const cached = await api.get(file, { headers: { 'if-none-match': `"${data.sha256}"` } });
    expect(cached.status).toBe(304);
    expect(cached.bytes.length).toBe(0);
    expect((await api.get(file, { headers: { 'if-none-match': '"other"' } })).status).toBe(200);

    const head = await api.head(file);
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('1000');
    expect(head.headers.get('etag')).toBe(`"${data.sha256}"`);
    expect(head.bytes.length).toBe(0);

    // An alias reaches the same bytes.
    await api.put(`${modelPath(name)}/aliases/prod`, { version: '1.0.0' });
    expect((await api.get(`${versionPath(name, 'prod')}/files/weights/part-1.bin`)).bytes.equals(data.bytes)).toBe(true);
  });

  it('serves files whose paths need URL encoding (spaces, non-ASCII, "#", "?", "%", "+")', async () => {
    const name = `enc-${uid()}`;
    await createModel(api, name);
    const odd = blob(`odd ${name}`);
    const plus = blob(`plus ${name}`);
    await pushVersion(api, name, '1.0.0', { 'dir/my file ü#?%.bin': odd, 'a+b.bin': plus });
    const base = `${versionPath(name, '1.0.0')}/files`;
    expect((await api.get(`${base}/dir/${encodeURIComponent('my file ü#?%.bin')}`)).bytes.equals(odd.bytes)).toBe(true);
    expect((await api.get(`${base}/${encodeURIComponent('dir/my file ü#?%.bin')}`)).bytes.equals(odd.bytes)).toBe(true);
    expect((await api.get(`${base}/${encodeURIComponent('a+b.bin')}`)).bytes.equals(plus.bytes)).toBe(true);
    expectError(await api.get(`${base}/a%20b.bin`), 404, 'not_found');
  });

  it('answers 416 with Content-Range bytes */size for a range past the end of the file', async () => {
    const name = `range-${uid()}`;
    await createModel(api, name);
    await pushVersion(api, name, '1.0.0', { 'f.bin': randomBlob(10) });
    const res = await api.get(`${versionPath(name, '1.0.0')}/files/f.bin`, { headers: { range: 'bytes=10-20' } });
    expectError(res, 416, 'range_not_satisfiable');
    expect(res.headers.get('content-range')).toBe('bytes */10');
  });

  it('refuses to serve files of a pending version', async () => {
    const name = `pend-${uid()}`;
    await createModel(api, name);
    const b = randomBlob(16);
    await createVersion(api, name, { version: '1.0.0', files: manifest({ 'f.bin': b }) });
    await putBlob(api, b);
    expectError(await api.get(`${versionPath(name, '1.0.0')}/files/f.bin`), 412, 'failed_precondition');
  });

  it('stores shared files once: a later version with the same files has nothing missing', async () => {
    const a = `dedup-${uid()}`;
    const b = `dedup-${uid()}`;
    await createModel(api, a);
    await createModel(api, b);
    const files = { 'model.bin': randomBlob(2048), 'tokenizer.json': blob(`{"v":"${a}"}`) };
    const first = await pushVersion(api, a, '1.0.0', files);

    const again = await createVersion(api, a, { version: '1.0.1', files: manifest(files) });
    expect(again.missing).toEqual([]);
    expect(again.digest).toBe(first.digest);
    const elsewhere = await createVersion(api, b, { version: '0.1.0', files: manifest(files).reverse() });
    expect(elsewhere.missing).toEqual([]);
    expect(elsewhere.digest).toBe(first.digest); // the digest does not depend on listing order
    expect((await finalize(api, b, '0.1.0')).state).toBe('ready');
    const dl = await api.get(`${versionPath(b, '0.1.0')}/files/model.bin`);
    expect(dl.bytes.equals(files['model.bin'].bytes)).toBe(true);
  });

  it('sets, moves, lists and deletes aliases, and keeps their history newest first', async () => {
    const name = `alias-${uid()}`;
    await createModel(api, name);
    const f = { 'a.txt': blob(`alias ${name}`) };
    await pushVersion(api, name, '1.0.0', f);
    await pushVersion(api, name, '2.0.0', f);
    await createVersion(api, name, { version: '3.0.0', files: manifest(f) });
    const aliases = `${modelPath(name)}/aliases`;

    expectBody(await api.put(`${aliases}/champion`, { version: '1.0.0' }), 200, AliasResponse);
    expectBody(await api.put(`${aliases}/canary`, { version: 'v2.0.0' }), 200, AliasResponse);
    const moved = expectBody(await api.put(`${aliases}/champion`, { version: '2.0.0' }), 200, AliasResponse);
    expect(moved.version).toBe('2.0.0');
    // An alias may not point at a pending version.
    expectError(await api.put(`${aliases}/next`, { version: '3.0.0' }), 412, 'failed_precondition');

    expect(expectBody(await api.get(`${aliases}/champion`), 200, AliasResponse).version).toBe('2.0.0');
    const list = expectBody(await api.get(aliases), 200, AliasList);
    expect(list.items.map((a) => [a.alias, a.version])).toEqual([['canary', '2.0.0'], ['champion', '2.0.0']]);
    expect(expectBody(await api.get(versionPath(name, '2.0.0')), 200, ModelVersionDocument).aliases).toEqual(['canary', 'champion']);
    expect(expectBody(await api.get(versionPath(name, '1.0.0')), 200, ModelVersionDocument).aliases).toEqual([]);

    expect((await api.del(`${aliases}/champion`)).status).toBe(204);
    expectError(await api.get(`${aliases}/champion`), 404, 'not_found');
    expectError(await api.get(versionPath(name, 'champion')), 404, 'not_found');
    expectError(await api.del(`${aliases}/champion`), 404, 'not_found');

    const history = expectBody(await api.get(`${modelPath(name)}/alias-history?alias=champion`), 200, AliasHistory);
    expect(history.items.map((e) => [e.version, e.previousVersion])).toEqual([[null, '2.0.0'], ['2.0.0', '1.0.0'], ['1.0.0', null]]);
    const all = expectBody(await api.get(`${modelPath(name)}/alias-history`), 200, AliasHistory);
    expect(all.items).toHaveLength(4);
  });

  it('moves versions ready ⇄ deprecated → archived, and refuses every other transition with 412', async () => {
    const name = `state-${uid()}`;
    await createModel(api, name);
    const f = { 'a.txt': blob(`state ${name}`) };
    await pushVersion(api, name, '1.0.0', f);
    await createVersion(api, name, { version: '2.0.0', files: manifest(f) });
    const v1 = versionPath(name, '1.0.0');
    const setState = async (path: string, state: string) => api.patch(path, { state });
    const stateOf = async (path: string) => expectBody(await api.get(path), 200, ModelVersionDocument).state;

    expect(expectBody(await setState(v1, 'deprecated'), 200, VersionResponse).state).toBe('deprecated');
    expect(await stateOf(v1)).toBe('deprecated');
    expect(expectBody(await setState(v1, 'ready'), 200, VersionResponse).state).toBe('ready');
    // An aliased version cannot be archived until its aliases move.
    expect((await api.put(`${modelPath(name)}/aliases/keep`, { version: '1.0.0' })).status).toBe(200);
    const held = expectError(await setState(v1, 'archived'), 412, 'failed_precondition');
    expect(held.details).toMatchObject({ aliases: ['keep'] });
    expect(await stateOf(v1)).toBe('ready');
    expect((await api.del(`${modelPath(name)}/aliases/keep`)).status).toBe(204);
    expect(expectBody(await setState(v1, 'archived'), 200, VersionResponse).state).toBe('archived');
    for (const to of ['ready', 'deprecated']) {
      const err = expectError(await setState(v1, to), 412, 'failed_precondition');
      expect(err.details).toMatchObject({ state: 'archived' });
    }
    expect(await stateOf(v1)).toBe('archived');

    // A pending version becomes ready only by finalize, never by PATCH.
    const v2 = versionPath(name, '2.0.0');
    for (const to of ['ready', 'deprecated', 'archived']) expectError(await setState(v2, to), 412, 'failed_precondition');
    expect(await stateOf(v2)).toBe('pending');
  });

  it('compares two versions: files, metadata, labels and metric deltas', async () => {
    const name = `cmp-${uid()}`;
    await createModel(api, name);
    const x = blob(`x ${name}`);
    const y = blob(`y ${name}`);
    const y2 = blob(`y2 ${name}`);
    const z = blob(`z ${name}`);
    const w = blob(`w ${name}`);
    await pushVersion(api, name, '1.0.0', { 'a.txt': x, 'b.txt': y, 'c.txt': z }, {
      metadata: { architecture: 'llama', accuracy_score: 0.8, benchmark_results: { mmlu: 60 } },
      labels: { tier: 'small' },
    });
    await pushVersion(api, name, '2.0.0', { 'a.txt': x, 'b.txt': y2, 'd.txt': w }, {
      metadata: { architecture: 'llama', accuracy_score: 0.85, benchmark_results: { mmlu: 65, gsm8k: 40 }, precision: 'bf16' },
      labels: { tier: 'small', tuned: 'yes' },
    });

    const cmp = expectBody(await api.get(`${versionPath(name, '1.0.0')}/compare?other=2.0.0`), 200, CompareResponse);
    expect(cmp.a).toMatchObject({ name, version: '1.0.0' });
    expect(cmp.b).toMatchObject({ name, version: '2.0.0' });
    expect(cmp.sameContent).toBe(false);
    expect(cmp.files.map((f) => [f.path, f.change])).toEqual([['b.txt', 'changed'], ['c.txt', 'removed'], ['d.txt', 'added']]);
    expect(cmp.files[0]).toMatchObject({ before: { sha256: y.sha256 }, after: { sha256: y2.sha256 } });
    expect(cmp.unchangedFiles).toBe(1);
    expect(cmp.metadata.map((m) => [m.key, m.change])).toEqual([['accuracy_score', 'changed'], ['benchmark_results', 'changed'], ['precision', 'added']]);
    expect(cmp.labels).toEqual([{ key: 'tuned', change: 'added', before: null, after: 'yes' }]);
    const metrics = Object.fromEntries(cmp.metrics.map((m) => [m.metric, m]));
    expect(Object.keys(metrics)).toEqual(['accuracy_score', 'benchmark_results.gsm8k', 'benchmark_results.mmlu']);
    expect(metrics.accuracy_score!.delta).toBeCloseTo(0.05, 10);
    expect(metrics['benchmark_results.gsm8k']).toEqual({ metric: 'benchmark_results.gsm8k', before: null, after: 40, delta: null });
    expect(metrics['benchmark_results.mmlu']).toEqual({ metric: 'benchmark_results.mmlu', before: 60, after: 65, delta: 5 });

    // The other side may be NAME:REF (another model, an alias); a version compared with itself is the same content.
    const other = `cmp-${uid()}`;
    await createModel(api, other);
    await pushVersion(api, other, '1.0.0', { 'a.txt': x, 'b.txt': y, 'c.txt': z });
    const cross = expectBody(await api.get(`${versionPath(name, '1.0.0')}/compare?other=${encodeURIComponent(`${other}:1.0.0`)}`), 200, CompareResponse);
    expect(cross.b.name).toBe(other);
    expect(cross.sameContent).toBe(true);
    expect(cross.files).toEqual([]);
    expect(cross.unchangedFiles).toBe(3);
  });

  it('records lineage: parent NAME:VER, base model and datasets appear in the version document', async () => {
    const parent = `base-${uid()}`;
    const child = `org-${uid()}/tuned`;
    const dataset = `data-${uid()}`;
    await createModel(api, parent);
    await createModel(api, child);
    await pushVersion(api, parent, '1.0.0', { 'w.bin': blob(`parent ${parent}`) });
    await api.put(`${modelPath(parent)}/aliases/champion`, { version: '1.0.0' });
    expectBody(await api.post('/api/v1/datasets', { name: dataset }), 201, AssetResponse);
    const rows = blob(`rows ${dataset}`);
    const ds = await api.post(`/api/v1/datasets/${encodeURIComponent(dataset)}/versions`, { version: '2024.1.0', files: manifest({ 'train.jsonl': rows }) });
    expect(ds.status, JSON.stringify(ds.body)).toBe(201);
    await putBlob(api, rows);
    expect((await api.post(`/api/v1/datasets/${encodeURIComponent(dataset)}/versions/2024.1.0/finalize`)).status).toBe(200);

    const created = await createVersion(api, child, {
      version: '0.1.0',
      files: manifest({ 'w.bin': blob(`child ${child}`) }),
      // The parent through an alias: the edge records the version it resolved to.
      lineage: { parent: `${parent}:champion`, baseModel: 'meta-llama/Llama-3.1-8B', datasets: [`${dataset}:2024.1.0`] },
    });
    const expected = [
      { relation: 'base_model', kind: null, name: null, version: null, ref: 'meta-llama/Llama-3.1-8B' },
      { relation: 'dataset', kind: 'dataset', name: dataset, version: '2024.1.0', ref: `${dataset}:2024.1.0` },
      { relation: 'parent', kind: 'model', name: parent, version: '1.0.0', ref: `${parent}:1.0.0` },
    ];
    const byRelation = (l: VersionResponse['lineage']) => [...l].sort((a, b) => a.relation.localeCompare(b.relation));
    expect(byRelation(created.lineage)).toEqual(expected);
    const doc = expectBody(await api.get(versionPath(child, '0.1.0')), 200, ModelVersionDocument);
    expect(byRelation(doc.lineage)).toEqual(expected);
  });

  it('gives a dataset version a dataset parent, the same in the create answer and in the document', async () => {
    const name = `ds-${uid()}`;
    const base = `/api/v1/datasets/${encodeURIComponent(name)}`;
    expectBody(await api.post('/api/v1/datasets', { name }), 201, AssetResponse);
    expect((await api.post(`${base}/versions`, { version: '1.0.0', files: [] })).status).toBe(201);
    expect((await api.post(`${base}/versions/1.0.0/finalize`)).status).toBe(200);
    const created = expectBody(await api.post(`${base}/versions`, { version: '1.1.0', files: [], lineage: { parent: `${name}:1.0.0` } }), 201, CreateVersionResponse);
    const edge = { relation: 'parent', kind: 'dataset', name, version: '1.0.0', ref: `${name}:1.0.0` };
    expect(created.lineage).toEqual([edge]);
    expect(expectBody(await api.get(`${base}/versions/1.1.0`), 200, VersionResponse).lineage).toEqual([edge]);
  });
});

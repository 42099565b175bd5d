/**
 * Bad input over HTTP, on both backends. Every refusal is the contract's error envelope with
 * the matching status, and leaves nothing half-written: each test reads back afterwards that
 * no model, version or blob appeared and that what existed is unchanged.
 */
import { ModelVersionDocument } from '../src/contracts/model-version.js';
import { describe, expect, it } from 'vitest';
import { AssetPage, AssetResponse, CreateVersionResponse, VersionPage } from '../src/contracts/assets.js';
import { BACKENDS } from './helpers/test-server.js';
import { blob, createModel, createVersion, expectBody, expectError, manifest, modelPath, pushVersion, putBlob, randomBlob, uid, versionPath, type Api, serveSuite } from './helpers/test-api.js';

describe.each(BACKENDS)('bad input on %s', (backend) => {
  let api: Api;
  serveSuite(backend, (_server, a) => (api = a));

  /** The model's versions, as the API lists them (pending ones included). */
  const versionsOf = async (name: string) => expectBody(await api.get(`${modelPath(name)}/versions`), 200, VersionPage).items;

  it('refuses invalid model names with 400 and creates nothing', async () => {
    const tag = uid();
    const bad = ['', ' ', `has space-${tag}`, `..`, `a..b-${tag}`, `../x-${tag}`, `a/b/c-${tag}`, `/lead-${tag}`, `trail-${tag}/`, `-dash-${tag}`, `x${tag}${'y'.repeat(128)}`, `emoji-${tag}-🙂`];
    for (const name of bad) {
      const err = expectError(await api.post('/api/v1/models', { name }), 400, 'invalid_argument');
      expect(err.details?.issues, name).toBeDefined();
    }
    // Nothing carrying this test's tag was registered.
    expect(expectBody(await api.get(`/api/v1/models?q=${tag}`), 200, AssetPage).items).toEqual([]);
    // In a URL, an invalid name is refused the same way, before any lookup.
    for (const name of ['a b', 'a/b/c', 'a..b', 'x'.repeat(129)]) expectError(await api.get(modelPath(name)), 400, 'invalid_argument');
    // The longest valid name is accepted.
    const longest = `m${tag}${'z'.repeat(128 - 1 - tag.length)}`;
    expect(longest).toHaveLength(128);
    await createModel(api, longest);
  });

  it('refuses a second model of the same name with 409', async () => {
    const name = `dup-${uid()}`;
    await createModel(api, name, { description: 'first' });
    expectError(await api.post('/api/v1/models', { name, description: 'second' }), 409, 'conflict');
    expect(expectBody(await api.get(modelPath(name)), 200, AssetResponse).description).toBe('first');
  });

  it('refuses versions that are not semantic versions with 400', async () => {
    const name = `ver-${uid()}`;
    await createModel(api, name);
    for (const version of ['1.2', 'latest', '01.2.3', '1.02.3', 'v', '1.2.3.4', ' 1.2.3', '1.2.3-', 'V1.2.3', '']) {
      expectError(await api.post(`${modelPath(name)}/versions`, { version, files: [] }), 400, 'invalid_argument');
    }
    expect(await versionsOf(name)).toEqual([]);
  });

  it('refuses a duplicate version with 409 and leaves the existing one untouched', async () => {
    const name = `dupv-${uid()}`;
    await createModel(api, name);
    const original = await pushVersion(api, name, '1.0.0', { 'a.bin': blob(`original ${name}`) }, { labels: { run: 'one' } });
    const other = randomBlob(50);
    for (const version of ['1.0.0', 'v1.0.0']) {
      const err = expectError(await api.post(`${modelPath(name)}/versions`, { version, files: manifest({ 'b.bin': other }), labels: { run: 'two' } }), 409, 'conflict');
      expect(err.details).toMatchObject({ version: '1.0.0', state: 'ready', digest: original.digest });
    }
    const after = expectBody(await api.get(versionPath(name, '1.0.0')), 200, ModelVersionDocument);
    expect(after).toMatchObject({ digest: original.digest, state: 'ready', labels: { run: 'one' }, readyAt: original.readyAt, updatedAt: original.updatedAt });
    expect(after.files).toEqual(original.files);
    expect(await versionsOf(name)).toHaveLength(1);
  });

  it('refuses unsafe or duplicate manifest paths with 400 and creates no version', async () => {
    const name = `paths-${uid()}`;
    await createModel(api, name);
    const b = randomBlob(10);
    const file = (path: string) => ({ path, size: b.size, sha256: b.sha256 });
    const manifests = [
      [file('../escape.bin')],
      [file('weights/../../escape.bin')],
      [file('/etc/passwd')],
      [file('C:/weights.bin')],
      [file('weights\\model.bin')],
      [file('model\0.bin')],
      [file('')],
      [file('a//b.bin')],
      [file('./a.bin')],
      [file('dir/')],
      [file('model.bin'), file('model.bin')],
    ];
    for (const files of manifests) {
      expectError(await api.post(`${modelPath(name)}/versions`, { version: '1.0.0', files }), 400, 'invalid_argument');
    }
    // A manifest entry must carry a valid sha256 and a whole, non-negative size.
    for (const bad of [{ ...file('x'), sha256: 'ABC' }, { ...file('x'), size: -1 }, { ...file('x'), size: 1.5 }, { path: 'x', size: 1 }]) {
      expectError(await api.post(`${modelPath(name)}/versions`, { version: '1.0.0', files: [bad] }), 400, 'invalid_argument');
    }
    expect(await versionsOf(name)).toEqual([]);
    expectError(await api.get(versionPath(name, '1.0.0')), 404, 'not_found');
  });

  it('refuses a blob whose bytes do not match its hash with 422 and keeps nothing', async () => {
    const claimed = randomBlob(4096);
    const sent = randomBlob(4096);
    const path = `/api/v1/blobs/${claimed.sha256}`;
    const err = expectError(await api.call('PUT', path, { bytes: sent.bytes }), 422, 'unprocessable');
    expect(err.details).toMatchObject({ expected: claimed.sha256, actual: sent.sha256 });
    expect((await api.head(path)).status).toBe(404);
    expect((await api.head(`/api/v1/blobs/${sent.sha256}`)).status).toBe(404);
    expectError(await api.get(path), 404, 'not_found');
    // A truncated upload of the right blob is refused the same way.
    expectError(await api.call('PUT', path, { bytes: claimed.bytes.subarray(0, 100) }), 422, 'unprocessable');
    expect((await api.head(path)).status).toBe(404);
    // The store kept no bytes under that name either: the right upload now creates the blob.
    expect((await putBlob(api, claimed)).created).toBe(true);
    // And an invalid hash in the URL is a 400.
    expectError(await api.call('PUT', `/api/v1/blobs/${claimed.sha256.toUpperCase()}`, { bytes: claimed.bytes }), 400, 'invalid_argument');
  });

  it('refuses metadata over 1 MiB with 413 and creates no version', async () => {
    const name = `meta-${uid()}`;
    await createModel(api, name);
    const err = expectError(
      await api.post(`${modelPath(name)}/versions`, { version: '1.0.0', files: [], metadata: { architecture: 'llama', notes: 'x'.repeat(1024 * 1024 + 1) } }),
      413,
      'too_large',
    );
    expect(err.details).toMatchObject({ limit: 1024 * 1024 });
    expect(await versionsOf(name)).toEqual([]);
    // A JSON body over the general 1 MiB limit is refused with 413 too.
    expectError(await api.post('/api/v1/models', { name: `big-${uid()}`, description: 'x'.repeat(1024 * 1024 + 10) }), 413, 'too_large');
  });

  it('refuses to finalize with blobs missing (409 lists them) and stays pending', async () => {
    const name = `fin-${uid()}`;
    await createModel(api, name);
    const [a, b, c] = [randomBlob(10), randomBlob(20), randomBlob(30)];
    const created = await createVersion(api, name, { version: '1.0.0', files: manifest({ 'a.bin': a, 'b.bin': b, 'c.bin': c }) });
    expect(created.missing).toEqual([a.sha256, b.sha256, c.sha256]);
    await putBlob(api, b);
    const err = expectError(await api.post(`${versionPath(name, '1.0.0')}/finalize`), 409, 'conflict');
    expect([...(err.details?.missing as string[])].sort()).toEqual([a.sha256, c.sha256].sort());
    expect(expectBody(await api.get(versionPath(name, '1.0.0')), 200, ModelVersionDocument).state).toBe('pending');
  });

  it('answers 404 for an unknown model, version, alias or file', async () => {
    const name = `nf-${uid()}`;
    const ghost = `ghost-${uid()}`;
    expectError(await api.get(modelPath(ghost)), 404, 'not_found');
    expectError(await api.get(`${modelPath(ghost)}/versions`), 404, 'not_found');
    expectError(await api.post(`${modelPath(ghost)}/versions`, { version: '1.0.0', files: [] }), 404, 'not_found');
    expectError(await api.get(versionPath(ghost, '1.0.0')), 404, 'not_found');
    expect(expectBody(await api.get(`/api/v1/models?q=${ghost}`), 200, AssetPage).items).toEqual([]);

    await createModel(api, name);
    await pushVersion(api, name, '1.0.0', { 'a.txt': blob(`nf ${name}`) });
    expectError(await api.get(versionPath(name, '2.0.0')), 404, 'not_found');
    expectError(await api.get(versionPath(name, 'champion')), 404, 'not_found');
    expectError(await api.post(`${versionPath(name, '2.0.0')}/finalize`), 404, 'not_found');
    expectError(await api.patch(versionPath(name, '2.0.0'), { state: 'deprecated' }), 404, 'not_found');
    expectError(await api.get(`${modelPath(name)}/aliases/champion`), 404, 'not_found');
    expectError(await api.del(`${modelPath(name)}/aliases/champion`), 404, 'not_found');
    expectError(await api.put(`${modelPath(name)}/aliases/champion`, { version: '2.0.0' }), 404, 'not_found');
    expectError(await api.get(`${versionPath(name, '1.0.0')}/files/nope.bin`), 404, 'not_found');
    expectError(await api.get(`${versionPath(name, '1.0.0')}/compare?other=9.9.9`), 404, 'not_found');
    expectError(await api.get(`/api/v1/blobs/${'0'.repeat(64)}`), 404, 'not_found');
    expectError(await api.get('/api/v1/no-such-route'), 404, 'not_found');
  });

  it('lets exactly one of 50 concurrent creations of the same version succeed; the rest get 409', async () => {
    const name = `race-${uid()}`;
    await createModel(api, name);
    const attempts = Array.from({ length: 50 }, (_, i) =>
      api.post(`${modelPath(name)}/versions`, { version: '1.0.0', files: manifest({ 'f.bin': blob(`attempt ${i} ${name}`) }), labels: { attempt: String(i) } }),
    );
    const results = await Promise.all(attempts);
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
    for (const r of results) if (r.status === 409) expectError(r, 409, 'conflict');
    const winner = results.find((r) => r.status === 201)!;
    const won = expectBody(winner, 201, CreateVersionResponse);
    const versions = await versionsOf(name);
    expect(versions).toHaveLength(1);
    expect(versions[0]).toMatchObject({ digest: won.digest, labels: won.labels, fileCount: 1 });
  });

  it('refuses a malformed JSON body with 400', async () => {
    const name = `json-${uid()}`;
    expectError(await api.call('POST', '/api/v1/models', { rawJson: `{"name": "${name}"` }), 400, 'invalid_argument');
    expectError(await api.call('POST', '/api/v1/models', { rawJson: '' }), 400, 'invalid_argument');
    expectError(await api.call('POST', '/api/v1/models', { rawJson: `["${name}"]` }), 400, 'invalid_argument');
    expectError(await api.post('/api/v1/models', { name, extra: true }), 400, 'invalid_argument');
    expectError(await api.call('GET', modelPath(name)), 404, 'not_found');
    await createModel(api, name);
    expectError(await api.call('POST', `${modelPath(name)}/versions`, { rawJson: '{"version": "1.0.0", "files": [' }), 400, 'invalid_argument');
    expect(await versionsOf(name)).toEqual([]);
  });

  it('refuses lineage pointing at a missing model or version with 404 and creates no version', async () => {
    const parent = `par-${uid()}`;
    const child = `chi-${uid()}`;
    await createModel(api, parent);
    await createModel(api, child);
    await pushVersion(api, parent, '1.0.0', { 'w.bin': blob(`lineage ${parent}`) });
    const f = blob(`lineage child ${child}`);
    for (const lineage of [{ parent: `${parent}:2.0.0` }, { parent: `${parent}:champion` }, { parent: `missing-${uid()}:1.0.0` }, { datasets: [`missing-${uid()}:1.0.0`] }]) {
      const res = await api.post(`${modelPath(child)}/versions`, { version: '1.0.0', files: manifest({ 'w.bin': f }), lineage });
      expectError(res, 404, 'not_found');
    }
    expectError(await api.post(`${modelPath(child)}/versions`, { version: '1.0.0', files: [], lineage: { parent: 'no-colon' } }), 400, 'invalid_argument');
    expect(await versionsOf(child)).toEqual([]);
    // The same version with a valid parent then goes through: nothing was left behind to collide with.
    const ok = await createVersion(api, child, { version: '1.0.0', files: manifest({ 'w.bin': f }), lineage: { parent: `${parent}:1.0.0` } });
    expect(ok.lineage).toEqual([{ relation: 'parent', kind: 'model', name: parent, version: '1.0.0', ref: `${parent}:1.0.0` }]);
  });

  it('refuses bad query parameters and alias names with 400', async () => {
    const name = `q-${uid()}`;
    await createModel(api, name);
    await pushVersion(api, name, '1.0.0', { 'a.txt': blob(`q ${name}`) });
    expectError(await api.get('/api/v1/models?limit=0'), 400, 'invalid_argument');
    expectError(await api.get('/api/v1/models?limit=1001'), 400, 'invalid_argument');
    expectError(await api.get('/api/v1/models?sort=size'), 400, 'invalid_argument');
    expectError(await api.get('/api/v1/models?label=novalue'), 400, 'invalid_argument');
    expectError(await api.get('/api/v1/models/-/versions?minAccuracy=high'), 400, 'invalid_argument');
    expectError(await api.get('/api/v1/models?unknown=1'), 400, 'invalid_argument');
    for (const alias of ['Champion', '1st', 'v1.0.0']) {
      expectError(await api.put(`${modelPath(name)}/aliases/${encodeURIComponent(alias)}`, { version: '1.0.0' }), 400, 'invalid_argument');
    }
    expectError(await api.put(`${modelPath(name)}/aliases/champion`, { version: 'latest' }), 400, 'invalid_argument');
    expect(expectBody(await api.get(versionPath(name, '1.0.0')), 200, ModelVersionDocument).aliases).toEqual([]);
  });

  it('refuses JSON nested past 64 levels with 400 and keeps the registry readable for everyone', async () => {
    const name = `deep-${uid()}`;
    await createModel(api, name);
    const deepObject = (n: number) => `${'{"x":'.repeat(n)}1${'}'.repeat(n)}`;
    // Metadata nested beyond what SQLite's JSON functions accept (1,000), and a body ~5,000 deep.
    for (const body of [`{"version":"1.0.0","files":[],"metadata":${deepObject(1100)}}`, `{"version":"1.0.0","files":[],"metadata":{"a":${'['.repeat(5000)}${']'.repeat(5000)}}}`]) {
      const err = expectError(await api.call('POST', `${modelPath(name)}/versions`, { rawJson: body }), 400, 'invalid_argument');
      expect(err.details).toEqual({ maxDepth: 64 });
      expect(err.message).toMatch(/deeper than 64 levels/);
    }
    expectError(await api.call('POST', '/api/v1/models', { rawJson: `{"name":"${name}-2","labels":${deepObject(5000)}}` }), 400, 'invalid_argument');
    expect(await versionsOf(name)).toEqual([]);
    expectError(await api.get(modelPath(`${name}-2`)), 404, 'not_found');
    // 62 levels of metadata inside the body's two stay accepted, and every listing still answers.
    await pushVersion(api, name, '1.0.0', { 'a.txt': blob(`deep ${name}`) }, { metadata: JSON.parse(`{"nested":${deepObject(61)}}`) as Record<string, unknown> });
    const all = expectBody(await api.get(`/api/v1/models/-/versions?q=${name}`), 200, VersionPage).items;
    expect(all.map((v) => v.version)).toEqual(['1.0.0']);
    expect(expectBody(await api.get(versionPath(name, '1.0.0')), 200, ModelVersionDocument).state).toBe('ready');
    expectBody(await api.get('/api/v1/models/-/versions'), 200, VersionPage);
  });

  it('answers an overlong path parameter with the error envelope, not the framework\'s own body', async () => {
    const err = expectError(await api.get(modelPath('a'.repeat(600))), 400, 'invalid_argument');
    expect(err.details).toEqual({ maxLength: 512 });
    expectError(await api.get('/api/v1/models/%E0%A4%A'), 400, 'invalid_argument');
  });
});

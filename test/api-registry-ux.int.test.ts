/**
 * Registry behaviour a first-time user tripped over (issue 11, item 16), on both backends:
 * `latest` is reserved as an alias name and means the newest ready release (a pre-release only
 * when no release is ready); PATCH of a version refuses fields it does not store; a model's
 * `updatedAt` (the listing's UPDATED) moves when its versions do.
 */
import { describe, expect, it } from 'vitest';
import { AliasList, AssetPage, AssetResponse } from '../src/contracts/assets.js';
import { ModelVersionDocument } from '../src/contracts/model-version.js';
import { BACKENDS } from './helpers/test-server.js';
import { blob, createModel, expectBody, expectError, modelPath, pushVersion, serveSuite, uid, versionPath, type Api } from './helpers/test-api.js';

describe.each(BACKENDS)('registry UX on %s', (backend) => {
  let api: Api;
  serveSuite(backend, (_server, a) => (api = a));

  it('refuses an alias named latest (400) and keeps latest meaning the newest ready version', async () => {
    const name = `ux-${uid()}/alias`;
    await createModel(api, name);
    const f = { 'a.txt': blob(`alias ${name}`) };
    await pushVersion(api, name, '1.0.0', f);
    await pushVersion(api, name, '2.0.0', f);
    const err = expectError(await api.put(`${modelPath(name)}/aliases/latest`, { version: '1.0.0' }), 400, 'invalid_argument');
    expect(err.message).toMatch(/"latest" is reserved/);
    expect(expectBody(await api.get(`${modelPath(name)}/aliases`), 200, AliasList).items).toEqual([]);
    expect(expectBody(await api.get(versionPath(name, 'latest')), 200, ModelVersionDocument).version).toBe('2.0.0');
    // The same for a prompt's labels, which are the registry's aliases.
    const prompt = `ux-${uid()}/prompt`;
    expect((await api.post('/api/v1/prompts', { name: prompt })).status).toBe(201);
    expect((await api.post(`/api/v1/prompts/${encodeURIComponent(prompt)}/versions`, { version: '1.0.0', files: [], metadata: { template: { type: 'text', text: 'hi' } } })).status).toBe(201);
    expectError(await api.put(`/api/v1/prompts/${encodeURIComponent(prompt)}/aliases/latest`, { version: '1.0.0' }), 400, 'invalid_argument');
  });

  it('resolves latest to the newest release, not a newer pre-release; to a pre-release only when no release is ready', async () => {
    const name = `ux-${uid()}/pre`;
    await createModel(api, name);
    const f = { 'a.txt': blob(`pre ${name}`) };
    await pushVersion(api, name, '2.0.0-rc.1', f);
    // Only a pre-release is ready: latest is it.
    expect(expectBody(await api.get(versionPath(name, 'latest')), 200, ModelVersionDocument).version).toBe('2.0.0-rc.1');
    expect(expectBody(await api.get(modelPath(name)), 200, AssetResponse).latestVersion).toBe('2.0.0-rc.1');
    await pushVersion(api, name, '1.4.0', f);
    await pushVersion(api, name, '1.3.0', f);
    await pushVersion(api, name, '2.1.0-beta', f);
    expect(expectBody(await api.get(versionPath(name, 'latest')), 200, ModelVersionDocument).version).toBe('1.4.0');
    expect(expectBody(await api.get(modelPath(name)), 200, AssetResponse).latestVersion).toBe('1.4.0');
    const listed = expectBody(await api.get(`/api/v1/models?q=${encodeURIComponent(name)}`), 200, AssetPage).items.find((a) => a.name === name);
    expect(listed?.latestVersion).toBe('1.4.0');
    // A pre-release stays reachable by its number; a release above it becomes latest.
    await pushVersion(api, name, '2.0.0', f);
    expect(expectBody(await api.get(versionPath(name, 'latest')), 200, ModelVersionDocument).version).toBe('2.0.0');
    // Deprecating the newest release: latest is the next ready release, still not a pre-release.
    expect((await api.patch(versionPath(name, '2.0.0'), { state: 'deprecated' })).status).toBe(200);
    expect(expectBody(await api.get(versionPath(name, 'latest')), 200, ModelVersionDocument).version).toBe('1.4.0');
    expect(expectBody(await api.get(modelPath(name)), 200, AssetResponse).latestVersion).toBe('1.4.0');
  });

  it('refuses PATCH of a version with a description (a version has none) and changes nothing', async () => {
    const name = `ux-${uid()}/patch`;
    await createModel(api, name, { description: 'the model' });
    await pushVersion(api, name, '1.0.0', { 'a.txt': blob(`patch ${name}`) }, { labels: { team: 'a' } });
    const err = expectError(await api.patch(versionPath(name, '1.0.0'), { description: 'new', labels: { team: 'b' } }), 400, 'invalid_argument');
    expect(err.message).toMatch(/description/);
    expect(err.message).toMatch(/PATCH/);
    const v = expectBody(await api.get(versionPath(name, '1.0.0')), 200, ModelVersionDocument);
    expect(v.labels).toEqual({ team: 'a' });
    expect(v).not.toHaveProperty('description');
  });

  it('moves a model\'s updatedAt (UPDATED in listings) when a version is added or changed', async () => {
    const ns = `ux-${uid()}`;
    const [older, newer] = [`${ns}/older`, `${ns}/newer`];
    const before = await createModel(api, older);
    await createModel(api, newer);
    await new Promise((r) => setTimeout(r, 5));
    const v = await pushVersion(api, older, '1.0.0', { 'a.txt': blob(`upd ${ns}`) });
    const after = expectBody(await api.get(modelPath(older)), 200, AssetResponse);
    expect(after.updatedAt > before.updatedAt).toBe(true);
    expect(after.updatedAt).toBe(v.updatedAt);
    const page = expectBody(await api.get(`/api/v1/models?namespace=${ns}&sort=updated`), 200, AssetPage);
    expect(page.items.map((a) => a.name)).toEqual([older, newer]);
    // A version's label change moves it too.
    await new Promise((r) => setTimeout(r, 5));
    expect((await api.patch(versionPath(older, '1.0.0'), { labels: { x: 'y' } })).status).toBe(200);
    const relabelled = expectBody(await api.get(modelPath(older)), 200, AssetResponse);
    expect(relabelled.updatedAt > after.updatedAt).toBe(true);
  });
});

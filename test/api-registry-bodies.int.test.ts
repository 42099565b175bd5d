/**
 * The registry's read endpoints build documents from rows and serialise them from the contract's
 * schema (fast-json-stringify). On both backends, for every such endpoint, the body must be what
 * JSON.stringify would have sent (compact, same escapes: re-serialising the parsed body gives the
 * same bytes), valid against the contract's strict schema, and hold the values the writes put
 * in: escapes, non-BMP text, big and fractional numbers, lineage and aliases, and the
 * evaluations another feature adds to a model version.
 */
import { ModelVersionDocument } from '../src/contracts/model-version.js';
import { describe, expect, it } from 'vitest';
import { AssetPage, AssetResponse, VersionPage } from '../src/contracts/assets.js';
import type { z } from 'zod';
import { BACKENDS } from './helpers/test-server.js';
import { blob, createModel, modelPath, pushVersion, uid, versionPath, type Api, type ApiResponse, serveSuite } from './helpers/test-api.js';

const METADATA = {
  zeta: 1,
  text: 'quote " backslash \\ slash / tab \t newline \n nul \u0000 bell \u0007 é 日本 🤖 \u2028',
  accuracy_score: 0.1 + 0.2,
  parameters: 70_000_000_000,
  big: 2 ** 64,
  tiny: 1e-7,
  nested: { list: [1, 'two', null, true, { deep: [] }], empty: {} },
};

/** The body as sent, checked to be canonical JSON and valid against `schema`; answers it parsed (keys in the body's order). */
function canonical<T extends z.ZodType>(res: ApiResponse, schema: T): z.output<T> {
  expect(res.status, res.bytes.toString('utf8')).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  const text = res.bytes.toString('utf8');
  expect(JSON.stringify(JSON.parse(text))).toBe(text);
  schema.parse(JSON.parse(text));
  return JSON.parse(text) as z.output<T>;
}

describe.each(BACKENDS)('registry read bodies on %s', (backend) => {
  let api: Api;
  serveSuite(backend, (_server, a) => (api = a));

  it('sends documents as canonical JSON that matches the contract', async () => {
    const tag = uid();
    const base = `bodies-${tag}/base`;
    const name = `bodies-${tag}/bot`;
    await createModel(api, base, { description: 'tab\t "q" 🤖', labels: { team: 'nlp "x"' } });
    await createModel(api, name);
    await pushVersion(api, base, '1.0.0', { 'w.bin': blob(`base ${tag}`) });
    await pushVersion(api, name, '2.0.0-rc.1', { 'config.json': blob(`c ${tag}`), 'model.bin': blob(`m ${tag}`) }, {
      metadata: METADATA,
      labels: { stage: 'prod', 'x/y': 'ü' },
      card: '# Card\n\nwith "quotes"',
      lineage: { parent: `${base}:1.0.0`, baseModel: 'meta-llama/Llama-3.1-8B' },
    });
    expect((await api.put(`${modelPath(name)}/aliases/champion`, { version: '2.0.0-rc.1' })).status).toBe(200);

    const full = canonical(await api.get(versionPath(name, '2.0.0-rc.1')), ModelVersionDocument);
    expect(full.metadata).toEqual(JSON.parse(JSON.stringify(METADATA)));
    expect(full.files?.map((f) => f.path)).toEqual(['config.json', 'model.bin']);
    expect(full.aliases).toEqual(['champion']);
    expect(full.lineage.map((e) => e.ref)).toEqual(['meta-llama/Llama-3.1-8B', `${base}:1.0.0`]);
    // Model versions carry their evaluations (none yet), merged in by the evals feature.
    expect(full.evaluations).toEqual([]);

    const byAlias = canonical(await api.get(`${versionPath(name, 'champion')}?files=false`), ModelVersionDocument);
    // (Environments are left out of the comparisons: the automatic entry into development lands asynchronously.)
    const { files: _files, environments: _envs, ...withoutFiles } = full;
    const { environments: _envs2, ...byAliasRest } = byAlias;
    expect(byAliasRest).toEqual(withoutFiles);
    expect(canonical(await api.get(versionPath(base, 'latest')), ModelVersionDocument).version).toBe('1.0.0');
    const head = await api.head(versionPath(name, 'champion'));
    expect(head.status).toBe(200);
    expect(head.bytes.length).toBe(0);

    const page = canonical(await api.get(`${modelPath(name)}/versions?limit=5`), VersionPage);
    const { evaluations: _evaluations, ...listed } = withoutFiles;
    expect(page.items).toEqual([listed]);
    expect(page.nextCursor).toBeNull();
    const search = canonical(await api.get(`/api/v1/models/-/versions?label=stage%3Dprod&q=${encodeURIComponent(`bodies-${tag}`)}&limit=1`), VersionPage);
    expect(search.items).toEqual([listed]);

    const models = canonical(await api.get(`/api/v1/models?q=${encodeURIComponent(`BODIES-${tag}`)}&limit=1`), AssetPage);
    expect(models.items.map((a) => a.name)).toEqual([base]);
    expect(models.nextCursor).not.toBeNull();
    const next = canonical(await api.get(`/api/v1/models?q=bodies-${tag}&limit=1&cursor=${encodeURIComponent(models.nextCursor!)}`), AssetPage);
    expect(next.items.map((a) => a.name)).toEqual([name]);
    const asset = canonical(await api.get(modelPath(base)), AssetResponse);
    expect(asset).toMatchObject({ description: 'tab\t "q" 🤖', labels: { team: 'nlp "x"' }, versionCount: 1, latestVersion: '1.0.0' });
    expect(models.items[0]).toEqual(asset);
  });
});

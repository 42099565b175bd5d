/**
 * Listing and searching over HTTP, on both backends: versions across models filtered by
 * architecture, accuracy and labels; sort orders; cursor pagination walked page by page with
 * a small limit (no duplicates, no gaps); models by name substring, namespace and label.
 * Every test tags its data with a fresh id and filters on it, so tests sharing a server never
 * see each other's rows.
 */
import { describe, expect, it } from 'vitest';
import { AssetPage, VersionPage, type AssetResponse, type ModelMetadata, type VersionResponse } from '../src/contracts/assets.js';
import { BACKENDS } from './helpers/test-server.js';
import { blob, createModel, createVersion, expectBody, expectError, finalize, manifest, putBlob, uid, type Api, serveSuite } from './helpers/test-api.js';

/** Follows nextCursor from the first page to the last; answers every page's items. */
async function walk<T>(api: Api, path: string, schema: typeof VersionPage | typeof AssetPage): Promise<{ pages: T[][] }> {
  const pages: T[][] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page: { items: unknown[]; nextCursor: string | null } = expectBody(await api.get(cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path), 200, schema);
    pages.push(page.items as T[]);
    cursor = page.nextCursor;
    expect(pages.length).toBeLessThan(100);
  } while (cursor);
  return { pages };
}

const ref = (v: VersionResponse) => `${v.name}:${v.version}`;

describe.each(BACKENDS)('search API on %s', (backend) => {
  let api: Api;
  serveSuite(backend, (_server, a) => (api = a));

  /** A ready version whose one file is shared by every version of the test (stored once). */
  async function readyVersion(name: string, version: string, metadata: ModelMetadata, labels: Record<string, string> = {}) {
    const file = blob('shared search fixture');
    const created = await createVersion(api, name, { version, files: manifest({ 'f.txt': file }), metadata, labels });
    if (created.missing.length) await putBlob(api, file);
    return finalize(api, name, version);
  }

  it('searches versions across models by architecture, minimum accuracy and label, page by page', async () => {
    const tag = uid();
    const arch = `arch-${tag}`;
    const models = [`s-${tag}-a`, `ns-${tag}/s-b`, `s-${tag}-c`];
    for (const m of models) await createModel(api, m);
    const rows: { ref: string; model: string; architecture: string; accuracy: number; team: string }[] = [];
    for (const m of models) {
      for (const [version, accuracy, team] of [['1.0.0', 0.4, 'red'], ['1.1.0', 0.6, 'red'], ['2.0.0', 0.9, 'red'], ['2.1.0', 0.8, 'blue']] as const) {
        // Every third version has another architecture: the filter must drop it.
        const architecture = rows.length % 3 === 2 ? `other-${tag}` : arch;
        await readyVersion(m, version, { architecture, accuracy_score: accuracy }, { team: `${team}-${tag}` });
        rows.push({ ref: `${m}:${version}`, model: m, architecture, accuracy, team });
      }
    }
    const expected = rows.filter((r) => r.architecture === arch && r.accuracy >= 0.5 && r.team === 'red').map((r) => r.ref);
    expect(expected.length).toBeGreaterThan(3);

    const query = new URLSearchParams({ architecture: arch, minAccuracy: '0.5', label: `team=red-${tag}`, limit: '2' });
    const { pages } = await walk<VersionResponse>(api, `/api/v1/models/-/versions?${query}`, VersionPage);
    const seen = pages.flat().map(ref);
    for (const p of pages) expect(p.length).toBeLessThanOrEqual(2);
    expect(pages.slice(0, -1).every((p) => p.length === 2)).toBe(true);
    expect(new Set(seen).size).toBe(seen.length);
    // Default order is newest first: exactly the matches, in reverse creation order.
    expect(seen).toEqual([...expected].reverse());
    for (const v of pages.flat()) {
      expect(v.metadata.architecture).toBe(arch);
      expect(v.labels.team).toBe(`red-${tag}`);
    }

    // The same search limited to one model, through its own URL, without the accuracy floor.
    const one = expectBody(await api.get(`/api/v1/models/${encodeURIComponent(models[1]!)}/versions?${new URLSearchParams({ architecture: arch, label: `team=red-${tag}` })}`), 200, VersionPage);
    const inModel = rows.filter((r) => r.model === models[1] && r.architecture === arch && r.team === 'red').map((r) => r.ref);
    expect(one.items.map(ref)).toEqual([...inModel].reverse());
    expect(one.items.every((v) => v.name === models[1])).toBe(true);
  });

  it('sorts one model\'s versions by semver precedence, both ways, across pages', async () => {
    const name = `sort-${uid()}`;
    await createModel(api, name);
    const ordered = ['0.1.0', '1.2.0', '1.9.0', '1.10.0', '2.0.0-rc.1', '2.0.0-rc.2', '2.0.0', '10.0.0'];
    for (const v of ['1.10.0', '2.0.0', '0.1.0', '10.0.0', '2.0.0-rc.2', '1.2.0', '2.0.0-rc.1', '1.9.0']) await readyVersion(name, v, {});
    const base = `/api/v1/models/${encodeURIComponent(name)}/versions?sort=version&limit=3`;
    const asc = (await walk<VersionResponse>(api, `${base}&order=asc`, VersionPage)).pages.flat().map((v) => v.version);
    expect(asc).toEqual(ordered);
    const desc = (await walk<VersionResponse>(api, `${base}&order=desc`, VersionPage)).pages.flat().map((v) => v.version);
    expect(desc).toEqual([...ordered].reverse());
  });

  it('sorts by accuracy across models with ties, walking pages without duplicates or gaps', async () => {
    const tag = uid();
    const arch = `acc-${tag}`;
    const scores: Record<string, number | undefined> = { '1.0.0': 0.7, '1.1.0': 0.9, '1.2.0': 0.7, '1.3.0': 0.5, '1.4.0': 0.7, '1.5.0': undefined };
    for (const m of [`acc-${tag}-a`, `acc-${tag}-b`]) {
      await createModel(api, m);
      for (const [v, s] of Object.entries(scores)) await readyVersion(m, v, s === undefined ? { architecture: arch } : { architecture: arch, accuracy_score: s });
    }
    const scored = 2 * Object.values(scores).filter((s) => s !== undefined).length;
    for (const order of ['desc', 'asc'] as const) {
      const { pages } = await walk<VersionResponse>(api, `/api/v1/models/-/versions?architecture=${arch}&sort=accuracy&order=${order}&limit=2`, VersionPage);
      const items = pages.flat();
      const refs = items.map(ref);
      expect(new Set(refs).size, order).toBe(refs.length);
      const withScore = items.filter((v) => typeof v.metadata.accuracy_score === 'number');
      expect(withScore.length, order).toBe(scored);
      // Versions without a score, if listed at all, come after every scored one.
      expect(items.slice(0, scored)).toEqual(withScore);
      const acc = withScore.map((v) => v.metadata.accuracy_score as number);
      const sorted = [...acc].sort((a, b) => (order === 'asc' ? a - b : b - a));
      expect(acc, order).toEqual(sorted);
    }
  });

  it('filters versions by state', async () => {
    const name = `state-${uid()}`;
    await createModel(api, name);
    await readyVersion(name, '1.0.0', {});
    await createVersion(api, name, { version: '2.0.0', files: [] });
    const path = `/api/v1/models/${encodeURIComponent(name)}/versions`;
    const all = expectBody(await api.get(path), 200, VersionPage);
    expect(all.items.map((v) => [v.version, v.state])).toEqual([['2.0.0', 'pending'], ['1.0.0', 'ready']]);
    const ready = expectBody(await api.get(`${path}?state=ready`), 200, VersionPage);
    expect(ready.items.map((v) => v.version)).toEqual(['1.0.0']);
  });

  it('lists models by case-insensitive name substring, namespace and label, page by page', async () => {
    const tag = uid();
    const names = [`${tag}-Alpha`, `ns-${tag}/${tag}-beta`, `${tag}_gamma`, `${tag}xgamma`, `other-${tag}`];
    const labels: Record<string, string>[] = [{ team: 'red' }, { team: 'red', tier: 'gold' }, { team: 'blue' }, {}, { team: 'red' }];
    for (const [i, name] of names.entries()) await createModel(api, name, { labels: labels[i]! });
    const list = async (query: Record<string, string>) =>
      (await walk<AssetResponse>(api, `/api/v1/models?${new URLSearchParams({ limit: '2', ...query })}`, AssetPage)).pages.flat().map((m) => m.name);

    const byName = await list({ q: tag });
    expect(byName).toEqual([...names].sort());
    expect(await list({ q: `${tag}-ALPHA` })).toEqual([`${tag}-Alpha`]);
    // "_" is a character here, not a LIKE wildcard.
    expect(await list({ q: `${tag}_` })).toEqual([`${tag}_gamma`]);
    expect(await list({ q: tag, namespace: `ns-${tag}` })).toEqual([`ns-${tag}/${tag}-beta`]);
    expect((await list({ q: tag, label: 'team=red' })).sort()).toEqual([names[0], names[1], names[4]].sort());
    const both = new URLSearchParams({ q: tag });
    both.append('label', 'team=red');
    both.append('label', 'tier=gold');
    const gold = expectBody(await api.get(`/api/v1/models?${both}`), 200, AssetPage);
    expect(gold.items.map((m) => m.name)).toEqual([names[1]]);
    expect(gold.items[0]).toMatchObject({ namespace: `ns-${tag}`, labels: { team: 'red', tier: 'gold' } });

    const newest = await list({ q: tag, sort: 'created' });
    expect(newest).toEqual([...names].reverse());
  });

  it('rejects a cursor it did not issue', async () => {
    expectError(await api.get('/api/v1/models/-/versions?cursor=not-a-cursor'), 400, 'invalid_argument');
    expectError(await api.get('/api/v1/models?cursor=bm90IGpzb24'), 400, 'invalid_argument');
  });
});

/**
 * The rows the repo reads for documents (assets-repo-docs.ts), built into documents by the
 * mappers (assets-fns.ts), give the documents the API has always sent, key for key and value for
 * value, on both engines (nested lists in order, escapes, non-BMP text, large numbers); and the
 * per-asset statistics kept by the repo's writes equal a recount after every kind of state change.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VersionResponse } from '../../contracts/assets.js';
import { openDatabase, type SqlDatabase } from '../../platform/sql/sql-db.js';
import { migrate } from '../../platform/sql/sql-migrations.js';
import { assetDocument, versionDocument, versionKey } from './assets-fns.js';
import { assetsMigrations } from './assets-migrations.js';
import { createAssetsRepo, type AssetsRepo, type VersionDocRow } from './assets-repo.js';
import type { NewVersionRow } from './assets-types.js';

const PG_URL = process.env.STEWARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const T = '2025-01-01T00:00:00.000Z';

/** The document of a row as JSON text: equal texts mean the same keys, order, values and escapes. */
const text = (row: VersionDocRow | null | undefined) => (row ? JSON.stringify(versionDocument(row)) : row);

/** Metadata that exercises the JSON round trip: escapes, non-BMP text, big and small numbers, nesting, key order. */
const TRICKY = {
  zeta: 1,
  alpha: 'quote " backslash \\ slash / tab \t newline \n nul \u0000 é 日本 🤖 \u2028',
  accuracy_score: 0.1 + 0.2,
  parameters: 70_000_000_000,
  big: 2 ** 64,
  tiny: 1e-7,
  negative: -0.5,
  nested: { list: [1, 'two', null, true, { deep: [] }], empty: {} },
  nothing: null,
};

function version(assetId: number, v: string, over: Partial<NewVersionRow> = {}): NewVersionRow {
  return {
    asset_id: assetId,
    version: v,
    version_key: versionKey(v),
    state: 'pending',
    digest: `sha256:${'0'.repeat(64)}`,
    size: 16_000_001_066,
    file_count: 2,
    metadata: JSON.stringify(TRICKY),
    labels: JSON.stringify({ team: 'nlp', stage: 'prod' }),
    architecture: 'llama',
    framework: 'pytorch',
    parameters: 7e9,
    accuracy: 0.3,
    card: '# Card\n\nwith "quotes" and ünïcode',
    created_at: T,
    created_by: 'alice',
    updated_at: T,
    ready_at: null,
    expires_at: T,
    ...over,
  };
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`assets repo documents and statistics on ${engine}`, () => {
    let sqlDb: SqlDatabase;
    let repo: AssetsRepo;
    let dataDir: string;
    const schema = `t_${randomBytes(6).toString('hex')}`;

    beforeAll(async () => {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-repo-docs-'));
      sqlDb = await openDatabase(engine === 'sqlite' ? { kind: 'sqlite', path: path.join(dataDir, 'db.sqlite') } : { kind: 'postgres', url: PG_URL, schema });
      await migrate(sqlDb, assetsMigrations);
      repo = createAssetsRepo(sqlDb.db, sqlDb.dialect);
    });

    afterAll(async () => {
      await sqlDb?.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (engine === 'postgres') {
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        await c.query(`drop schema if exists ${schema} cascade`);
        await c.end();
      }
    });

    async function asset(name: string, kind = 'model') {
      return repo.insertAsset(
        { kind, name, namespace: name.includes('/') ? name.split('/')[0]! : null, description: 'd "q"', owner: 'alice', labels: JSON.stringify({ team: 'nlp' }), created_at: T, created_by: 'alice', updated_at: T },
        { team: 'nlp' },
      );
    }

    it('reads a version with files, aliases and lineage into the document the service always rendered', async () => {
      const base = await asset('acme/base');
      const baseV = await repo.insertVersion(version(base.id, '1.0.0', { state: 'ready', ready_at: T, expires_at: null }));
      const ds = await asset('acme/data', 'dataset');
      const dsV = await repo.insertVersion(version(ds.id, '2.0.0', { state: 'ready', ready_at: T, expires_at: null }));
      const a = await asset('acme/bot');
      const v = await repo.insertVersion(version(a.id, '1.2.3-rc.1'));
      await repo.insertFiles(v.id, [
        { path: 'z.bin', size: 2 ** 40, sha256: 'b'.repeat(64) },
        { path: 'a/config.json', size: 10, sha256: 'a'.repeat(64) },
      ]);
      await repo.insertLineage(v.id, [
        { relation: 'parent', targetVersionId: baseV.id, ref: 'acme/base:1.0.0' },
        { relation: 'base_model', targetVersionId: null, ref: 'meta-llama/Llama-3.1-8B' },
        { relation: 'dataset', targetVersionId: dsV.id, ref: 'acme/data:2.0.0' },
      ]);
      await repo.setAlias(a.id, 'staging', v.id, T, 'alice');
      await repo.setAlias(a.id, 'canary', v.id, T, 'alice');

      // What assets-lookup-service's rowView, lineageView and views produced before the database rendered documents.
      const expected: VersionResponse = {
        kind: 'model',
        name: 'acme/bot',
        version: '1.2.3-rc.1',
        state: 'pending',
        digest: v.digest,
        size: 16_000_001_066,
        fileCount: 2,
        files: [
          { path: 'a/config.json', size: 10, sha256: 'a'.repeat(64) },
          { path: 'z.bin', size: 2 ** 40, sha256: 'b'.repeat(64) },
        ],
        metadata: JSON.parse(JSON.stringify(TRICKY)) as Record<string, unknown>,
        labels: { team: 'nlp', stage: 'prod' },
        card: '# Card\n\nwith "quotes" and ünïcode',
        lineage: [
          { relation: 'base_model', kind: null, name: null, version: null, ref: 'meta-llama/Llama-3.1-8B' },
          { relation: 'dataset', kind: 'dataset', name: 'acme/data', version: '2.0.0', ref: 'acme/data:2.0.0' },
          { relation: 'parent', kind: 'model', name: 'acme/base', version: '1.0.0', ref: 'acme/base:1.0.0' },
        ],
        aliases: ['canary', 'staging'],
        createdAt: T,
        createdBy: 'alice',
        readyAt: null,
        expiresAt: T,
        archivedAt: null,
        filesReleasedAt: null,
        updatedAt: T,
      };
      // Compared as text: same keys, same order, same values, same escapes.
      expect(text(await repo.versionDocRow('model', 'acme/bot', { version: '1.2.3-rc.1' }, true))).toBe(JSON.stringify(expected));
      const { files: _files, ...withoutFiles } = expected;
      expect(text(await repo.versionDocRow('model', 'acme/bot', { alias: 'canary' }, false))).toBe(JSON.stringify(withoutFiles));
      expect(text(await repo.versionDocRowById(v.id, false))).toBe(JSON.stringify(withoutFiles));
      expect(await repo.versionDocRow('model', 'acme/bot', { alias: 'nope' }, false)).toBeNull();
      expect(await repo.versionDocRow('dataset', 'acme/bot', { version: '1.2.3-rc.1' }, false)).toBeNull();

      const page = await repo.listVersions({ kind: 'model', assetName: 'acme/bot', sort: 'created', order: 'desc', limit: 10 });
      expect(page.map((r) => [r.id, r.key])).toEqual([[v.id, v.id]]);
      expect(text(page[0]!.row)).toBe(JSON.stringify(withoutFiles));
    });

    it('reads a version without files, lineage or aliases, and an asset, into their documents', async () => {
      const a = await repo.insertAsset(
        { kind: 'prompt', name: 'plain', namespace: null, description: 'tab\t "q" \u0001 日本', owner: null, labels: '{}', created_at: T, created_by: null, updated_at: T },
        {},
      );
      const v = await repo.insertVersion(version(a.id, '0.1.0', { file_count: 0, size: 0, metadata: '{}', labels: '{}', card: null, created_by: null, state: 'ready', ready_at: T, expires_at: null }));
      const expected: VersionResponse = {
        kind: 'prompt', name: 'plain', version: '0.1.0', state: 'ready', digest: v.digest, size: 0, fileCount: 0, files: [], metadata: {}, labels: {}, card: null,
        lineage: [], aliases: [], createdAt: T, createdBy: null, readyAt: T, expiresAt: null, archivedAt: null, filesReleasedAt: null, updatedAt: T,
      };
      expect(text(await repo.versionDocRow('prompt', 'plain', { latestReady: true }, true))).toBe(JSON.stringify(expected));
      // In a page too, nulls included.
      const { files: _none, ...listedDoc } = expected;
      const [row] = await repo.listVersions({ kind: 'prompt', assetName: 'plain', sort: 'version', order: 'asc', limit: 5 });
      expect(text(row?.row)).toBe(JSON.stringify(listedDoc));
      const assetDoc = assetDocument((await repo.assetDocRow('prompt', 'plain'))!);
      expect(JSON.stringify(assetDoc)).toBe(
        JSON.stringify({ kind: 'prompt', name: 'plain', namespace: null, description: 'tab\t "q" \u0001 日本', owner: null, labels: {}, versionCount: 1, latestVersion: '0.1.0', keepArchivedFiles: null, createdAt: T, createdBy: null, updatedAt: T }),
      );
      const [listed] = await repo.listAssets({ kind: 'prompt', nameLike: 'PLA', sort: 'name', order: 'asc', limit: 5 });
      expect(assetDocument(listed!.row)).toEqual(assetDoc);
    });

    it('keeps the version count and the latest ready version equal to a recount through every state change', async () => {
      const a = await asset('stats/m');
      const check = async (count: number, latest: string | null) => {
        expect(await repo.assetDocRow('model', 'stats/m')).toMatchObject({ version_count: count, latest_version: latest });
        const [listed] = await repo.listAssets({ kind: 'model', namespace: 'stats', sort: 'name', order: 'asc', limit: 5 });
        expect(listed!.row).toMatchObject({ name: 'stats/m', version_count: count, latest_version: latest });
      };
      await check(0, null);
      const v1 = await repo.insertVersion(version(a.id, '1.0.0'));
      await check(0, null); // pending versions are not counted
      expect(await repo.markReady(v1.id, T)).toBe(true);
      await check(1, '1.0.0');
      expect(await repo.markReady(v1.id, T)).toBe(false); // a second finaliser changes nothing
      const v2 = await repo.insertVersion(version(a.id, '2.0.0', { state: 'ready', ready_at: T, expires_at: null })); // created ready (a prompt)
      await check(2, '2.0.0');
      const v10 = await repo.insertVersion(version(a.id, '10.0.0-alpha'));
      await repo.markReady(v10.id, T);
      await check(3, '2.0.0'); // a pre-release is latest only when no release is ready
      await repo.updateVersion(v10.id, { state: 'deprecated', updated_at: T });
      await check(3, '2.0.0');
      await repo.updateVersion(v2.id, { state: 'archived', updated_at: T });
      await check(3, '1.0.0');
      await repo.updateVersion(v10.id, { state: 'ready', updated_at: T });
      await check(3, '1.0.0');
      await repo.updateVersion(v10.id, { labels: '{"x":"y"}', updated_at: T }); // not a state change
      await check(3, '1.0.0');
      await repo.updateVersion(v1.id, { state: 'deprecated', updated_at: T });
      await check(3, '10.0.0-alpha'); // no release ready: the highest pre-release
      await repo.updateVersion(v1.id, { state: 'ready', updated_at: T });
      // Inside a transaction, as the service writes.
      await repo.transaction(async (r) => {
        const v3 = await r.insertVersion(version(a.id, '3.0.0'));
        await r.markReady(v3.id, T);
        await r.updateVersion(v1.id, { state: 'archived', updated_at: T });
      });
      await check(4, '3.0.0');
    });
  });
}

/**
 * Bulk seeding for the registry benchmark: writes a catalogue of ready model versions straight
 * into the tables (multi-row inserts in one transaction), with the same columns, keys, digests
 * and blob index rows the API would have written, so the server reads it as its own data.
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { manifestDigest, versionKey } from '../src/features/assets/assets-fns.js';
import type { AssetsTables } from '../src/features/assets/assets-types.js';
import type { UploadsTables } from '../src/features/uploads/uploads-repo.js';
import { architectureOf, frameworkOf, modelName, parametersOf, stageOf, teamOf, versionOf, type Catalogue } from './registry-fns.js';

export type SeedDb = Kysely<AssetsTables & UploadsTables>;

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const T0 = Date.parse('2025-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

async function insertChunked<T>(rows: T[], per: number, insert: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += per) await insert(rows.slice(i, i + per));
}

export interface SeedCounts {
  assets: number;
  versions: number;
  files: number;
  versionLabels: number;
  blobs: number;
}

/**
 * Writes the catalogue: model i has id i+1; its version j has id i*V+j+1, two files (a config
 * shared by all its versions and weights of its own), a team label and, on one in five, a stage.
 * Row batches keep each statement under SQLite's 32,766 bound parameters.
 */
export async function seed(db: SeedDb, dialect: 'sqlite' | 'postgres', catalogue: Catalogue): Promise<SeedCounts> {
  const { models: M, versions: V } = catalogue;
  const counts: SeedCounts = { assets: 0, versions: 0, files: 0, versionLabels: 0, blobs: 0 };
  await db.transaction().execute(async (trx) => {
    const assets = [];
    const assetLabels = [];
    const configBlobs = [];
    for (let i = 0; i < M; i++) {
      const name = modelName(i);
      const labels = { team: teamOf(i) };
      assets.push({
        id: i + 1,
        kind: 'model',
        name,
        namespace: name.includes('/') ? name.slice(0, name.indexOf('/')) : null,
        description: `synthetic model ${i}`,
        owner: 'bench',
        labels: JSON.stringify(labels),
        created_at: at(i),
        created_by: 'bench',
        updated_at: at(i),
      });
      assetLabels.push({ asset_id: i + 1, key: 'team', value: labels.team });
      configBlobs.push({ sha256: sha(`config-${i}`), size: 1024 + i, created_at: at(0) });
    }
    await insertChunked(assets, 1000, (c) => trx.insertInto('assets').values(c).execute());
    await insertChunked(assetLabels, 5000, (c) => trx.insertInto('asset_labels').values(c).execute());
    await insertChunked(configBlobs, 5000, (c) => trx.insertInto('blobs').values(c).execute());
    counts.assets = M;
    counts.blobs += M;

    // One model's worth of rows per batch of statements keeps memory flat whatever the size.
    const perBatch = Math.max(1, Math.floor(1000 / V));
    for (let i0 = 0; i0 < M; i0 += perBatch) {
      const versions = [];
      const files = [];
      const vlabels = [];
      const blobs = [];
      for (let i = i0; i < Math.min(M, i0 + perBatch); i++) {
        const config = { path: 'config.json', size: 1024 + i, sha256: sha(`config-${i}`) };
        for (let j = 0; j < V; j++) {
          const id = i * V + j + 1;
          const params = parametersOf(i);
          const weights = { path: 'model.safetensors', size: params * 2, sha256: sha(`weights-${i}-${j}`) };
          const manifest = [config, weights];
          const accuracy = Math.round(Math.random() * 10_000) / 10_000;
          const metadata = { architecture: architectureOf(i), framework: frameworkOf(i), parameters: params, accuracy_score: accuracy, precision: 'bf16' };
          const stage = stageOf(j);
          const labels: Record<string, string> = { team: teamOf(i), ...(stage ? { stage } : {}) };
          const created = at(M + id);
          versions.push({
            id,
            asset_id: i + 1,
            version: versionOf(j),
            version_key: versionKey(versionOf(j)),
            state: 'ready',
            digest: manifestDigest(manifest),
            size: config.size + weights.size,
            file_count: manifest.length,
            metadata: JSON.stringify(metadata),
            labels: JSON.stringify(labels),
            architecture: metadata.architecture,
            framework: metadata.framework,
            parameters: params,
            accuracy,
            card: null,
            created_at: created,
            created_by: 'bench',
            updated_at: created,
            ready_at: created,
            expires_at: null,
          });
          for (const f of manifest) files.push({ version_id: id, path: f.path, size: f.size, sha256: f.sha256 });
          for (const [key, value] of Object.entries(labels)) vlabels.push({ version_id: id, key, value });
          blobs.push({ sha256: weights.sha256, size: weights.size, created_at: created });
        }
      }
      await insertChunked(versions, 1000, (c) => trx.insertInto('versions').values(c).execute());
      await insertChunked(files, 5000, (c) => trx.insertInto('version_files').values(c).execute());
      await insertChunked(vlabels, 5000, (c) => trx.insertInto('version_labels').values(c).execute());
      await insertChunked(blobs, 5000, (c) => trx.insertInto('blobs').values(c).execute());
      counts.versions += versions.length;
      counts.files += files.length;
      counts.versionLabels += vlabels.length;
      counts.blobs += blobs.length;
    }
    // The per-asset statistics the repo keeps up to date on every version write (version count, latest ready version).
    await sql`update assets set
      version_count = (select count(*) from versions v where v.asset_id = assets.id and v.state <> 'pending'),
      latest_version = (select v.version from versions v where v.asset_id = assets.id and v.state = 'ready' order by v.version_key desc limit 1)`.execute(trx);
    if (dialect === 'postgres') {
      // Ids were given explicitly: move the sequences past them, as if the rows came through the API.
      await sql`select setval(pg_get_serial_sequence('assets', 'id'), (select max(id) from assets))`.execute(trx);
      await sql`select setval(pg_get_serial_sequence('versions', 'id'), (select max(id) from versions))`.execute(trx);
    }
  });
  // PostgreSQL's autovacuum vacuums and analyses freshly inserted tables within a minute (the
  // vacuum sets the visibility map that index-only scans rely on); do it now rather than wait.
  // SQLite is left as the server leaves it: the server runs PRAGMA optimize when it opens the database.
  if (dialect === 'postgres') await sql`vacuum analyze`.execute(db);
  return counts;
}

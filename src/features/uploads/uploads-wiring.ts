/**
 * The uploads module: the blob index, upload sessions and GC. Features
 * whose records reference blobs register with `holdBlobs` during their setup; GC keeps every blob
 * any holder references, and refuses to run while no holder is registered (it would take every
 * blob for garbage).
 */
import { Counter } from 'prom-client';
import { AppError } from '../../platform/errors.js';
import { defineModule } from '../../platform/module.js';
import type { AnyDb } from '../../platform/sql/sql-db.js';
import { uploadsMigrations } from './uploads-migrations.js';
import { createUploadsRepo } from './uploads-repo.js';
import { uploadRoutes } from './uploads-routes.js';
import { createUploadsService, type BlobReferences, type UploadsService } from './uploads-service.js';

export type UploadsFeature = UploadsService & {
  /** Registers a feature whose records keep blobs alive (the registry's versions). */
  holdBlobs(holder: BlobReferences): void;
};

declare module '../../platform/module.js' {
  interface Provided {
    uploads: UploadsFeature;
  }
}

export const uploadsModule = defineModule({
  name: 'uploads',
  needs: ['audit'],
  migrations: uploadsMigrations,
  setup({ sql, store, metrics, clock, config, log, need }) {
    const received = new Counter({
      name: 'steward_upload_bytes_total',
      help: 'Blob bytes received and verified, by how they came: put (one request), chunk (a session PATCH)',
      labelNames: ['via'],
      registers: [metrics],
    });
    const holders: BlobReferences[] = [];
    const references: BlobReferences = {
      async referencedAmong(shas: readonly string[], tx?: AnyDb) {
        if (!holders.length) throw new AppError('internal', 'no feature holds blob references; garbage collection refused');
        const all = new Set<string>();
        for (const h of holders) for (const s of await h.referencedAmong(shas, tx)) all.add(s);
        return all;
      },
      async expirePendingVersions() {
        let n = 0;
        for (const h of holders) n += await h.expirePendingVersions();
        return n;
      },
    };
    const service = createUploadsService({
      repo: createUploadsRepo(sql.db, sql.dialect),
      store,
      audit: need('audit'),
      clock,
      log,
      limits: {
        maxChunkBytes: config.maxChunkBytes,
        // An upload session lives as long as a pending version: both serve one push.
        sessionTtlSeconds: config.pendingTtlSeconds,
        gcGraceSeconds: config.gcGraceSeconds,
      },
      references,
      onBytes: (via, bytes) => received.inc({ via }, bytes),
    });
    const feature: UploadsFeature = { ...service, holdBlobs: (h) => void holders.push(h) };
    return { provides: feature, routes: () => uploadRoutes(service) };
  },
});

/** Builds the uploads feature (blob index, upload sessions, GC) and its routes. */
import { Counter, type Registry } from 'prom-client';
import type { BlobStore } from '../../platform/blob/blob-store.js';
import type { Clock } from '../../platform/clock.js';
import type { Config } from '../../platform/config.js';
import type { Logger } from '../../platform/log.js';
import type { SqlDatabase } from '../../platform/sql/sql-db.js';
import type { AuditService } from '../audit/audit-service.js';
import { uploadsMigrations } from './uploads-migrations.js';
import { createUploadsRepo } from './uploads-repo.js';
import { uploadRoutes } from './uploads-routes.js';
import { createUploadsService, type BlobReferences } from './uploads-service.js';

export { uploadsMigrations };

export function wireUploads(deps: {
  sql: SqlDatabase;
  store: BlobStore;
  metrics?: Registry;
  audit: AuditService;
  clock: Clock;
  config: Config;
  log: Logger;
  references: () => BlobReferences;
}) {
  const received = deps.metrics
    ? new Counter({
        name: 'steward_upload_bytes_total',
        help: 'Blob bytes received and verified, by how they came: put (one request), chunk (a session PATCH)',
        labelNames: ['via'],
        registers: [deps.metrics],
      })
    : null;
  const service = createUploadsService({
    repo: createUploadsRepo(deps.sql.db, deps.sql.dialect),
    store: deps.store,
    audit: deps.audit,
    clock: deps.clock,
    log: deps.log,
    limits: {
      maxChunkBytes: deps.config.maxChunkBytes,
      // An upload session lives as long as a pending version: both serve one push.
      sessionTtlSeconds: deps.config.pendingTtlSeconds,
      gcGraceSeconds: deps.config.gcGraceSeconds,
    },
    references: deps.references,
    onBytes: (via, bytes) => received?.inc({ via }, bytes),
  });
  return { service, routes: uploadRoutes(service) };
}

/** Builds the assets feature (registry of models, datasets, prompts) and its routes. */
import { ASSET_KINDS, type AssetKind } from '../../contracts/assets.js';
import type { Clock } from '../../platform/clock.js';
import type { Config } from '../../platform/config.js';
import type { SqlDatabase } from '../../platform/sql/sql-db.js';
import type { AuditService } from '../audit/audit-service.js';
import type { UploadsService } from '../uploads/uploads-service.js';
import { assetsMigrations } from './assets-migrations.js';
import { createAssetsRepo } from './assets-repo.js';
import { assetRoutes, type VersionExtras } from './assets-routes.js';
import { createAssetsService, type VersionKindHook } from './assets-service.js';

export { assetsMigrations };

export function wireAssets(deps: {
  sql: SqlDatabase;
  uploads: UploadsService;
  audit: AuditService;
  clock: Clock;
  config: Config;
  versionHooks?: Partial<Record<AssetKind, VersionKindHook>>;
  /** Late-bound: features wired after assets (evals) add to a version's document. */
  versionExtras?: () => VersionExtras | null;
}) {
  const repo = createAssetsRepo(deps.sql.db, deps.sql.dialect);
  const service = createAssetsService({
    repo,
    uploads: deps.uploads,
    audit: deps.audit,
    clock: deps.clock,
    limits: { maxMetadataBytes: deps.config.maxMetadataBytes, pendingTtlSeconds: deps.config.pendingTtlSeconds },
    ...(deps.versionHooks ? { versionHooks: deps.versionHooks } : {}),
  });
  return { service, routes: ASSET_KINDS.flatMap((k) => assetRoutes(k, service, deps.versionExtras)) };
}

/**
 * The retention policy of an asset (`keepArchivedFiles`): the files of its N most recently
 * archived versions are kept; every older archived version has its files released, once, in the
 * transaction that archived a version or changed the policy, each release audited
 * (`<kind>.version.release-files`). A released version keeps its record — metadata, manifest,
 * lineage, audit — but GC no longer counts the blobs it lists, and its files are not served.
 * Clearing the policy (null) releases no more; what was released stays released (the bytes may
 * be gone).
 */
import type { AssetKind } from '../../contracts/assets.js';
import { iso, type Clock } from '../../platform/clock.js';
import { errors, type AppError } from '../../platform/errors.js';
import type { Actor } from '../../platform/http/http-route.js';
import type { AnyDb } from '../../platform/sql/sql-db.js';
import type { AuditService } from '../audit/audit-service.js';
import { KIND_LABEL } from './assets-lookup-service.js';
import type { AssetsTxRepo } from './assets-repo.js';

export interface RetentionDeps {
  audit: Pick<AuditService, 'record'>;
  clock: Clock;
  target: (kind: AssetKind, name: string, version?: string) => string;
}

/** The 412 for reading files of a version whose files were released (and for restoring it). */
export function filesReleased(kind: AssetKind, name: string, v: { version: string; files_released_at: string | null }, keep: number | null): AppError {
  const policy = keep === null ? 'keepArchivedFiles, since cleared' : `keepArchivedFiles=${keep}`;
  return errors.precondition(
    `the files of ${name}:${v.version} were released at ${v.files_released_at} by the retention policy of ${KIND_LABEL[kind]} ${name} (${policy}): ` +
      `its record (metadata, manifest, lineage) stays, its bytes are not served; use another version (steward versions ${name})`,
    { name, version: v.version, filesReleasedAt: v.files_released_at, keepArchivedFiles: keep },
  );
}

export function createAssetRetention(deps: RetentionDeps) {
  const { audit, clock, target } = deps;
  return {
    /**
     * Releases the files of the asset's archived versions beyond its policy's N most recently
     * archived, in the caller's transaction (which holds the asset's lock, so the policy read
     * here is the one in force); answers the versions released now.
     */
    async apply(r: AssetsTxRepo, tx: AnyDb, kind: AssetKind, name: string, actor: Actor): Promise<string[]> {
      const a = await r.findAsset(kind, name);
      const keep = a?.keep_archived_files ?? null;
      if (!a || keep === null) return [];
      const now = iso(clock.now());
      const released: string[] = [];
      for (const v of (await r.archivedVersions(a.id)).slice(keep)) {
        if (v.files_released_at !== null || !(await r.releaseFiles(v.id, now))) continue;
        await audit.record(tx, actor, {
          action: `${kind}.version.release-files`,
          target: target(kind, a.name, v.version),
          change: { keepArchivedFiles: keep, archivedAt: v.archived_at, files: v.file_count, bytes: v.size },
        });
        released.push(v.version);
      }
      if (released.length) await r.refreshAssetStats(a.id);
      return released;
    },
  };
}

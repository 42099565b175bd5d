/**
 * Deleting versions and whole assets. The rule it enforces: nothing is deleted while something
 * depends on it, and a deletion is all or nothing. A version stays while an alias points at it,
 * while another version's lineage (parent, base model, dataset) names it, or while a guard
 * another feature registered says why (evaluations: a run in progress, a suite with runs;
 * environment pointers later); the answer is a 409 naming every reason. Otherwise the versions,
 * what other features keep about them (their contributions: evaluation runs of a model
 * version), the audit events and the domain events are written in one transaction. Blobs are
 * not touched: the deleted versions no longer list them, so GC frees those no other version
 * lists.
 */
import type { AssetKind, DeleteResponse, VersionState } from '../../contracts/assets.js';
import { namespaceOf } from '../../contracts/asset-names.js';
import { AppError, errors } from '../../platform/errors.js';
import type { Actor } from '../../platform/http/http-route.js';
import type { AnyDb } from '../../platform/sql/sql-db.js';
import type { AuditService } from '../audit/audit-service.js';
import type { EventsService } from '../events/events-service.js';
import { KIND_LABEL, type AssetLookups } from './assets-lookup-service.js';
import type { AssetsRepo, AssetsTxRepo } from './assets-repo.js';
import type { AssetRow, VersionRow } from './assets-types.js';

/** Versions of one asset about to be deleted, as guards and contributors see them. */
export interface DeletingVersions {
  kind: AssetKind;
  name: string;
  versions: readonly { version: string; state: VersionState }[];
  /** The whole asset goes (its versions between themselves may refer to each other). */
  wholeAsset: boolean;
}

/** Why one version must stay: `reason` is a short kind (`alias`, `lineage`, `evaluation`, …). */
export interface DeleteBlocker {
  version: string;
  reason: string;
  /** What depends on it (alias names, `NAME:VERSION`s, run ids), at most a few. */
  refs: string[];
  /** What holds it and what to do, without the version (the refusal adds it where needed). */
  message: string;
}

/**
 * A feature's reasons to refuse a deletion, registered with `registerDeleteGuard`. Runs inside
 * the deleting transaction, after the rows to delete are locked; answers nothing to allow it.
 */
export type DeleteGuard = (tx: AnyDb, target: DeletingVersions) => Promise<DeleteBlocker[]>;

/**
 * What a feature keeps about versions and deletes with them, in the deleting transaction
 * (`contributeToVersion`'s `remove`); answers how many records it deleted.
 */
export type DeleteContribution = (tx: AnyDb, target: DeletingVersions, actor: Actor) => Promise<number>;

/** How many dependents a refusal names per version, and reasons per message. */
const MAX_REFS = 5;
const MAX_REASONS = 10;

export function createAssetDeletion(deps: {
  repo: AssetsRepo;
  lookups: AssetLookups;
  audit: Pick<AuditService, 'record'>;
  events: Pick<EventsService, 'emit'>;
  target: (kind: AssetKind, name: string, version?: string) => string;
  /** Read when a deletion runs: other features register during their setup. */
  guards: readonly DeleteGuard[];
  contributions: readonly { key: string; remove: DeleteContribution }[];
}) {
  const { repo, audit, events, target } = deps;
  const { requireAsset } = deps.lookups;

  /** The registry's own dependents (aliases, lineage), then every registered guard's. */
  async function blockers(r: AssetsTxRepo, tx: AnyDb, a: AssetRow, kind: AssetKind, versions: VersionRow[], one: VersionRow | undefined): Promise<DeleteBlocker[]> {
    const out: DeleteBlocker[] = [];
    const aliases = await r.aliasesInto(a.id, one?.id);
    for (const [version, names] of groupBy(aliases, (x) => x.version, (x) => x.alias)) {
      out.push({
        version,
        reason: 'alias',
        refs: names.slice(0, MAX_REFS),
        message: `alias${names.length > 1 ? 'es' : ''} ${list(names)} point${names.length > 1 ? '' : 's'} at it (move or remove ${names.length > 1 ? 'them' : 'it'}: steward alias rm ${a.name} ${names[0]})`,
      });
    }
    const edges = await r.dependentEdges(a.id, one?.id);
    for (const [version, refs] of groupBy(edges, (e) => e.target, (e) => `${e.name}:${e.version}`)) {
      out.push({
        version,
        reason: 'lineage',
        refs: refs.slice(0, MAX_REFS),
        message: `${list(refs)} derive${refs.length > 1 ? '' : 's'} from it (lineage; delete ${refs.length > 1 ? 'those versions' : 'that version'} first)`,
      });
    }
    const deleting: DeletingVersions = { kind, name: a.name, versions: versions.map((v) => ({ version: v.version, state: v.state as VersionState })), wholeAsset: !one };
    for (const guard of deps.guards) out.push(...(await guard(tx, deleting)));
    return out;
  }

  function refuse(what: string, found: DeleteBlocker[], wholeAsset: boolean): never {
    const shown = found.slice(0, MAX_REASONS).map((b) => (wholeAsset ? `${b.version}: ${b.message}` : b.message));
    const more = found.length > MAX_REASONS ? `; and ${found.length - MAX_REASONS} more (details.blockers)` : '';
    throw errors.conflict(`${what} cannot be deleted: ${shown.join('; ')}${more}`, { blockers: found });
  }

  /** Deletes `versions` of `a` (locked and checked), their contributions, and the asset when `dropAsset`. */
  async function remove(r: AssetsTxRepo, tx: AnyDb, a: AssetRow, kind: AssetKind, versions: VersionRow[], dropAsset: boolean, actor: Actor): Promise<DeleteResponse> {
    const deleting: DeletingVersions = { kind, name: a.name, versions: versions.map((v) => ({ version: v.version, state: v.state as VersionState })), wholeAsset: dropAsset };
    const removed: Record<string, number> = {};
    for (const c of deps.contributions) {
      const n = await c.remove(tx, deleting, actor);
      if (n) removed[c.key] = n;
    }
    for (const v of versions) {
      await r.deleteVersion(v.id);
      await audit.record(tx, actor, {
        action: `${kind}.version.delete`,
        target: target(kind, a.name, v.version),
        change: { digest: v.digest, state: v.state, size: v.size, files: v.file_count },
      });
      await events.emit(tx, {
        type: 'version.deleted',
        subject: target(kind, a.name, v.version),
        namespace: namespaceOf(a.name),
        data: { kind, name: a.name, version: v.version, state: v.state as VersionState, digest: v.digest },
      });
    }
    const gone = versions.map((v) => v.version);
    if (!dropAsset) await r.refreshAssetStats(a.id);
    const assetDeleted = dropAsset ? (await dropAssetRow(r, tx, kind, a, gone, actor), true) : await dropIfAbandoned(r, tx, kind, a, gone, actor, 'its last version was deleted');
    return { kind, name: a.name, versions: versions.map((v) => ({ version: v.version, state: v.state as VersionState, digest: v.digest, size: v.size })), assetDeleted, removed };
  }

  async function dropAssetRow(r: AssetsTxRepo, tx: AnyDb, kind: AssetKind, a: Pick<AssetRow, 'id' | 'name'>, versions: string[], actor: Actor, reason?: string) {
    await r.deleteAsset(a.id);
    await audit.record(tx, actor, { action: `${kind}.delete`, target: target(kind, a.name), change: { versions, ...(reason ? { reason } : {}) } });
    await events.emit(tx, { type: 'asset.deleted', subject: target(kind, a.name), namespace: namespaceOf(a.name), data: { kind, name: a.name, versions } });
  }

  /**
   * Removes an asset a push registered (provisional) once none of its versions is left, so a
   * push that never finished leaves nothing behind. True when it did.
   */
  async function dropIfAbandoned(r: AssetsTxRepo, tx: AnyDb, kind: AssetKind, a: Pick<AssetRow, 'id' | 'name'>, versions: string[], actor: Actor, why: string): Promise<boolean> {
    if (!(await r.provisionalAndEmpty(a.id))) return false;
    await dropAssetRow(r, tx, kind, a, versions, actor, `registered by a push that never finished; ${why}`);
    return true;
  }

  const missing = (kind: AssetKind, name: string, version: string) =>
    new AppError('not_found', `${KIND_LABEL[kind]} ${name} has no version ${version}`, { name, version });

  return {
    dropIfAbandoned,

    /** Deletes one version (by number), or answers 409 with every reason it must stay. */
    async deleteVersion(kind: AssetKind, name: string, version: string, actor: Actor): Promise<DeleteResponse> {
      return repo.transaction(async (r, trx) => {
        const tx = trx as unknown as AnyDb;
        const a = await requireAsset(kind, name, r);
        const unlocked = await r.findVersion(a.id, version);
        if (!unlocked) throw missing(kind, name, version);
        await r.lockForDelete(a.id, unlocked.id);
        // Read again under the lock: the row is what it is at commit.
        const v = await r.findVersion(a.id, version);
        if (!v) throw missing(kind, name, version);
        const found = await blockers(r, tx, a, kind, [v], v);
        if (found.length) refuse(`${KIND_LABEL[kind]} ${name}:${v.version}`, found, false);
        return remove(r, tx, a, kind, [v], false, actor);
      });
    },

    /** Deletes an asset with all its versions, or answers 409 with every reason one must stay. */
    async deleteAsset(kind: AssetKind, name: string, actor: Actor): Promise<DeleteResponse> {
      return repo.transaction(async (r, trx) => {
        const tx = trx as unknown as AnyDb;
        const a = await requireAsset(kind, name, r);
        await r.lockForDelete(a.id);
        const versions = await r.versionsOf(a.id);
        const found = await blockers(r, tx, a, kind, versions, undefined);
        if (found.length) refuse(`${KIND_LABEL[kind]} ${name}`, found, true);
        return remove(r, tx, a, kind, versions, true, actor);
      });
    },

    /** Keeps a version from being deleted until `tx` ends (another feature about to refer to it); 404 when it is gone. */
    async holdVersion(tx: AnyDb, kind: AssetKind, name: string, version: string): Promise<void> {
      if (!(await repo.on(tx).holdVersion(kind, name, version))) throw missing(kind, name, version);
    },
  };
}

function groupBy<T>(rows: readonly T[], key: (t: T) => string, value: (t: T) => string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of rows) out.set(key(r), [...(out.get(key(r)) ?? []), value(r)]);
  return out;
}

function list(items: readonly string[]): string {
  const shown = items.slice(0, MAX_REFS).join(', ');
  return items.length > MAX_REFS ? `${shown} and ${items.length - MAX_REFS} more` : shown;
}

/**
 * Aliases: movable names for versions (champion, production, …), each move recorded in the
 * alias history and audited in the same transaction.
 */
import type { AssetKind } from '../../contracts/assets.js';
import { namespaceOf, parseSemver } from '../../contracts/asset-names.js';
import { iso, type Clock } from '../../platform/clock.js';
import { AppError, errors } from '../../platform/errors.js';
import type { Actor } from '../../platform/http/http-route.js';
import type { AnyDb } from '../../platform/sql/sql-db.js';
import type { AuditService } from '../audit/audit-service.js';
import type { EventsService } from '../events/events-service.js';
import { KIND_LABEL, LATEST, type AssetLookups } from './assets-lookup-service.js';
import type { AssetsRepo } from './assets-repo.js';

export function createAssetAliases(deps: {
  repo: AssetsRepo;
  lookups: AssetLookups;
  clock: Clock;
  audit: Pick<AuditService, 'record'>;
  events: Pick<EventsService, 'emit'>;
  /** The audit target of an asset. */
  target: (kind: AssetKind, name: string) => string;
  /** Names other features reserve (environments): a refusal's message, or null. */
  aliasGuards?: ((tx: AnyDb, kind: AssetKind, name: string, alias: string) => Promise<string | null>)[];
}) {
  const { repo, clock, audit, events, target } = deps;
  const moved = (tx: AnyDb, kind: AssetKind, name: string, alias: string, version: string | null, previous: string | null) =>
    events.emit(tx, { type: 'alias.moved', subject: target(kind, name), namespace: namespaceOf(name), data: { kind, name, alias, version, previous } });
  const { requireAsset, lockAsset, resolve, getAlias } = deps.lookups;
  return {
    async setAlias(kind: AssetKind, name: string, alias: string, version: string, actor: Actor) {
      if (parseSemver(alias)) throw errors.invalid(`alias ${alias} looks like a version; pick a name`);
      if (alias === LATEST) throw errors.invalid(`alias "${LATEST}" is reserved: ${name}:${LATEST} always means the newest ready release; pick another name (e.g. champion)`, { alias });
      await repo.transaction(async (r, trx) => {
        for (const guard of deps.aliasGuards ?? []) {
          const refusal = await guard(trx as unknown as AnyDb, kind, name, alias);
          if (refusal) throw errors.precondition(refusal, { alias });
        }
        // Locked before the alias is read: concurrent moves then each replace the one before.
        const a = await lockAsset(kind, name, r);
        const v = await resolve(kind, a, version, r);
        if (v.state !== 'ready' && v.state !== 'deprecated') {
          throw errors.precondition(`${name}:${v.version} is ${v.state}; an alias may point only at a ready or deprecated version`, { state: v.state });
        }
        const prev = await r.findAlias(a.id, alias);
        const now = iso(clock.now());
        await r.setAlias(a.id, alias, v.id, now, actor.name);
        await r.recordAliasEvent({ asset_id: a.id, alias, version: v.version, previous_version: prev?.version ?? null, at: now, actor: actor.name });
        await audit.record(trx as unknown as AnyDb, actor, { action: `${kind}.alias.set`, target: target(kind, name), change: { alias, version: v.version, previous: prev?.version ?? null } });
        await moved(trx as unknown as AnyDb, kind, a.name, alias, v.version, prev?.version ?? null);
      });
      return getAlias(kind, name, alias);
    },


    async deleteAlias(kind: AssetKind, name: string, alias: string, actor: Actor) {
      await repo.transaction(async (r, trx) => {
        const a = await lockAsset(kind, name, r);
        const prev = await r.findAlias(a.id, alias);
        if (!prev) throw new AppError('not_found', `${KIND_LABEL[kind]} ${name} has no alias ${alias}`, { name, alias });
        await r.deleteAlias(a.id, alias);
        await r.recordAliasEvent({ asset_id: a.id, alias, version: null, previous_version: prev.version, at: iso(clock.now()), actor: actor.name });
        await audit.record(trx as unknown as AnyDb, actor, { action: `${kind}.alias.delete`, target: target(kind, name), change: { alias, previous: prev.version } });
        await moved(trx as unknown as AnyDb, kind, a.name, alias, null, prev.version);
      });
    },

    async listAliases(kind: AssetKind, name: string) {
      const a = await requireAsset(kind, name);
      const rows = await repo.listAliases(a.id);
      return { items: rows.map((r) => ({ name, alias: r.alias, version: r.version, updatedAt: r.updated_at, updatedBy: r.updated_by })) };
    },

    async aliasHistory(kind: AssetKind, name: string, alias?: string) {
      const a = await requireAsset(kind, name);
      const rows = await repo.aliasHistory(a.id, alias);
      return { items: rows.map((r) => ({ alias: r.alias, version: r.version, previousVersion: r.previous_version, at: r.at, actor: r.actor })) };
    },
  };
}

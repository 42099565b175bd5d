/**
 * The registry: registered assets (models, datasets, prompts) and their versions. Rules it
 * enforces: a version's content (files, metadata, card, lineage) never changes once created;
 * it becomes `ready` only when every blob it lists is stored; state moves forward
 * (ready ⇄ deprecated → archived); aliases point only at usable versions and keep a history;
 * archiving applies the asset's retention policy (assets-retention-service.ts).
 */
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import {
  type AssetKind,
  type CreateVersionBody as CreateVersionBodyIn,
  type AssetPage,
  type CreateVersionResponse,
  type ListAssetsQuery,
  type ListVersionsQuery,
  type UpdateAssetBody,
  type UpdateVersionBody,
  type VersionPage,
  type VersionResponse,
  type VersionState,
  CreateVersionBody,
} from '../../contracts/assets.js';
import type { ByteRange } from '../../platform/blob/blob-store.js';
import { addSeconds, iso, type Clock } from '../../platform/clock.js';
import { AppError, errors } from '../../platform/errors.js';
import type { Actor } from '../../platform/http/http-route.js';
import type { AnyDb } from '../../platform/sql/sql-db.js';
import { isForeignKeyViolation, isUniqueViolation } from '../../platform/sql/sql-db.js';
import type { AuditService } from '../audit/audit-service.js';
import { SYSTEM_ACTOR } from '../audit/audit-service.js';
import type { EventsService } from '../events/events-service.js';
import type { UploadsService } from '../uploads/uploads-service.js';
import { namespaceOf, parseAssetRef } from '../../contracts/asset-names.js';
import { assetDocument, decodeCursor, encodeCursor, manifestDigest, splitPointer, versionDocument, versionKey } from './assets-fns.js';
import { createAssetAliases } from './assets-alias-service.js';
import { createAssetDeletion, type DeleteContribution, type DeleteGuard } from './assets-delete-service.js';
import { createAssetGraph } from './assets-graph-service.js';
import { createAssetRetention, filesReleased } from './assets-retention-service.js';
import { createAssetLookups, KIND_LABEL } from './assets-lookup-service.js';
import type { AssetsRepo, AssetsTxRepo } from './assets-repo.js';
import type { LineageRow } from './assets-repo-docs.js';
import type { AssetRow } from './assets-types.js';

export interface AssetsDeps {
  repo: AssetsRepo;
  /** Every mutation records its audit event inside its own transaction. */
  audit: Pick<AuditService, 'record'>;
  uploads: Pick<UploadsService, 'missing' | 'missingLocked' | 'readBlob'>;
  clock: Clock;
  limits: { maxMetadataBytes: number; pendingTtlSeconds: number };
  /** Per-kind rules for new versions (prompts: a validated spec, no files); none for models. */
  versionHooks?: Partial<Record<AssetKind, VersionKindHook>>;
  /** Domain events (version.ready, version.state.changed, version.deleted, asset.deleted, alias.moved), in each change's transaction. */
  events: Pick<EventsService, 'emit'>;
  /** What other features hold versions by (environment pointers): archiving is refused while one does. */
  holds?: VersionHold[];
  /** Alias names other features reserve (see assets-alias-service). */
  aliasGuards?: ((tx: AnyDb, kind: AssetKind, name: string, alias: string) => Promise<string | null>)[];
  /** Read at each deletion: other features add their guards and contributions during setup. */
  deletion?: { guards: readonly DeleteGuard[]; contributions: readonly { key: string; remove: DeleteContribution }[] };
}

/**
 * What another feature holds versions by (environment pointers), read in the archiving
 * transaction: `holders` name what refuses the archive ("environment production"); `release`,
 * once nothing refuses, lets go of what only followed the version (an automatic environment).
 */
export interface VersionHold {
  holders(tx: AnyDb, version: { kind: AssetKind; name: string; version: string }): Promise<string[]>;
  release?(tx: AnyDb, version: { kind: AssetKind; name: string; version: string }, actor: Actor): Promise<void>;
}

type CreateVersionInput = z.output<typeof CreateVersionBody>;

/**
 * What a kind adds to version creation, without its own copy of the version logic: it checks
 * the input before anything is written (throwing an AppError to refuse it) and may replace the
 * stored metadata, supply the version's identity, and make a version without files ready at once.
 */
export interface VersionKindHook {
  prepare(input: { files: readonly { path: string }[]; metadata: Record<string, unknown> }): {
    metadata: Record<string, unknown>;
    /** Identity when there is no manifest to hash (defaults to the manifest digest). */
    digest?: string;
    /** Created `ready` rather than `pending`: only honoured when the version lists no files. */
    readyAtOnce?: boolean;
  };
}

/** A version as a hot read path needs it: no files, aliases or lineage; metadata as stored text. */
export interface ResolvedVersion {
  name: string;
  version: string;
  state: VersionState;
  digest: string;
  metadataJson: string;
}
const TRANSITIONS: Record<VersionState, VersionState[]> = {
  pending: [],
  ready: ['deprecated', 'archived'],
  deprecated: ['ready', 'archived'],
  archived: [],
};

export function createAssetsService(deps: AssetsDeps) {
  const { repo, uploads, clock, limits, audit, events } = deps;
  const target = (kind: AssetKind, name: string, version?: string) => `${kind}:${name}${version ? `@${version}` : ''}`;
  const subject = (kind: AssetKind, name: string, version: string) => ({ subject: target(kind, name, version), namespace: namespaceOf(name) });

  const lookups = createAssetLookups(repo);
  const { assetView, rowView, requireAsset, lockAsset, resolve, getVersion, getAsset, getAlias } = lookups;
  const graph = createAssetGraph({ repo, lookups });
  const aliases = createAssetAliases({ repo, lookups, clock, audit, events, target, aliasGuards: deps.aliasGuards ?? [] });
  const retention = createAssetRetention({ audit, clock, target });
  const deletion = createAssetDeletion({ repo, lookups, audit, events, target, guards: deps.deletion?.guards ?? [], contributions: deps.deletion?.contributions ?? [] });

  /**
   * The asset a new version goes into: the existing one, or, when the body asks for it
   * (`asset`), one registered in the version's transaction and provisional until a version
   * of it is ready (see 0015_assets_delete).
   */
  async function assetForVersion(kind: AssetKind, name: string, register: CreateVersionInput['asset'], provisional: boolean, actor: Actor, r: AssetsTxRepo, tx: AnyDb): Promise<AssetRow> {
    const existing = await r.findAsset(kind, name);
    if (existing || !register) return existing ?? requireAsset(kind, name, r);
    const now = iso(clock.now());
    const row = {
      kind,
      name,
      namespace: namespaceOf(name),
      description: register.description ?? '',
      owner: register.owner ?? actor.name,
      labels: JSON.stringify(register.labels ?? {}),
      created_at: now,
      created_by: actor.name,
      updated_at: now,
    };
    const inserted = await r.insertAssetIfAbsent(row, register.labels ?? {}, provisional);
    // Registered meanwhile by a concurrent request: that one is the asset.
    if (!inserted) return requireAsset(kind, name, r);
    await audit.record(tx, actor, { action: `${kind}.create`, target: target(kind, name), change: { name, ...register, withVersion: true } });
    return inserted;
  }

  async function lineageEdges(kind: AssetKind, a: AssetRow, input: CreateVersionInput['lineage'], r: AssetsTxRepo) {
    const edges: { relation: string; targetVersionId: number | null; ref: string }[] = [];
    const pointTo = async (targetKind: AssetKind, pointer: string) => {
      const { name, ref } = splitPointer(pointer);
      const target = name === a.name && targetKind === kind ? a : await r.findAsset(targetKind, name);
      if (!target) throw new AppError('not_found', `lineage points at ${KIND_LABEL[targetKind]} ${name}, which does not exist`, { ref: pointer });
      const v = await resolve(targetKind, target, ref, r);
      return { id: v.id, ref: `${target.name}:${v.version}` };
    };
    if (input?.parent) {
      const p = await pointTo(kind, input.parent);
      edges.push({ relation: 'parent', targetVersionId: p.id, ref: p.ref });
    }
    if (input?.baseModel) {
      // A base model in this registry is linked; an external id (e.g. a Hugging Face repo) is kept as text.
      const pointer = /^[^:\s]+:[^:\s]+$/.test(input.baseModel) ? parseAssetRef(input.baseModel, { requireRef: true }) : null;
      const local = pointer !== null && typeof pointer !== 'string' && (await r.findAsset('model', pointer.name));
      if (local) {
        const p = await pointTo('model', input.baseModel);
        edges.push({ relation: 'base_model', targetVersionId: p.id, ref: p.ref });
      } else {
        edges.push({ relation: 'base_model', targetVersionId: null, ref: input.baseModel });
      }
    }
    for (const d of new Set(input?.datasets ?? [])) {
      const p = await pointTo('dataset', d);
      edges.push({ relation: 'dataset', targetVersionId: p.id, ref: p.ref });
    }
    return edges;
  }

  return {
    async createAsset(kind: AssetKind, body: { name: string; description?: string | undefined; owner?: string | undefined; labels?: Record<string, string> | undefined }, actor: Actor) {
      const now = iso(clock.now());
      try {
        const row = await repo.transaction(async (r, trx) => {
          const inserted = await r.insertAsset(
            {
              kind,
              name: body.name,
              namespace: namespaceOf(body.name),
              description: body.description ?? '',
              owner: body.owner ?? actor.name,
              labels: JSON.stringify(body.labels ?? {}),
              created_at: now,
              created_by: actor.name,
              updated_at: now,
            },
            body.labels ?? {},
          );
          await audit.record(trx as unknown as AnyDb, actor, { action: `${kind}.create`, target: target(kind, body.name), change: { ...body } });
          return inserted;
        });
        return assetView(row, 0, null);
      } catch (err) {
        if (isUniqueViolation(err)) throw errors.conflict(`${KIND_LABEL[kind]} ${body.name} already exists`, { name: body.name });
        throw err;
      }
    },

    getAsset,

    async updateAsset(kind: AssetKind, name: string, body: z.output<typeof UpdateAssetBody>, actor: Actor) {
      if (kind === 'prompt' && body.keepArchivedFiles != null) throw errors.invalid('prompt versions have no files: keepArchivedFiles applies to models and datasets', { keepArchivedFiles: body.keepArchivedFiles });
      await repo.transaction(async (r, trx) => {
        // Locked: a version archived concurrently is counted by one of the two, under the policy in force.
        const a = await lockAsset(kind, name, r);
        await r.updateAsset(
          a.id,
          {
            ...(body.description !== undefined ? { description: body.description } : {}),
            ...(body.owner !== undefined ? { owner: body.owner } : {}),
            ...(body.labels ? { labels: JSON.stringify(body.labels) } : {}),
            ...(body.keepArchivedFiles !== undefined ? { keep_archived_files: body.keepArchivedFiles } : {}),
            updated_at: iso(clock.now()),
          },
          body.labels,
        );
        await audit.record(trx as unknown as AnyDb, actor, { action: `${kind}.update`, target: target(kind, name), change: { ...body } });
        if (body.keepArchivedFiles !== undefined) await retention.apply(r, trx as unknown as AnyDb, kind, a.name, actor);
      });
      return getAsset(kind, name);
    },

    /** A page of assets (`AssetPage`). `namespaces`: the caller's grant; null lists everything. */
    async listAssets(kind: AssetKind, q: z.output<typeof ListAssetsQuery>, namespaces: string[] | null = null): Promise<z.output<typeof AssetPage>> {
      const order = q.order ?? (q.sort === 'name' ? 'asc' : 'desc');
      const after = q.cursor ? (decodeCursor(q.cursor, 2) as [string | number, number]) : undefined;
      const rows = await repo.listAssets({ kind, nameLike: q.q, namespace: q.namespace, namespaces, labels: q.label, sort: q.sort, order, after, limit: q.limit + 1 });
      const more = rows.length > q.limit;
      const items = rows.slice(0, q.limit);
      const last = items[items.length - 1];
      return { items: items.map((r) => assetDocument(r.row)), nextCursor: more && last ? encodeCursor([last.key, last.id]) : null };
    },

    async createVersion(kind: AssetKind, name: string, input: CreateVersionInput, actor: Actor): Promise<CreateVersionResponse> {
      const metadata = input.metadata ?? {};
      const metaBytes = Buffer.byteLength(JSON.stringify(metadata));
      if (metaBytes > limits.maxMetadataBytes) {
        throw errors.tooLarge(`metadata is ${metaBytes} bytes; the limit is ${limits.maxMetadataBytes}`, { bytes: metaBytes, limit: limits.maxMetadataBytes });
      }
      const prepared = deps.versionHooks?.[kind]?.prepare({ files: input.files, metadata });
      const stored = prepared?.metadata ?? metadata;
      const readyAtOnce = prepared?.readyAtOnce === true && input.files.length === 0;
      const now = clock.now();
      const size = input.files.reduce((s, f) => s + f.size, 0);
      const num = (k: string) => (typeof stored[k] === 'number' ? (stored[k] as number) : null);
      const str = (k: string) => (typeof stored[k] === 'string' ? (stored[k] as string) : null);
      try {
        return await repo.transaction(async (r, trx) => {
          const a = await assetForVersion(kind, name, input.asset, !readyAtOnce, actor, r, trx as unknown as AnyDb);
          const existing = await r.findVersion(a.id, input.version);
          if (existing) throw errors.conflict(`${KIND_LABEL[kind]} ${name} already has version ${input.version} (${existing.state})`, { name, version: input.version, state: existing.state, digest: existing.digest });
          const edges = await lineageEdges(kind, a, input.lineage, r);
          const v = await r.insertVersion({
            asset_id: a.id,
            version: input.version,
            version_key: versionKey(input.version),
            state: readyAtOnce ? 'ready' : 'pending',
            digest: prepared?.digest ?? manifestDigest(input.files),
            size,
            file_count: input.files.length,
            metadata: JSON.stringify(stored),
            labels: JSON.stringify(input.labels ?? {}),
            architecture: str('architecture'),
            framework: str('framework'),
            parameters: num('parameters'),
            accuracy: num('accuracy_score'),
            card: input.card ?? null,
            created_at: iso(now),
            created_by: actor.name,
            updated_at: iso(now),
            ready_at: readyAtOnce ? iso(now) : null,
            expires_at: readyAtOnce ? null : iso(addSeconds(now, limits.pendingTtlSeconds)),
          });
          await r.insertFiles(v.id, input.files);
          await r.insertVersionLabels(v.id, input.labels ?? {});
          await r.insertLineage(v.id, edges);
          await audit.record(trx as unknown as AnyDb, actor, {
            action: `${kind}.version.create`,
            target: target(kind, name, input.version),
            change: { digest: v.digest, state: v.state, size, files: input.files.length, labels: input.labels ?? {}, lineage: edges.map((e) => `${e.relation}:${e.ref}`), metadataDigest: createHash('sha256').update(v.metadata).digest('hex') },
          });
          if (readyAtOnce) await events.emit(trx as unknown as AnyDb, { type: 'version.ready', ...subject(kind, a.name, v.version), data: { kind, name: a.name, version: v.version, digest: v.digest } });
          const missing = await uploads.missing(input.files.map((f) => f.sha256), trx as unknown as AnyDb);
          // Built from what this transaction wrote: a query through the pool here would wait on
          // the transaction's own connection (SQLite has one).
          return { ...rowView(kind, v, a.name, input.files, edgesView(kind, edges)), missing };
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw errors.conflict(`${KIND_LABEL[kind]} ${name} already has version ${input.version}`, { name, version: input.version });
        // A deletion committed between the lookups and the insert (PostgreSQL): the version
        // would have referred to something gone.
        if (isForeignKeyViolation(err)) throw errors.conflict(`${KIND_LABEL[kind]} ${name}, or a version its lineage names, was deleted while ${name}:${input.version} was being created; check them and retry`, { name, version: input.version });
        throw err;
      }
    },

    async finalizeVersion(kind: AssetKind, name: string, version: string, actor: Actor): Promise<VersionResponse> {
      // The answer is read in the transaction that makes the version ready: if it cannot be
      // read, nothing commits, so a client is never told "failed" about a version that is ready.
      const answer = async (r: AssetsTxRepo, v: { id: number; version: string }) => {
        const doc = await r.versionDocRowById(v.id, true);
        if (doc === null) throw new AppError('not_found', `${KIND_LABEL[kind]} ${name} has no version ${v.version}`, { name, version: v.version });
        return versionDocument(doc);
      };
      return repo.transaction(async (r, trx) => {
        // Locked first, as every change of the asset's versions does (one lock order, no deadlock
        // with a concurrent state change); a concurrent finalize of this version then sees it ready.
        const a = await lockAsset(kind, name, r);
        const v = await resolve(kind, a, version, r);
        if (v.state !== 'pending') return answer(r, v); // idempotent: finalising a ready version again is a no-op
        const files = await r.listFiles(v.id);
        const missing = await uploads.missingLocked(files.map((f) => f.sha256), trx as unknown as AnyDb);
        if (missing.length) {
          throw errors.conflict(`${missing.length} blob(s) of ${name}:${v.version} are not uploaded yet; upload them, then finalize again`, { missing });
        }
        if (!(await r.markReady(v.id, iso(clock.now())))) throw errors.conflict(`${name}:${v.version} changed state while finalising; retry`);
        await audit.record(trx as unknown as AnyDb, actor, { action: `${kind}.version.finalize`, target: target(kind, name, v.version), change: { digest: v.digest, state: 'ready' } });
        await events.emit(trx as unknown as AnyDb, { type: 'version.ready', ...subject(kind, a.name, v.version), data: { kind, name: a.name, version: v.version, digest: v.digest } });
        return answer(r, v);
      });
    },

    getVersion,

    /**
     * The first of `refs` (versions, aliases, `latest`) that names a version, read with as few
     * statements as possible: no files, aliases or lineage. The last ref's not_found is the answer
     * when none does.
     */
    async resolveVersion(kind: AssetKind, name: string, refs: readonly string[]): Promise<ResolvedVersion> {
      const a = await requireAsset(kind, name);
      for (let i = 0; ; i++) {
        try {
          const v = await resolve(kind, a, refs[i]!);
          return { name: a.name, version: v.version, state: v.state as VersionState, digest: v.digest, metadataJson: v.metadata };
        } catch (err) {
          if (i >= refs.length - 1 || !(err instanceof AppError) || err.code !== 'not_found') throw err;
        }
      }
    },

    /** The highest version below `version` that is not pending, or null for the first one. */
    async previousVersion(kind: AssetKind, name: string, version: string): Promise<string | null> {
      const a = await requireAsset(kind, name);
      const prev = await repo.latestVersion(a.id, ['ready', 'deprecated', 'archived'], versionKey(version));
      return prev?.version ?? null;
    },

    /** A page of versions (`VersionPage`). `namespaces`: the caller's grant; null lists everything. */
    async listVersions(kind: AssetKind, name: string, q: z.output<typeof ListVersionsQuery>, namespaces: string[] | null = null): Promise<z.output<typeof VersionPage>> {
      const states = q.state === undefined ? undefined : Array.isArray(q.state) ? q.state : [q.state];
      const after = q.cursor ? (decodeCursor(q.cursor, 2) as [string | number, number]) : undefined;
      const rows = await repo.listVersions({
        kind,
        assetName: name === '-' ? undefined : name,
        namespaces,
        nameLike: q.q,
        states,
        labels: q.label,
        architecture: q.architecture,
        framework: q.framework,
        minAccuracy: q.minAccuracy,
        maxAccuracy: q.maxAccuracy,
        minParameters: q.minParameters,
        maxParameters: q.maxParameters,
        sort: q.sort,
        order: q.order,
        after,
        limit: q.limit + 1,
      });
      const more = rows.length > q.limit;
      const items = rows.slice(0, q.limit);
      const last = items[items.length - 1];
      // No rows may mean no such asset: only then is it looked up, for the right 404.
      if (!rows.length && name !== '-') await requireAsset(kind, name);
      return { items: items.map((r) => versionDocument(r.row)), nextCursor: more && last ? encodeCursor([last.key, last.id]) : null };
    },

    async updateVersion(kind: AssetKind, name: string, ref: string, body: z.output<typeof UpdateVersionBody>, actor: Actor) {
      await repo.transaction(async (r, trx) => {
        // Locked before the state is read: the audit's `from` is the state this change left, and
        // an archive cannot race an alias move onto the same version.
        const a = await lockAsset(kind, name, r);
        const v = await resolve(kind, a, ref, r);
        const now = iso(clock.now());
        if (body.state && body.state !== v.state) {
          const from = v.state as VersionState;
          if (!TRANSITIONS[from].includes(body.state)) {
            if (v.files_released_at !== null) throw filesReleased(kind, a.name, v, (await r.findAsset(kind, a.name))?.keep_archived_files ?? null);
            throw errors.precondition(`${name}:${v.version} is ${from} and cannot become ${body.state}`, { state: from, allowed: TRANSITIONS[from] });
          }
          if (body.state === 'archived') {
            // An alias is a promise that the version is usable: archiving must not break it silently.
            await r.lockVersion(v.id, 'update');
            const held = (await r.aliasesOf([v.id])).get(v.id) ?? [];
            if (held.length) {
              throw errors.precondition(`${name}:${v.version} is the target of alias(es) ${held.join(', ')}; move or remove them before archiving`, { aliases: held });
            }
            const ref = { kind, name: a.name, version: v.version };
            const holders = (await Promise.all((deps.holds ?? []).map((h) => h.holders(trx as unknown as AnyDb, ref)))).flat();
            if (holders.length) {
              throw errors.precondition(`${name}:${v.version} is held by ${holders.join(', ')}; move it out (steward rollback, or promote another version) before archiving`, { heldBy: holders });
            }
            for (const h of deps.holds ?? []) await h.release?.(trx as unknown as AnyDb, ref, actor);
          }
          await r.updateVersion(v.id, { state: body.state, updated_at: now, ...(body.state === 'archived' ? { archived_at: now } : {}) });
          await audit.record(trx as unknown as AnyDb, actor, { action: `${kind}.version.${body.state === 'ready' ? 'restore' : body.state === 'deprecated' ? 'deprecate' : 'archive'}`, target: target(kind, name, v.version), change: { from: v.state, to: body.state } });
          await events.emit(trx as unknown as AnyDb, { type: 'version.state.changed', ...subject(kind, a.name, v.version), data: { kind, name: a.name, version: v.version, from, to: body.state } });
          if (body.state === 'archived') await retention.apply(r, trx as unknown as AnyDb, kind, a.name, actor);
        }
        if (body.labels) {
          await r.updateVersion(v.id, { labels: JSON.stringify(body.labels), updated_at: now });
          await r.insertVersionLabels(v.id, body.labels);
          await audit.record(trx as unknown as AnyDb, actor, { action: `${kind}.version.label`, target: target(kind, name, v.version), change: { labels: body.labels } });
        }
      });
      return getVersion(kind, name, ref);
    },

    ...aliases,
    getAlias,

    /**
     * A version read inside another feature's transaction, locked against concurrent state
     * changes until it commits (what may point at it checks its state here).
     */
    async versionInTx(tx: AnyDb, kind: AssetKind, name: string, ref: string) {
      const r = repo.on(tx);
      const a = await requireAsset(kind, name, r);
      const v = await resolve(kind, a, ref, r);
      await r.lockVersion(v.id, 'share');
      const fresh = (await r.findVersion(a.id, v.version)) ?? v;
      return { name: a.name, version: fresh.version, state: fresh.state as VersionState };
    },

    compare: graph.compare,
    lineage: graph.lineage,

    /** The blob behind one file of a version, for downloads. */
    async openFile(kind: AssetKind, name: string, ref: string, path: string) {
      const a = await requireAsset(kind, name);
      const v = await resolve(kind, a, ref);
      if (v.state === 'pending') throw errors.precondition(`${name}:${v.version} is still pending; finalize it before downloading`);
      if (v.files_released_at !== null) throw filesReleased(kind, a.name, v, a.keep_archived_files);
      const f = await repo.findFile(v.id, path);
      if (!f) throw new AppError('not_found', `${name}:${v.version} has no file ${JSON.stringify(path)}`, { name, version: v.version, path });
      return { ...f, version: v.version, open: (range?: ByteRange) => uploads.readBlob(f.sha256, range) };
    },

    deleteVersion: deletion.deleteVersion,
    deleteAsset: deletion.deleteAsset,
    holdVersion: deletion.holdVersion,

    async referencedAmong(shas: readonly string[], tx?: AnyDb) {
      return (tx ? repo.on(tx) : repo).referencedAmong(shas);
    },

    /**
     * Deletes abandoned pending versions, each in its own transaction with its audit event, and
     * with it the asset a push registered for it when nothing else of that asset is left.
     */
    async expirePendingVersions(): Promise<number> {
      const now = iso(clock.now());
      let n = 0;
      for (;;) {
        const batch = await repo.expiredPending(now, 500);
        for (const v of batch) {
          const deleted = await repo.transaction(async (r, trx) => {
            if (!(await r.deleteExpiredVersion(v.id, now))) return false;
            await audit.record(trx as unknown as AnyDb, SYSTEM_ACTOR, { action: `${v.kind}.version.expire`, target: target(v.kind as AssetKind, v.name, v.version), change: { digest: v.digest } });
            await deletion.dropIfAbandoned(r, trx as unknown as AnyDb, v.kind as AssetKind, { id: v.asset_id, name: v.name }, [v.version], SYSTEM_ACTOR, 'its pending version expired');
            return true;
          });
          if (deleted) n++;
        }
        if (batch.length < 500) return n;
      }
    },
  };
}

/** Lineage as written by `lineageEdges`: a parent has the version's own kind, a base model is a model. */
function edgesView(own: AssetKind, edges: { relation: string; targetVersionId: number | null; ref: string }[]): LineageRow[] {
  return edges.map((e) => {
    const p = e.targetVersionId !== null ? splitPointer(e.ref) : null;
    const [n, v] = p ? [p.name, p.ref] : [null, null];
    const kind: AssetKind | null = e.targetVersionId === null ? null : e.relation === 'dataset' ? 'dataset' : e.relation === 'parent' ? own : 'model';
    return { relation: e.relation as 'parent' | 'base_model' | 'dataset', kind, name: n, version: v, ref: e.ref };
  });
}

export type AssetsService = ReturnType<typeof createAssetsService>;
export type { CreateVersionBodyIn };

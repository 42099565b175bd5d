/**
 * The assets module: the registry of models, datasets and prompts. Other features extend it
 * while they are set up, never through fields of its own: a kind's version checks
 * (`registerKindHook`: prompts, evaluation suites) and what a version document shows of them
 * (`contributeToVersion`: evaluations of a model version, deleted with the version), and why a
 * version must not be deleted (`registerDeleteGuard`: evaluations in progress, suites with runs;
 * environment pointers next). It keeps every blob its versions list, except those of versions whose
 * files the retention policy released (registered with uploads for GC), and expires abandoned
 * pending versions in the background.
 */
import type { z } from 'zod';
import type { AssetKind, VersionResponse } from '../../contracts/assets.js';
import { ASSET_KINDS } from '../../contracts/assets.js';
import { defineModule } from '../../platform/module.js';
import { assetsMigrations } from './assets-migrations.js';
import { createAssetsRepo } from './assets-repo.js';
import { assetRoutes, type VersionExtras } from './assets-routes.js';
import type { DeleteContribution, DeleteGuard } from './assets-delete-service.js';
import { createAssetsService, type AssetsDeps, type AssetsService, type VersionHold, type VersionKindHook } from './assets-service.js';

/**
 * What another feature adds to the document of a version of one kind, under its own key, with
 * the schema of what it adds (its own contract's): the document's response schema is extended
 * with it, so the body is serialised and documented with the contribution.
 */
export interface VersionContributor {
  kind: AssetKind;
  key: string;
  schema: z.ZodType;
  /** What the caller sees: `namespaces` of a limited token (null: unrestricted); name nothing outside them. */
  load(doc: Pick<VersionResponse, 'name' | 'version'>, namespaces: readonly string[] | null): Promise<unknown>;
  /**
   * Deletes what it keeps about versions of this kind when they are deleted, in the same
   * transaction (a contribution never outlives its version); answers how many records went.
   */
  remove?: DeleteContribution;
}

export type AssetsFeature = AssetsService & {
  registerKindHook(kind: AssetKind, hook: VersionKindHook): void;
  contributeToVersion(contributor: VersionContributor): void;
  /** Something that holds versions (environment pointers): archiving a held version is refused. */
  registerVersionHold(hold: VersionHold): void;
  /** Reserves alias names (environments): a guard answers a refusal's message, or null. */
  registerAliasGuard(guard: NonNullable<AssetsDeps['aliasGuards']>[number]): void;
  /** Adds a reason to refuse deleting versions (e.g. something of another feature refers to them). */
  registerDeleteGuard(guard: DeleteGuard): void;
};

declare module '../../platform/module.js' {
  interface Provided {
    assets: AssetsFeature;
  }
}

export const assetsModule = defineModule({
  name: 'assets',
  needs: ['audit', 'uploads', 'events'],
  migrations: assetsMigrations,
  setup({ sql, clock, config, log, need }) {
    const uploads = need('uploads');
    const hooks: Partial<Record<AssetKind, VersionKindHook>> = {};
    const contributors: VersionContributor[] = [];
    const holds: VersionHold[] = [];
    const aliasGuards: NonNullable<AssetsDeps['aliasGuards']> = [];
    const guards: DeleteGuard[] = [];
    const contributions: { key: string; remove: DeleteContribution }[] = [];
    const service = createAssetsService({
      repo: createAssetsRepo(sql.db, sql.dialect),
      uploads,
      audit: need('audit'),
      events: need('events'),
      clock,
      limits: { maxMetadataBytes: config.maxMetadataBytes, pendingTtlSeconds: config.pendingTtlSeconds },
      versionHooks: hooks,
      holds,
      aliasGuards,
      deletion: { guards, contributions },
    });
    uploads.holdBlobs(service);
    const extras: VersionExtras = async (kind, doc, namespaces) => {
      const mine = contributors.filter((c) => c.kind === kind);
      if (!mine.length) return {};
      const values = await Promise.all(mine.map((c) => c.load(doc, namespaces)));
      return Object.fromEntries(mine.map((c, i) => [c.key, values[i]]));
    };
    const contributed = (kind: AssetKind) => Object.fromEntries(contributors.filter((c) => c.kind === kind).map((c) => [c.key, c.schema]));
    const feature: AssetsFeature = {
      ...service,
      registerKindHook(kind, hook) {
        if (hooks[kind]) throw new Error(`a version hook for kind ${kind} is registered already`);
        hooks[kind] = hook;
      },
      contributeToVersion(c) {
        if (contributors.some((o) => o.kind === c.kind && o.key === c.key)) throw new Error(`${c.key} of ${c.kind} versions is contributed twice`);
        contributors.push(c);
        const remove = c.remove;
        if (remove) contributions.push({ key: c.key, remove: (tx, target, actor) => (target.kind === c.kind ? remove(tx, target, actor) : Promise.resolve(0)) });
      },
      registerDeleteGuard(guard) {
        guards.push(guard);
      },
      registerVersionHold: (hold) => void holds.push(hold),
      registerAliasGuard: (guard) => void aliasGuards.push(guard),
    };
    let sweeper: NodeJS.Timeout | null = null;
    return {
      provides: feature,
      routes: () => ASSET_KINDS.flatMap((k) => assetRoutes(k, service, extras, contributed(k))),
      start() {
        sweeper = setInterval(() => {
          service
            .expirePendingVersions()
            .then((expired) => expired && log.info({ expired }, 'expired pending versions'))
            .catch((err: unknown) => log.error({ err }, 'expiring pending versions failed'));
        }, config.sweepIntervalSeconds * 1000);
        sweeper.unref();
      },
      stop() {
        if (sweeper) clearInterval(sweeper);
      },
    };
  },
});

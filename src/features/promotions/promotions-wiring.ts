/**
 * The promotions module: environments and their policies, the pointer of each model in each
 * environment, promotion requests (gates, approvals) and rollbacks. It extends other features
 * while it is set up: the registry refuses to archive or delete a version an environment points at and
 * to use an environment's name as a model alias, and shows each version's environments; the
 * gates of evaluations read "the version in environment E" from the pointers. A model version
 * that becomes ready is promoted to every `autoPromote` environment (a job per version).
 */
import { VersionEnvironments } from '../../contracts/promotions.js';
import { defineModule } from '../../platform/module.js';
import { SYSTEM_ACTOR } from '../audit/audit-service.js';
import { promotionsMigrations } from './promotions-migrations.js';
import { createPromotionsRepo } from './promotions-repo.js';
import { promotionsRoutes } from './promotions-routes.js';
import { createPromotionsService, PROMOTION_CHECK_JOB, PROMOTION_EXPIRE_JOB, type PromotionsService } from './promotions-service.js';
import { AppError } from '../../platform/errors.js';

declare module '../../platform/module.js' {
  interface Provided {
    promotions: PromotionsService;
  }
}

const AUTO_PROMOTE_JOB = 'promotion.auto';

export const promotionsModule = defineModule({
  name: 'promotions',
  needs: ['assets', 'evals', 'audit', 'events', 'jobs'],
  migrations: promotionsMigrations,
  setup({ sql, clock, log, need }) {
    const assets = need('assets');
    const evals = need('evals');
    const events = need('events');
    const jobs = need('jobs');
    const service = createPromotionsService({ repo: createPromotionsRepo(sql.db, sql.dialect), assets, evals, audit: need('audit'), events, jobs, clock });

    assets.registerVersionHold({ holders: (tx, ref) => service.holdsOf(tx, ref), release: (tx, ref, actor) => service.releaseArchived(tx, ref, actor) });
    assets.registerDeleteGuard((tx, target) => service.deletionBlockers(tx, target));
    assets.registerAliasGuard((tx, kind, name, alias) => service.aliasRefusal(tx, kind, name, alias));
    assets.contributeToVersion({
      kind: 'model',
      key: 'environments',
      schema: VersionEnvironments,
      load: (doc) => service.versionEnvironments(doc.name, doc.version),
      remove: (tx, target, actor) => service.removeDeleted(tx, target, actor),
    });
    evals.gates.useEnvironments({ names: () => service.environmentNames(), versionIn: (model, env) => service.versionIn(model, env) });

    jobs.register<{ id: string }>({ kind: PROMOTION_CHECK_JOB, run: ({ payload }) => service.finishCheck(payload.id) });
    jobs.register<{ id: string }>({ kind: PROMOTION_EXPIRE_JOB, run: ({ payload }) => service.expire(payload.id) });
    jobs.register<{ model: string; version: string }>({
      kind: AUTO_PROMOTE_JOB,
      async run({ payload }) {
        for (const env of await service.autoEnvironments(payload.model)) {
          try {
            await service.request({ model: `${payload.model}:${payload.version}`, to: env, comment: 'automatic: the environment takes every ready version' }, SYSTEM_ACTOR);
          } catch (err) {
            // Refusals (already there, another request open, no longer ready) are answers, not failures.
            if (!(err instanceof AppError)) throw err;
            log.info({ model: payload.model, version: payload.version, environment: env, reason: err.message }, 'automatic promotion not made');
          }
        }
      },
    });
    events.subscribe({
      name: 'promotions.auto',
      types: ['version.ready'],
      async handle(event, tx) {
        const d = event.data as { kind: string; name: string; version: string };
        if (d.kind !== 'model') return;
        await jobs.enqueue(tx, { kind: AUTO_PROMOTE_JOB, key: `promotion.auto:${d.name}:${d.version}`, payload: { model: d.name, version: d.version } });
      },
    });

    return { provides: service, routes: () => promotionsRoutes(service) };
  },
});

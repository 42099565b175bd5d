/**
 * The rollouts module: progressive delivery of a candidate version into an environment, step by
 * step through the gateway's traffic splits, judged by the gateway's usage, rolled back
 * automatically. One `rollout.run` job drives each rollout (a restart resumes it); a promotion
 * completing into an environment whose policy rolls out (`promotion.changed` → `rolling_out`)
 * starts one through a `rollout.promotion` job.
 */
import { defineModule } from '../../platform/module.js';
import { rolloutsMigrations } from './rollouts-migrations.js';
import { createRolloutsRepo } from './rollouts-repo.js';
import { rolloutsRoutes } from './rollouts-routes.js';
import { createRolloutRunner } from './rollouts-run-service.js';
import { createRolloutsService, ROLLOUT_RUN_JOB, type RolloutsService } from './rollouts-service.js';

declare module '../../platform/module.js' {
  interface Provided {
    rollouts: RolloutsService;
  }
}

const ROLLOUT_PROMOTION_JOB = 'rollout.promotion';

export const rolloutsModule = defineModule({
  name: 'rollouts',
  needs: ['assets', 'promotions', 'deployments', 'gateway', 'audit', 'events', 'jobs'],
  migrations: rolloutsMigrations,
  setup({ sql, clock, log, need }) {
    const jobs = need('jobs');
    const promotions = need('promotions');
    const deployments = need('deployments');
    const gateway = need('gateway');
    const repo = createRolloutsRepo(sql.db, sql.dialect);
    const service = createRolloutsService({ repo, assets: need('assets'), promotions, deployments, gateway, audit: need('audit'), events: need('events'), jobs, clock });
    const runner = createRolloutRunner({ repo, rollouts: service, deployments, gateway, clock, log });

    // One long-lived job per rollout: it ticks every analysis interval while the rollout runs,
    // holding its lease, so one control-plane replica drives it and another takes over if it dies.
    jobs.register<{ id: string }>({
      kind: ROLLOUT_RUN_JOB,
      concurrency: 64,
      maxAttempts: 1000,
      backoff: { baseMs: 500, maxMs: 10_000 },
      async run({ payload, signal }) {
        while (!signal.aborted) {
          const out = await runner.tick(payload.id);
          if (out.next === 'done') return;
          await new Promise<void>((resolve) => {
            const wake = () => {
              clearTimeout(t);
              signal.removeEventListener('abort', wake);
              resolve();
            };
            const t = setTimeout(wake, out.intervalSeconds * 1000);
            signal.addEventListener('abort', wake, { once: true });
          });
        }
      },
    });
    jobs.register<{ id: string }>({
      kind: ROLLOUT_PROMOTION_JOB,
      async run({ payload }) {
        const p = await promotions.rollingOut(payload.id);
        if (p) await service.startForPromotion(p);
      },
    });
    need('events').subscribe({
      name: 'rollouts.promotions',
      types: ['promotion.changed'],
      async handle(event, tx) {
        const d = event.data as { id: string; state: string };
        if (d.state !== 'rolling_out') return;
        await jobs.enqueue(tx, { kind: ROLLOUT_PROMOTION_JOB, key: `rollout.promotion:${d.id}`, payload: { id: d.id } });
      },
    });

    // A rollback (or removal) of the environment during a rollout ends the rollout.
    need('events').subscribe({
      name: 'rollouts.moves',
      types: ['environment.moved'],
      handle: (event, tx) => service.pointerMoved(tx, event.data as { model: string; environment: string; version: string | null; kind: string }),
    });

    return { provides: service, routes: () => rolloutsRoutes(service) };
  },
});

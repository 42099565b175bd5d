/**
 * The deployments module: deployments of ready model versions on the local driver (replicas as
 * child processes), on Kubernetes (objects applied through its API) or external, reconciled by `deployment.reconcile` jobs, on every change and every
 * `deploymentReconcileMs`. Files are materialised under DATA/deployments/cache, logs kept under
 * DATA/deployments/logs.
 */
import path from 'node:path';
import { defineModule } from '../../platform/module.js';
import { createLocalDriver } from './deployments-local.js';
import { deploymentsMigrations } from './deployments-migrations.js';
import { createDeploymentsRepo } from './deployments-repo.js';
import { deploymentsRoutes } from './deployments-routes.js';
import { createKubeClient, loadKubeConfig, type KubeApi } from './kubernetes/k8s-client.js';
import { createDeploymentsService, DEPLOYMENT_RECONCILE_JOB, type DeploymentsService } from './deployments-service.js';

declare module '../../platform/module.js' {
  interface Provided {
    deployments: DeploymentsService;
  }
}

export const deploymentsModule = defineModule({
  name: 'deployments',
  needs: ['assets', 'promotions', 'audit', 'events', 'jobs'],
  migrations: deploymentsMigrations,
  setup({ sql, store, clock, config, log, need }) {
    const jobs = need('jobs');
    const root = path.join(config.dataDir, 'deployments');
    let kube: KubeApi | undefined;
    const service = createDeploymentsService({
      db: sql.db,
      repo: createDeploymentsRepo(sql.db),
      assets: need('assets'),
      promotions: need('promotions'),
      audit: need('audit'),
      events: need('events'),
      jobs,
      store,
      driver: createLocalDriver({ logRoot: path.join(root, 'logs') }),
      kube: () => (kube ??= createKubeClient(loadKubeConfig(config.kubeconfig))),
      s3: config.blobs.kind === 's3' ? { bucket: config.blobs.bucket, prefix: config.blobs.prefix } : null,
      clock,
      log,
      settings: {
        cacheRoot: path.join(root, 'cache'),
        restartBaseMs: config.deploymentRestartBaseMs,
        maxRestarts: config.deploymentMaxRestarts,
        stopGraceMs: config.deploymentStopGraceMs,
        kubernetesPullImage: config.kubernetesPullImage,
      },
    });
    // One long-lived job per deployment: it reconciles every `deploymentReconcileMs` until the
    // deployment is at rest (stopped or failed), holding its lease meanwhile, so exactly one
    // control-plane replica watches a deployment, and another takes over if that one dies. The
    // periodic pass below only re-enqueues (deduplicated by key: no row while the job lives).
    jobs.register<{ id: string }>({
      kind: DEPLOYMENT_RECONCILE_JOB,
      concurrency: 256,
      maxAttempts: 1000,
      backoff: { baseMs: 500, maxMs: 30_000 },
      async run({ payload, signal }) {
        while (!signal.aborted) {
          if (await service.reconcile(payload.id)) return;
          await new Promise<void>((resolve) => {
            const wake = () => {
              clearTimeout(t);
              signal.removeEventListener('abort', wake);
              resolve();
            };
            const t = setTimeout(wake, config.deploymentReconcileMs);
            signal.addEventListener('abort', wake, { once: true });
          });
        }
      },
    });
    // The environment moved (promotion, rollback, removal): its deployments of the model follow.
    need('events').subscribe({
      name: 'deployments.follow',
      types: ['environment.moved'],
      handle: (event, tx) => service.follow(tx, event.data as { model: string; environment: string; version: string | null; kind: string }),
    });
    let timer: NodeJS.Timeout | null = null;
    return {
      provides: service,
      routes: () => deploymentsRoutes(service),
      start() {
        timer = setInterval(() => {
          service
            .active()
            .then((ids) => service.enqueueReconcile(ids))
            .catch((err: unknown) => log.error({ err }, 'scheduling deployment reconciliation failed'));
        }, config.deploymentReconcileMs);
        timer.unref();
      },
      stop() {
        if (timer) clearInterval(timer);
      },
    };
  },
});

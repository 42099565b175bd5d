/**
 * The gateway module (control-plane side): keys, traffic splits, model settings, the route-table
 * snapshot and usage. The data plane (src/gateway) reads the snapshot over HTTP with a `gateway`
 * token, or, in `steward up`, calls `snapshot` and `ingestUsage` of this module's service directly.
 */
import { defineModule } from '../../platform/module.js';
import { gatewayMigrations } from './gateway-migrations.js';
import { createGatewayRepo } from './gateway-repo.js';
import { gatewayRoutes } from './gateway-routes.js';
import { createGatewayService } from './gateway-service.js';
import { createSnapshotService } from './gateway-snapshot-service.js';
import { createUsageService } from './gateway-usage-service.js';
import { createCostService } from './gateway-cost-service.js';

function createGatewayFeature(deps: Parameters<typeof createGatewayService>[0] & Parameters<typeof createSnapshotService>[0] & Parameters<typeof createCostService>[0]) {
  const snapshots = createSnapshotService(deps);
  const usage = createUsageService({ repo: deps.repo, clock: deps.clock, events: deps.events });
  const cost = createCostService({ repo: deps.repo, deployments: deps.deployments, clock: deps.clock });
  return {
    ...createGatewayService(deps),
    /** The route table; with `after`, one newer than it, waiting up to `waitMs` (null: none came). */
    snapshot: snapshots.snapshot,
    /** Stores a gateway's usage batch (idempotent per gateway and batch) and adds its spend to the keys. */
    ingestUsage: usage.ingest,
    usageReport: usage.report,
    /** Registers a listener called in the ingest transaction with each new batch's rows (monitoring's rollups). */
    onUsageIngested: usage.onUsageIngested,
    /** The newest usage row of a request id (feedback links to it). */
    usageByRequest: usage.usageByRequest,
    /** Deletes raw usage older than a time (monitoring's retention; its rollups keep the figures). */
    pruneUsage: usage.pruneUsage,
    /** Cost over a period: per-token metered, and GPU-hour prices shared out by tokens served. */
    costReport: cost.report,
    /** Raw usage of a short window, summarised (rollout analysis). */
    usageWindow: usage.window,
  };
}
export type GatewayFeature = ReturnType<typeof createGatewayFeature>;
/** A stored usage record, as ingest listeners receive it. */
export type { UsageRow as GatewayUsageRow } from './gateway-repo.js';

declare module '../../platform/module.js' {
  interface Provided {
    gateway: GatewayFeature;
  }
}

export const gatewayModule = defineModule({
  name: 'gateway',
  needs: ['audit', 'events', 'promotions', 'deployments'],
  migrations: gatewayMigrations,
  setup({ sql, clock, need }) {
    const feature = createGatewayFeature({
      repo: createGatewayRepo(sql.db),
      audit: need('audit'),
      events: need('events'),
      promotions: need('promotions'),
      deployments: need('deployments'),
      clock,
    });
    return { provides: feature, routes: () => gatewayRoutes(feature) };
  },
});

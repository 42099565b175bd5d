/**
 * The route table gateways serve from, compiled on demand from the other features' services
 * (environment pointers, deployments and their ready replicas) and this feature's tables (keys,
 * traffic splits, model settings). Its version is the event log's head read before compiling:
 * every change that feeds the table emits an event, so a gateway holding version V that asks
 * `after=V` is answered as soon as the head moves past V, and never misses a change.
 */
import { namespaceOf } from '../../contracts/asset-names.js';
import type { GatewaySnapshot, SnapshotModel } from '../../contracts/gateway.js';
import type { z } from 'zod';
import { iso, type Clock } from '../../platform/clock.js';
import type { DeploymentsService } from '../deployments/deployments-service.js';
import type { EventsService } from '../events/events-service.js';
import type { PromotionsService } from '../promotions/promotions-service.js';
import { snapshotKey } from './gateway-fns.js';
import type { GatewayRepo } from './gateway-repo.js';
import type { TrafficBody } from '../../contracts/gateway.js';

type Cache = z.infer<typeof SnapshotModel>['cache'];

export function createSnapshotService(deps: {
  repo: Pick<GatewayRepo, 'liveKeys' | 'allTraffic' | 'modelSettings'>;
  events: Pick<EventsService, 'head' | 'read'>;
  promotions: Pick<PromotionsService, 'allPointers'>;
  deployments: Pick<DeploymentsService, 'routable'>;
  clock: Clock;
}) {
  const { repo, clock } = deps;

  async function compile(): Promise<GatewaySnapshot> {
    // Head first: a change committed while compiling moves the head past this version, so the
    // gateway's next long poll returns at once with it.
    const version = await deps.events.head();
    const now = iso(clock.now());
    const [pointers, deployments, traffic, settings, keys] = await Promise.all([
      deps.promotions.allPointers(),
      deps.deployments.routable(),
      repo.allTraffic(),
      repo.modelSettings(),
      repo.liveKeys(now),
    ]);
    const cache = new Map(settings.map((s) => [s.model, s.cache ? (JSON.parse(s.cache) as Cache) : null]));
    const models = new Map<string, z.infer<typeof SnapshotModel>>();
    const model = (name: string) => {
      let m = models.get(name);
      if (!m) models.set(name, (m = { name, namespace: namespaceOf(name), environments: {}, cache: cache.get(name) ?? null }));
      return m;
    };
    for (const p of pointers) model(p.model).environments[p.environment] = p.version;
    for (const d of deployments) model(d.model);
    return {
      version,
      compiledAt: now,
      models: [...models.values()].sort((a, b) => a.name.localeCompare(b.name)),
      deployments,
      traffic: traffic.map((t) => ({ ...(JSON.parse(t.body) as TrafficBody), model: t.model, environment: t.environment })),
      keys: keys.map(snapshotKey),
    };
  }

  return {
    compile,

    /**
     * The snapshot; with `after`, only one newer than `after`, waiting up to `waitMs` for the event
     * log to move past it (null: nothing new came). `signal` ends the wait early (the caller left).
     */
    async snapshot(after?: number, waitMs = 0, signal?: AbortSignal): Promise<GatewaySnapshot | null> {
      if (after === undefined) return compile();
      if ((await deps.events.head()) <= after) {
        if (!waitMs || signal?.aborted) return null;
        // Any event wakes the wait; whether it moved the head past `after` is read again below.
        await deps.events.read({ after, types: null, prefixes: [], namespaces: null, limit: 1, waitMs, ...(signal ? { signal } : {}) });
        if ((await deps.events.head()) <= after) return null;
      }
      return compile();
    },
  };
}

export type SnapshotService = ReturnType<typeof createSnapshotService>;

/**
 * The gateway: the route table kept current from a snapshot source, the proxy serving `/v1/...`,
 * and its readiness. The table follows the control plane by long poll (each answer is a newer
 * snapshot, swapped in whole) and is persisted to `DATA/gateway/snapshot.json` (0600: it holds
 * key hashes and upstream keys), so a gateway restarted while the control plane is down still
 * authenticates and routes. When the control plane cannot be reached the gateway keeps serving
 * from the last table and says so (`/readyz`, `steward_gateway_control_plane_up`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { GatewaySnapshot } from '../contracts/gateway.js';
import type { Logger } from '../platform/log.js';
import { createResponseCache } from './gateway-cache.js';
import { createMemoryLimiter, type Limiter } from './gateway-limits.js';
import { createMeter, type UsageSink } from './gateway-meter.js';
import { createProxy, type ProxySettings } from './gateway-proxy.js';
import { compileTable, type RouteTable } from './gateway-table.js';
import { createUpstreams } from './gateway-upstreams.js';

export interface SnapshotSource {
  /** A snapshot newer than `after` (any when null), or null when none came within the source's wait. Throws when unreachable. */
  next(after: number | null, signal: AbortSignal): Promise<GatewaySnapshot | null>;
}

export interface GatewaySettings extends ProxySettings {
  ejectAfter: number;
  ejectBaseMs: number;
  ejectMaxMs: number;
  connectTimeoutMs: number;
  usageFlushMs: number;
}

export const DEFAULT_GATEWAY_SETTINGS: GatewaySettings = {
  maxBodyBytes: 8 * 1024 * 1024,
  upstreamTimeoutMs: 120_000,
  maxAttempts: 3,
  defaultMaxTokens: 1024,
  allowAnonymous: false,
  ejectAfter: 3,
  ejectBaseMs: 5_000,
  ejectMaxMs: 60_000,
  connectTimeoutMs: 5_000,
  usageFlushMs: 1_000,
};

export interface GatewayStatus {
  ready: boolean;
  snapshotVersion: number | null;
  controlPlane: 'reachable' | 'unreachable' | 'unknown';
  /** Seconds since the control plane last confirmed the table current. */
  staleSeconds: number | null;
  source: 'control-plane' | 'persisted' | null;
}

export interface Gateway {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  status(): GatewayStatus;
  /** The table in use (tests, `/v1/models`). */
  table(): RouteTable | null;
  /** Resolves once a table is in use (or after `timeoutMs`). */
  whenReady(timeoutMs: number): Promise<boolean>;
  /** Ships buffered usage now. */
  flushUsage(): Promise<void>;
  close(): Promise<void>;
}

export function createGateway(opts: {
  source: SnapshotSource;
  sink: UsageSink | null;
  /** Where the last snapshot is persisted (null: not persisted). */
  stateDir: string | null;
  /** Modes of that directory and file (default owner only: the file holds key hashes and upstream keys). */
  modes?: { dir: number; file: number };
  gatewayId: string;
  log: Logger;
  registry: Registry;
  settings?: Partial<GatewaySettings>;
  limiter?: Limiter;
}): Gateway {
  const settings = { ...DEFAULT_GATEWAY_SETTINGS, ...opts.settings };
  const { log } = opts;
  const limiter = opts.limiter ?? createMemoryLimiter();
  const meter = createMeter({ gatewayId: opts.gatewayId, sink: opts.sink, registry: opts.registry, log, flushMs: settings.usageFlushMs });
  const upstreams = createUpstreams(settings);
  let table: RouteTable | null = null;
  let source: GatewayStatus['source'] = null;
  let reachable: boolean | null = null;
  let confirmedAt: number | null = null;
  const waiters = new Set<() => void>();
  const file = opts.stateDir ? path.join(opts.stateDir, 'snapshot.json') : null;
  const modes = opts.modes ?? { dir: 0o700, file: 0o600 };

  function use(s: GatewaySnapshot, from: NonNullable<GatewayStatus['source']>): void {
    const t = compileTable(s);
    table = t; // one assignment: requests in flight keep the table they started with
    source = from;
    limiter.sync?.(s.keys);
    meter.metrics.snapshotVersion.set(s.version);
    for (const w of waiters) w();
    waiters.clear();
  }

  // The persisted table first: a restart during an outage serves at once.
  if (file && fs.existsSync(file)) {
    try {
      use(GatewaySnapshot.parse(JSON.parse(fs.readFileSync(file, 'utf8'))), 'persisted');
      log.info({ version: table!.version }, 'gateway: serving the persisted route table until the control plane answers');
    } catch (err) {
      log.warn({ err: (err as Error).message, file }, 'gateway: the persisted route table could not be read; waiting for the control plane');
    }
  }

  let persisting: Promise<void> = Promise.resolve();
  function persist(s: GatewaySnapshot): void {
    if (!file) return;
    persisting = persisting.then(async () => {
      try {
        await fs.promises.mkdir(path.dirname(file), { recursive: true, mode: modes.dir });
        const tmp = `${file}.${process.pid}.tmp`;
        await fs.promises.writeFile(tmp, JSON.stringify(s), { mode: modes.file });
        await fs.promises.rename(tmp, file);
      } catch (err) {
        log.warn({ err: (err as Error).message, file }, 'gateway: could not persist the route table');
      }
    });
  }

  const stop = new AbortController();
  const syncing = (async () => {
    let failures = 0;
    while (!stop.signal.aborted) {
      try {
        const current = table as RouteTable | null;
        const asked = Date.now();
        const s = await opts.source.next(source === 'control-plane' && current ? current.version : null, stop.signal);
        if (stop.signal.aborted) break;
        // A source that answers "nothing new" without waiting (the control plane still starting)
        // must not turn this loop into a busy one that starves the process.
        if (!s && Date.now() - asked < 50) await new Promise((r) => setTimeout(r, 100));
        if (reachable === false) log.info('gateway: the control plane answers again');
        reachable = true;
        failures = 0;
        confirmedAt = Date.now();
        if (s) {
          use(s, 'control-plane');
          persist(s);
        }
      } catch (err) {
        if (stop.signal.aborted) break;
        if (reachable !== false) log.warn({ err: (err as Error).message }, 'gateway: the control plane cannot be reached; serving from the last route table');
        reachable = false;
        failures++;
        await sleep(Math.min(5_000, 250 * 2 ** Math.min(failures, 5)), undefined, { signal: stop.signal }).catch(() => undefined);
      }
      meter.metrics.controlPlaneUp.set(reachable ? 1 : 0);
    }
  })();
  const ageTimer = setInterval(() => meter.metrics.snapshotAge.set(confirmedAt === null ? -1 : (Date.now() - confirmedAt) / 1000), 1000);
  ageTimer.unref();

  const proxy = createProxy({ table: () => table, limiter, meter, upstreams, cache: createResponseCache(), log, settings });

  return {
    handle: proxy.handle,
    table: () => table,
    status: () => ({
      ready: table !== null,
      snapshotVersion: table?.version ?? null,
      controlPlane: reachable === null ? 'unknown' : reachable ? 'reachable' : 'unreachable',
      staleSeconds: confirmedAt === null ? null : Math.round((Date.now() - confirmedAt) / 1000),
      source,
    }),
    whenReady: (timeoutMs) =>
      table
        ? Promise.resolve(true)
        : new Promise<boolean>((resolve) => {
            const t = setTimeout(() => {
              waiters.delete(done);
              resolve(false);
            }, timeoutMs);
            const done = () => {
              clearTimeout(t);
              resolve(true);
            };
            waiters.add(done);
          }),
    flushUsage: () => meter.flush(),
    async close() {
      stop.abort();
      clearInterval(ageTimer);
      await syncing;
      await persisting;
      await meter.close();
      await upstreams.close();
      await limiter.close?.();
    },
  };
}

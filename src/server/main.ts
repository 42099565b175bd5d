/**
 * Composition root of the control plane: opens the database and blob store, runs every
 * module's migrations, composes the feature modules in dependency order, serves HTTP, starts
 * the modules' background work, and shuts down gracefully (background work first, then
 * in-flight requests finish; an interrupted upload stays resumable).
 */
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { assetsModule } from '../features/assets/assets-wiring.js';
import { auditModule } from '../features/audit/audit-wiring.js';
import { ADMIN_TOKEN_FILE } from '../features/auth/auth-service.js';
import { authModule } from '../features/auth/auth-wiring.js';
import { deploymentsModule } from '../features/deployments/deployments-wiring.js';
import { evalsModule } from '../features/evals/evals-wiring.js';
import { createGateway, type Gateway } from '../gateway/gateway.js';
import { localSnapshotSource } from '../gateway/gateway-sources.js';
import { gatewayModule } from '../features/gateway/gateway-wiring.js';
import { eventsModule } from '../features/events/events-wiring.js';
import { exportModule } from '../features/export/export-wiring.js';
import { jobsModule } from '../features/jobs/jobs-wiring.js';
import { monitoringModule } from '../features/monitoring/monitoring-wiring.js';
import { notifyModule } from '../features/notify/notify-wiring.js';
import { promotionsModule } from '../features/promotions/promotions-wiring.js';
import { promptsModule } from '../features/prompts/prompts-wiring.js';
import { rolloutsModule } from '../features/rollouts/rollouts-wiring.js';
import { uploadsModule } from '../features/uploads/uploads-wiring.js';
import { openBlobStore } from '../platform/blob/blob-open.js';
import { systemClock, type Clock } from '../platform/clock.js';
import type { Config } from '../platform/config.js';
import { describeTightened, ensureDir, fileModes, type OnTightened } from '../platform/data-dir.js';
import { createLogger, type Logger } from '../platform/log.js';
import { composeModules, migrationsOf, type FeatureModule, type Provided } from '../platform/module.js';
import { openDatabase } from '../platform/sql/sql-db.js';
import { migrate } from '../platform/sql/sql-migrations.js';
import type { RouteDef } from '../platform/http/http-route.js';
import { buildHttpApp } from './http-app.js';
import { WEB_DIST } from './web-ui.js';

/** Every feature of the control plane, in any order: each names what it needs. */
export const MODULES: readonly FeatureModule[] = [auditModule, eventsModule, jobsModule, authModule, uploadsModule, assetsModule, promptsModule, evalsModule, promotionsModule, deploymentsModule, gatewayModule, monitoringModule, notifyModule, exportModule, rolloutsModule];
export const MIGRATIONS = migrationsOf(MODULES);

const require = createRequire(import.meta.url);
export const STEWARD_VERSION: string = (require('../../package.json') as { version: string }).version;

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  config: Config;
  log: Logger;
  /**
   * The admin token created on this start (first start only), printed once by the CLI; `file`
   * is null when `admin.token` already existed (another instance's) and was left alone.
   */
  bootstrapToken: { token: string; file: string | null } | null;
  /** `DATA/admin.token` when it exists, so every start can say where it is. */
  adminTokenFile: string | null;
  /** What each module provides, by module name. */
  services: Provided;
  /** The route table, for tests that sweep every route (the permission matrix). */
  routes: readonly RouteDef[];
  /** The in-process gateway serving `/v1/...` (null for the control plane alone). */
  gateway: Gateway | null;
  /** Whether the built web UI is served at `/` (web/dist exists). */
  webUi: boolean;
  close(): Promise<void>;
}

export interface StartOptions {
  config: Config;
  clock?: Clock;
  logDestination?: NodeJS.WritableStream;
  /** Install SIGINT/SIGTERM handlers (the CLI does; tests do not). */
  handleSignals?: boolean;
  /** Serve the gateway (`/v1/...`) on the same port, from this process's route table (`steward up`; default true). */
  gateway?: boolean;
}

export async function startServer(opts: StartOptions): Promise<RunningServer> {
  const { config } = opts;
  const clock = opts.clock ?? systemClock;
  const log = createLogger({ level: config.logLevel, destination: opts.logDestination });
  // Owner only (or owner and group): an existing data dir others could read is tightened, with a warning.
  const modes = fileModes(config.dataDirGroupAccess);
  const onTightened: OnTightened = (t) => log.warn({ path: t.path }, describeTightened(t));
  ensureDir(config.dataDir, modes, onTightened);

  // The store first: a bucket that cannot be used stops the start before the database is touched.
  const store = await openBlobStore(config.blobs, log, { modes, onTightened });
  const sql = await openDatabase(config.database, { modes, onTightened });
  const applied = await migrate(sql, MIGRATIONS);
  if (applied.length) log.info({ migrations: applied }, 'database migrated');

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'steward_' });

  const features = await composeModules({ sql, store, clock, config, log, metrics }, MODULES);
  const services = features.provided as Provided;
  const routes = features.routes;
  // The data plane in this process: the same route table a separate gateway would fetch, without HTTP.
  let gateway: Gateway | null = null;
  if (opts.gateway !== false) {
    const limiter = config.gatewayRedisUrl
      ? (await import('../gateway/gateway-limits-redis.js')).createRedisLimiter({
          url: config.gatewayRedisUrl,
          onFallback: (err) => log.warn({ err: err.message }, 'gateway: Redis cannot be reached; key limits hold per gateway until it answers'),
        })
      : undefined;
    gateway = createGateway({
      source: localSnapshotSource((after, waitMs, signal) => services.gateway.snapshot(after ?? undefined, waitMs, signal)),
      sink: async (batch) => {
        await services.gateway.ingestUsage(batch);
      },
      stateDir: path.join(config.dataDir, 'gateway'),
      modes,
      gatewayId: `${os.hostname()}:${process.pid}`,
      log,
      registry: metrics,
      ...(limiter ? { limiter } : {}),
    });
  }
  const app = buildHttpApp({
    logger: log,
    routes,
    authenticate: services.auth.authenticate,
    authorize: services.auth.authorize,
    requestLog: { all: config.logRequests === 'all', slowMs: config.slowRequestMs },
    metrics,
    version: STEWARD_VERSION,
    webRoot: WEB_DIST,
    ready: async () => {
      await sql.ping();
      await store.ping();
      return { database: sql.dialect, blobs: store.kind, ...(gateway ? { gateway: gateway.status().ready ? 'ready' : 'starting' } : {}) };
    },
    ...(gateway ? { dataPlane: (req: IncomingMessage, res: ServerResponse) => void gateway.handle(req, res) } : {}),
  });

  let bootstrapToken: RunningServer['bootstrapToken'];
  try {
    await app.listen({ host: config.host, port: config.port });
    // Only once listening: a first start that fails (a busy port) leaves no token nobody was shown.
    bootstrapToken = await services.auth.bootstrap(config.dataDir);
  } catch (err) {
    await gateway?.close();
    await app.close();
    await store.close();
    await sql.close();
    throw err;
  }
  const tokenFile = path.join(config.dataDir, ADMIN_TOKEN_FILE);
  const adminTokenFile = fs.existsSync(tokenFile) ? tokenFile : null;
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  log.info({ url, database: sql.dialect, blobs: store.kind }, 'steward control plane listening');

  await features.start();
  // Planner statistics (SQLite; PostgreSQL's autovacuum keeps its own).
  const optimizer = setInterval(() => sql.optimize().catch((err: unknown) => log.error({ err }, 'database optimize failed')), config.sweepIntervalSeconds * 1000);
  optimizer.unref();

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      clearInterval(optimizer);
      // The data plane first: its last usage batch still reaches the database.
      await gateway?.close();
      // Background work stops first: runs in flight write what they finished and release their
      // claim, so the next start resumes them.
      await features.stop();
      const timer = setTimeout(() => {
        log.warn('shutdown grace period over; closing remaining connections (their uploads stay resumable)');
        app.server.closeAllConnections();
      }, config.shutdownGraceSeconds * 1000);
      timer.unref();
      await app.close();
      clearTimeout(timer);
      await store.close();
      await sql.close();
    })());

  if (opts.handleSignals) {
    const onSignal = (sig: string) => {
      log.info({ signal: sig }, 'shutting down');
      close().then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }

  return { url, app, config, log, bootstrapToken, adminTokenFile, services, routes, gateway, webUi: fs.existsSync(path.join(WEB_DIST, 'index.html')), close };
}

/**
 * Composition root of the control plane: opens the database and blob store, runs the
 * migrations, wires each feature, serves HTTP, runs the background sweeper, and shuts down
 * gracefully (in-flight requests finish; an interrupted upload stays resumable).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { wireAssets, assetsMigrations } from '../features/assets/assets-wiring.js';
import { wireAudit, auditMigrations } from '../features/audit/audit-wiring.js';
import { wireAuth, authMigrations } from '../features/auth/auth-wiring.js';
import { evalsMigrations, suiteVersionHook, wireEvals } from '../features/evals/evals-wiring.js';
import { jobsMigrations, wireJobs } from '../features/jobs/jobs-wiring.js';
import { promptVersionHook, wirePrompts } from '../features/prompts/prompts-wiring.js';
import { wireUploads, uploadsMigrations } from '../features/uploads/uploads-wiring.js';
import { openBlobStore } from '../platform/blob/blob-open.js';
import { systemClock, type Clock } from '../platform/clock.js';
import type { Config } from '../platform/config.js';
import { createLogger, type Logger } from '../platform/log.js';
import { openDatabase } from '../platform/sql/sql-db.js';
import { migrate } from '../platform/sql/sql-migrations.js';
import type { AssetsService } from '../features/assets/assets-service.js';
import type { AuditService } from '../features/audit/audit-service.js';
import type { PromptsService } from '../features/prompts/prompts-service.js';
import type { EvalsService } from '../features/evals/evals-service.js';
import type { Gates } from '../features/evals/evals-gates.js';
import type { RouteDef } from '../platform/http/http-route.js';
import { buildHttpApp } from './http-app.js';

export const MIGRATIONS = [...assetsMigrations, ...uploadsMigrations, ...authMigrations, ...auditMigrations, ...jobsMigrations, ...evalsMigrations];

const require = createRequire(import.meta.url);
export const STEWARD_VERSION: string = (require('../../package.json') as { version: string }).version;

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  config: Config;
  log: Logger;
  /** The admin token created on this start (first start only); printed once by the CLI. */
  bootstrapToken: { token: string; file: string } | null;
  services: { assets: AssetsService; audit: AuditService; prompts: PromptsService; evals: EvalsService; gates: Gates };
  /** The route table, for tests that sweep every route (the permission matrix). */
  routes: readonly RouteDef[];
  close(): Promise<void>;
}

export interface StartOptions {
  config: Config;
  clock?: Clock;
  logDestination?: NodeJS.WritableStream;
  /** Install SIGINT/SIGTERM handlers (the CLI does; tests do not). */
  handleSignals?: boolean;
}

export async function startServer(opts: StartOptions): Promise<RunningServer> {
  const { config } = opts;
  const clock = opts.clock ?? systemClock;
  const log = createLogger({ level: config.logLevel, destination: opts.logDestination });
  fs.mkdirSync(config.dataDir, { recursive: true });

  const sql = await openDatabase(config.database);
  const applied = await migrate(sql, MIGRATIONS);
  if (applied.length) log.info({ migrations: applied }, 'database migrated');
  const store = await openBlobStore(config.blobs, log);

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'steward_' });

  const audit = wireAudit({ sql, clock });
  let assetsService: AssetsService | null = null;
  const uploads = wireUploads({
    sql,
    store,
    metrics,
    audit: audit.service,
    clock,
    config,
    log,
    references: () => {
      if (!assetsService) throw new Error('assets service not wired');
      return assetsService;
    },
  });
  let versionExtras: ReturnType<typeof wireEvals>['versionExtras'] | null = null;
  const assets = wireAssets({
    sql,
    uploads: uploads.service,
    audit: audit.service,
    clock,
    config,
    versionHooks: { prompt: promptVersionHook, dataset: suiteVersionHook },
    versionExtras: () => versionExtras,
  });
  assetsService = assets.service;
  const prompts = wirePrompts({ assets: assets.service, config });
  const jobs = wireJobs({ sql, clock, log, config });
  const evals = wireEvals({ sql, assets: assets.service, prompts: prompts.service, audit: audit.service, clock, config, log, jobs: jobs.service });
  versionExtras = evals.versionExtras;
  const auth = wireAuth({ sql, clock, log, audit: audit.service, failuresPerMinute: config.authFailuresPerMinute });

  const routes = [...assets.routes, ...prompts.routes, ...evals.routes, ...uploads.routes, ...auth.routes, ...audit.routes, ...jobs.routes];
  const app = buildHttpApp({
    logger: log,
    routes,
    authenticate: auth.service.authenticate,
    authorize: auth.service.authorize,
    metrics,
    version: STEWARD_VERSION,
    ready: async () => {
      await sql.ping();
      await store.ping();
      return { database: sql.dialect, blobs: store.kind };
    },
  });

  const bootstrapToken = await auth.service.bootstrap(config.dataDir);
  await app.listen({ host: config.host, port: config.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  log.info({ url, database: sql.dialect, blobs: store.kind }, 'steward control plane listening');
  jobs.service.start();

  const sweeper = setInterval(() => {
    Promise.all([assets.service.expirePendingVersions(), sql.optimize()])
      .then(([expired]) => expired && log.info({ expired }, 'expired pending versions'))
      .catch((err: unknown) => log.error({ err }, 'sweeper failed'));
  }, config.sweepIntervalSeconds * 1000);
  sweeper.unref();

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      clearInterval(sweeper);
      // Jobs in flight (eval runs) write what they finished and go back to the queue: the next start resumes them.
      await jobs.service.stop();
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

  return { url, app, config, log, bootstrapToken, services: { assets: assets.service, audit: audit.service, prompts: prompts.service, evals: evals.service, gates: evals.gates }, routes, close };
}

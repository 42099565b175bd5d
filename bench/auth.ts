/**
 * What authentication and authorisation add to a read: `GET /api/v1/models/{name}/versions/{v}`
 * served by the real server (token checked) and by a second HTTP app over the very same routes,
 * services and SQLite database whose auth hook admits everyone — same run, same load generator
 * (autocannon in a child process, 16 connections), alternated A/B/A/B so drift hits both.
 * Also times `authenticate` + `authorize` alone, per call (cached token: the steady state).
 * Target: auth adds < 0.2 ms at p50.
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { createAuditService } from '../src/features/audit/audit-service.js';
import { createAuthService } from '../src/features/auth/auth-service.js';
import { systemClock } from '../src/platform/clock.js';
import { loadConfig } from '../src/platform/config.js';
import type { Actor } from '../src/platform/http/http-route.js';
import { createLogger } from '../src/platform/log.js';
import { openDatabase } from '../src/platform/sql/sql-db.js';
import { migrate } from '../src/platform/sql/sql-migrations.js';
import { buildHttpApp } from '../src/server/http-app.js';
import { MIGRATIONS, startServer } from '../src/server/main.js';
import { fmtInt, fmtMs, machineLine, median, printTable, verdict } from './bench-fns.js';
import type { LoadRequest, LoadResult, LoadStarted } from './registry-fns.js';
import { seed, type SeedDb } from './registry-seed.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const catalogue = { models: 200, versions: 10 };

async function main(): Promise<void> {
  console.log('auth overhead benchmark: GET version with and without token checks (same routes, services, database)');
  console.log(machineLine());
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-bench-auth-'));
  const config = loadConfig({ env: {}, flags: { dataDir, port: 0 }, overrides: { logLevel: 'silent' } });
  const db = await openDatabase(config.database);
  await migrate(db, MIGRATIONS);
  await seed(db.db as unknown as SeedDb, 'sqlite', catalogue);

  const server = await startServer({ config });
  const token = server.bootstrapToken!.token;
  const admitted: Actor = { tokenId: null, name: 'bench', role: 'admin', namespaces: null, clientAddress: '127.0.0.1', requestId: '' };
  const open = buildHttpApp({
    logger: createLogger({ level: 'silent' }),
    routes: server.routes,
    authenticate: async () => admitted,
    authorize: () => undefined,
    requestLog: { all: false, slowMs: server.config.slowRequestMs },
    metrics: new Registry(),
    ready: async () => ({}),
    version: 'bench',
  });
  await open.listen({ host: '127.0.0.1', port: 0 });
  const openUrl = `http://127.0.0.1:${(open.server.address() as { port: number }).port}`;

  const loader = fork(path.join(HERE, 'registry-load.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let id = 1;
  const load = (url: string, connections: number) =>
    new Promise<LoadResult>((resolve) => {
      const req: LoadRequest = { id: id++, url, token, scenario: 'get', catalogue, connections, warmupSeconds: 1, seconds: SECONDS };
      // The loader first says when the measured run starts, then sends the result.
      const onMessage = (m: LoadResult | LoadStarted) => {
        if ('started' in m || m.id !== req.id) return;
        loader.off('message', onMessage);
        resolve(m);
      };
      loader.on('message', onMessage);
      loader.send(req);
    });
  // Concurrency 1 shows the latency a request gains; 16 shows throughput (where latency is queueing).
  const runs: Record<1 | 16, { auth: LoadResult[]; open: LoadResult[] }> = { 1: { auth: [], open: [] }, 16: { auth: [], open: [] } };
  for (const c of [1, 16] as const) {
    for (let r = 0; r < ROUNDS; r++) {
      runs[c].auth.push(await load(server.url, c));
      runs[c].open.push(await load(openUrl, c));
    }
  }
  loader.disconnect();

  // The checks alone, through the auth service as the server wires it (a second wiring over the same database).
  const audit = createAuditService({ db: db.db, dialect: db.dialect, clock: systemClock });
  const auth = createAuthService({ db: db.db, dialect: db.dialect, clock: systemClock, log: createLogger({ level: 'silent' }), audit, failuresPerMinute: 20 });
  const header = `Bearer ${token}`;
  const check = async () => auth.authorize(await auth.authenticate(header, '127.0.0.1', 'bench'), 'asset:read');
  for (let i = 0; i < 20_000; i++) await check();
  const N = 200_000;
  const t = performance.now();
  for (let i = 0; i < N; i++) await check();
  const perCallUs = ((performance.now() - t) / N) * 1000;

  const row = (name: string, rs: LoadResult[]) => [
    name,
    fmtInt(median(rs.map((x) => x.rps))),
    fmtMs(median(rs.map((x) => x.p50))),
    fmtMs(median(rs.map((x) => x.p90))),
    fmtMs(median(rs.map((x) => x.p99))),
    rs.map((x) => fmtInt(x.rps)).join(' / '),
    String(rs.reduce((s, x) => s + x.non2xx, 0)),
  ];
  console.log('');
  printTable(['server (connections)', 'req/s', 'p50', 'p90', 'p99', 'rounds (req/s)', 'non-2xx'], [
    row('with auth (1)', runs[1].auth),
    row('baseline: hook admits all (1)', runs[1].open),
    row('with auth (16)', runs[16].auth),
    row('baseline: hook admits all (16)', runs[16].open),
  ]);
  const p50 = (rs: LoadResult[]) => median(rs.map((x) => x.p50));
  const delta1 = p50(runs[1].auth) - p50(runs[1].open);
  const delta16 = p50(runs[16].auth) - p50(runs[16].open);
  console.log('');
  console.log(`  authenticate + authorize alone: ${perCallUs.toFixed(2)} µs per call (${fmtInt(N)} calls, cached token)`);
  console.log(`  p50 added by auth: ${fmtMs(delta1)} at 1 connection; ${fmtMs(delta16)} at 16 (queueing multiplies any per-request cost by ~16)`);
  console.log(`  target: auth adds < 0.2 ms at p50 (1 connection) → ${verdict(delta1 < 0.2)}`);
  await open.close();
  await server.close();
  await db.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

await main();

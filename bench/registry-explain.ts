/**
 * Where a registry read spends its time, below HTTP (`node --import tsx bench/registry-explain.ts`):
 * seeds the same catalogue as bench/registry.ts, then calls the registry service directly for a
 * sample of each scenario's requests and prints, per scenario, the service time (p50/p99), the
 * statements per request, each distinct statement's share of the time, and its plan
 * (SQLite `EXPLAIN QUERY PLAN`, PostgreSQL `EXPLAIN (ANALYZE, BUFFERS)`) for one example.
 *
 * Env: BENCH_MODELS (1000), BENCH_VERSIONS (100), BENCH_BACKENDS (sqlite,postgres),
 * BENCH_ENDPOINTS (get,search,list-models,list-versions), BENCH_SAMPLES (300 requests per
 * scenario), BENCH_PLANS (1: print plans; 0: only timings), STEWARD_TEST_PG_URL.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import type { LogEvent } from 'kysely';
import pg from 'pg';
import { ListAssetsQuery, ListVersionsQuery } from '../src/contracts/assets.js';
import { createAssetsRepo } from '../src/features/assets/assets-repo.js';
import { createAssetsService, type AssetsDeps } from '../src/features/assets/assets-service.js';
import { systemClock } from '../src/platform/clock.js';
import { openDatabase } from '../src/platform/sql/sql-db.js';
import { migrate } from '../src/platform/sql/sql-migrations.js';
import { MIGRATIONS } from '../src/server/main.js';
import { fmtMs, machineLine, percentile, printTable } from './bench-fns.js';
import { pathGenerator, SCENARIOS, type Catalogue } from './registry-fns.js';
import { seed, type SeedDb } from './registry-seed.js';

const PG_URL = process.env.STEWARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const num = (name: string, dflt: number) => (process.env[name] ? Number(process.env[name]) : dflt);
const list = (name: string, dflt: string[]) => (process.env[name] ? process.env[name]!.split(',').map((s) => s.trim()) : dflt);
const catalogue: Catalogue = { models: num('BENCH_MODELS', 1000), versions: num('BENCH_VERSIONS', 100) };
const SAMPLES = num('BENCH_SAMPLES', 300);
const PLANS = num('BENCH_PLANS', 1) === 1;
const BACKENDS = list('BENCH_BACKENDS', ['sqlite', 'postgres']);
const ENDPOINTS = list('BENCH_ENDPOINTS', SCENARIOS.map((s) => s.id));

interface Captured {
  sql: string;
  parameters: readonly unknown[];
  ms: number;
}

/** A query object as Fastify's query-string parser hands it to the route: repeated keys become arrays. */
function queryObject(search: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of search) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

type Service = ReturnType<typeof createAssetsService>;

/** Calls the service as the route handler for `urlPath` would. */
function call(svc: Service, urlPath: string): Promise<unknown> {
  const url = new URL(urlPath, 'http://x');
  const parts = url.pathname.split('/').slice(3).map(decodeURIComponent); // after /api/v1
  const q = queryObject(url.searchParams);
  if (parts.length === 1) return svc.listAssets('model', ListAssetsQuery.parse(q));
  if (parts.length === 3) return svc.listVersions('model', parts[1]!, ListVersionsQuery.parse(q));
  return svc.getVersion('model', parts[1]!, parts[3]!, { files: true });
}

/** A statement's distinguishing part for the table: its filters and order (the select list is the same for a scenario). */
const shape = (s: string) => {
  const flat = s.replace(/\s+/g, ' ');
  const tops = [...flat.matchAll(/ from "(versions|assets)" as "[va]"/g)];
  const i = tops.length ? tops[tops.length - 1]!.index : -1;
  return (i === -1 ? flat : `…${flat.slice(i)}`).replace(/"/g, '');
};

async function explain(backend: string, q: Captured, run: (sql: string, params: readonly unknown[]) => Promise<unknown[]>): Promise<string[]> {
  if (backend === 'sqlite') {
    const rows = (await run(`explain query plan ${q.sql}`, q.parameters)) as { id: number; parent: number; detail: string }[];
    const depth = new Map<number, number>([[0, -1]]);
    return rows.map((r) => {
      const d = (depth.get(r.parent) ?? 0) + 1;
      depth.set(r.id, d);
      return `${'  '.repeat(d)}${r.detail}`;
    });
  }
  const rows = (await run(`explain (analyze, buffers) ${q.sql}`, q.parameters)) as { 'QUERY PLAN': string }[];
  return rows.map((r) => r['QUERY PLAN']);
}

async function runBackend(backend: string): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `steward-explain-${backend}-`));
  const schema = `explain_${randomBytes(6).toString('hex')}`;
  const dbPath = path.join(dataDir, 'steward.db');
  const config = backend === 'sqlite' ? ({ kind: 'sqlite', path: dbPath } as const) : ({ kind: 'postgres', url: PG_URL, schema } as const);
  try {
    const setup = await openDatabase(config);
    const t0 = performance.now();
    await migrate(setup, MIGRATIONS);
    await seed(setup.db as unknown as SeedDb, setup.dialect, catalogue);
    await setup.close();
    console.log(`\n=== ${backend}: seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // Opened as the server opens it (statement cache, PRAGMA optimize, prepared statements), with a query log.
    let captured: Captured[] = [];
    const log = (e: LogEvent) => {
      if (e.level === 'query') captured.push({ sql: e.query.sql, parameters: e.query.parameters, ms: e.queryDurationMillis });
    };
    const opened = await openDatabase(config, { log });
    const db = opened.db;
    const close = () => opened.close();
    // Plans are read on a connection of their own: EXPLAIN must not run inside the measured pool.
    let raw: (sql: string, params: readonly unknown[]) => Promise<unknown[]>;
    let closeRaw: () => Promise<void>;
    if (backend === 'sqlite') {
      const sqlite = new Database(dbPath, { readonly: true });
      raw = async (s, p) => sqlite.prepare(s).all(...(p as unknown[]));
      closeRaw = async () => void sqlite.close();
    } else {
      const pool = new pg.Pool({ connectionString: PG_URL, max: 1, options: `-c search_path=${schema}` });
      raw = async (s, p) => (await pool.query(s, p as unknown[])).rows as unknown[];
      closeRaw = () => pool.end();
    }
    const repo = createAssetsRepo(db, opened.dialect);
    const svc = createAssetsService({
      repo,
      audit: { record: async () => undefined } as unknown as AssetsDeps['audit'],
      uploads: {} as AssetsDeps['uploads'],
      events: { emit: async () => 0 },
      clock: systemClock,
      limits: { maxMetadataBytes: 1 << 20, pendingTtlSeconds: 86400 },
    });

    for (const scenario of SCENARIOS.filter((s) => ENDPOINTS.includes(s.id))) {
      const next = pathGenerator(scenario.id, catalogue);
      for (let i = 0; i < 30; i++) await call(svc, next()); // warm caches and statements
      captured = [];
      const times: number[] = [];
      const byShape = new Map<string, { n: number; ms: number; example: Captured; worst: Captured }>();
      for (let i = 0; i < SAMPLES; i++) {
        const start = captured.length;
        const t = performance.now();
        await call(svc, next());
        times.push(performance.now() - t);
        for (const q of captured.slice(start)) {
          const k = shape(q.sql);
          const s = byShape.get(k);
          if (!s) byShape.set(k, { n: 1, ms: q.ms, example: q, worst: q });
          else {
            s.n++;
            s.ms += q.ms;
            if (q.ms > s.worst.ms) s.worst = q;
          }
        }
      }
      times.sort((a, b) => a - b);
      const stmtTime = captured.reduce((s, q) => s + q.ms, 0);
      const total = times.reduce((s, x) => s + x, 0);
      console.log(
        `\n--- ${backend} ${scenario.title}: service p50 ${fmtMs(percentile(times, 50))}, p99 ${fmtMs(percentile(times, 99))}, ` +
          `${(captured.length / SAMPLES).toFixed(2)} statements/request, ${((100 * stmtTime) / total).toFixed(0)}% of the time in statements`,
      );
      const shapes = [...byShape.entries()].sort((a, b) => b[1].ms - a[1].ms);
      printTable(
        ['statement', 'count', 'mean', 'worst', 'share'],
        shapes.map(([k, s]) => [k.slice(0, 150), s.n, fmtMs(s.ms / s.n), fmtMs(s.worst.ms), `${((100 * s.ms) / stmtTime).toFixed(0)}%`]),
      );
      if (!PLANS) continue;
      for (const [, s] of shapes.slice(0, 6)) {
        console.log(`\n  SQL (worst, ${fmtMs(s.worst.ms)}): ${s.worst.sql.replace(/\s+/g, ' ')}`);
        console.log(`  params: ${JSON.stringify(s.worst.parameters)}`);
        for (const line of await explain(backend, s.worst, raw)) console.log(`    ${line}`);
      }
    }
    await close();
    await closeRaw();
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
    if (backend === 'postgres') {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    }
  }
}

console.log(machineLine());
for (const b of BACKENDS) await runBackend(b);

/**
 * Registry benchmark (`npm run bench:registry`): read latency and throughput of the registry API
 * over a catalogue of 1,000 models × 100 ready versions (100,000 versions, 200,000 files), on
 * SQLite and on PostgreSQL.
 *
 * For each backend the catalogue is written in bulk with Kysely straight into a fresh database
 * (multi-row inserts in one transaction: assets, labels, versions with their typed search
 * columns, files, and the blob index rows the files point at, so every version is consistent),
 * then the real server is started in this process with `startServer` and autocannon — in a
 * child process, so load generation does not share the server's event loop — drives four read
 * endpoints at 16 connections for 10 s each (after a 2 s warm-up), with a random target per
 * request: GET one version, search versions across models, list models by name substring, list
 * one model's versions. Every request carries the admin token; non-2xx answers are counted and
 * a preflight checks each endpoint answers 200 before it is measured. Besides latency and req/s,
 * each run reports the server process's CPU time per request, which other load on a shared
 * machine disturbs far less than it disturbs throughput.
 *
 * Baseline, measured in the same run with the same autocannon settings: a bare node:http server
 * (at the start and again at the end, the faster run is the reference) and a bare Fastify server
 * answering a fixed JSON document, the floor of HTTP on this machine.
 *
 * Env: BENCH_MODELS (1000), BENCH_VERSIONS (100), BENCH_SECONDS (10) scale the run down;
 * BENCH_BACKENDS (sqlite,postgres) and BENCH_ENDPOINTS (get,search,list-models,list-versions) pick a subset;
 * BENCH_PROFILE=<dir> writes a V8 CPU profile of the server over each measured run
 * (`<backend>-<endpoint>.cpuprofile`; open in Chrome DevTools or summarise with any profile reader);
 * STEWARD_TEST_PG_URL (postgres://postgres@127.0.0.1:5432/test) names the PostgreSQL server, in
 * which a private schema is created and dropped. The blob bytes themselves are not written:
 * these endpoints never read them.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import pg from 'pg';
import { loadConfig, type Config } from '../src/platform/config.js';
import { openDatabase } from '../src/platform/sql/sql-db.js';
import { migrate } from '../src/platform/sql/sql-migrations.js';
import { MIGRATIONS, startServer } from '../src/server/main.js';
import { seed, type SeedCounts, type SeedDb } from './registry-seed.js';
import { fmtInt, fmtMs, fmtRatio, fmtSec, machineLine, printTable, verdict } from './bench-fns.js';
import {
  failedResult,
  pathGenerator,
  SCENARIOS,
  type Catalogue,
  type LoadRequest,
  type LoadResult,
  type LoadStarted,
  type Scenario,
} from './registry-fns.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PG_URL = process.env.STEWARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CONNECTIONS = 16;
/** Server CPU per request in microseconds; "-" when not measured. */
const fmtCpu = (ms: number | undefined) => (ms === undefined ? '-' : `${Math.round(ms * 1000)} µs`);
const WARMUP_SECONDS = 2;

function envInt(name: string, dflt: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? dflt : Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`${name} must be a positive integer, got ${raw}`);
    process.exit(2);
  }
  return n;
}

function envList<T extends string>(name: string, all: readonly T[]): T[] {
  const raw = process.env[name];
  if (!raw) return [...all];
  const want = raw.split(',').map((s) => s.trim());
  const bad = want.filter((w) => !all.includes(w as T));
  if (bad.length) {
    console.error(`${name}: unknown ${bad.join(', ')}; choose from ${all.join(', ')}`);
    process.exit(2);
  }
  return want as T[];
}

const catalogue: Catalogue = { models: envInt('BENCH_MODELS', 1000), versions: envInt('BENCH_VERSIONS', 100) };
const SECONDS = envInt('BENCH_SECONDS', 10);
const BACKENDS = envList('BENCH_BACKENDS', ['sqlite', 'postgres'] as const);
const ENDPOINTS = envList('BENCH_ENDPOINTS', SCENARIOS.map((s) => s.id));
const PROFILE_DIR = process.env.BENCH_PROFILE || null;

// --- cleanup ------------------------------------------------------------------------------------

const cleanups: (() => Promise<void>)[] = [];
async function cleanupAll(): Promise<void> {
  while (cleanups.length) {
    const c = cleanups.pop()!;
    await c().catch((err: unknown) => console.error(`cleanup failed: ${err instanceof Error ? err.message : String(err)}`));
  }
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    console.error(`\n${sig}: cleaning up`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

// --- the load generator child ---------------------------------------------------------------------

let loader: ChildProcess | null = null;
let nextId = 1;
const pending = new Map<number, (r: LoadResult) => void>();
const cpuAtStart = new Map<number, NodeJS.CpuUsage>();
/** Where to write the CPU profile of a measured run (BENCH_PROFILE), by request id. */
const profileTo = new Map<number, string>();
let profiler: Session | null = null;

async function startProfile(): Promise<void> {
  if (!profiler) {
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.setSamplingInterval', { interval: 100 });
  }
  await profiler.post('Profiler.start');
}

async function stopProfile(file: string): Promise<void> {
  const { profile } = await profiler!.post('Profiler.stop');
  fs.writeFileSync(file, JSON.stringify(profile));
}

function startLoader(): void {
  loader = fork(path.join(HERE, 'registry-load.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  loader.on('message', (msg: LoadResult | LoadStarted) => {
    if ('started' in msg) {
      cpuAtStart.set(msg.id, process.cpuUsage());
      if (profileTo.has(msg.id)) void startProfile();
      return;
    }
    // This process is the server under test (the load generator is the child): its CPU time
    // over the measured run, per request, is the cost of a request here.
    const start = cpuAtStart.get(msg.id);
    cpuAtStart.delete(msg.id);
    if (start && msg.requests > 0) {
      const used = process.cpuUsage(start);
      msg.cpuPerRequestMs = (used.user + used.system) / 1000 / msg.requests;
    }
    const file = profileTo.get(msg.id);
    profileTo.delete(msg.id);
    const done = pending.get(msg.id);
    pending.delete(msg.id);
    if (file) void stopProfile(file).then(() => done?.(msg));
    else done?.(msg);
  });
  loader.on('exit', (code) => {
    for (const [id, done] of pending) done(failedResult(id, `load generator exited ${code}`));
    pending.clear();
  });
  cleanups.push(async () => {
    loader?.disconnect();
  });
}

function load(url: string, token: string, scenario: Scenario, profileName?: string): Promise<LoadResult> {
  const req: LoadRequest = { id: nextId++, url, token, scenario, catalogue, connections: CONNECTIONS, warmupSeconds: WARMUP_SECONDS, seconds: SECONDS };
  if (PROFILE_DIR && profileName) {
    fs.mkdirSync(PROFILE_DIR, { recursive: true });
    profileTo.set(req.id, path.join(PROFILE_DIR, `${profileName}.cpuprofile`));
  }
  return new Promise((resolve) => {
    pending.set(req.id, resolve);
    loader!.send(req);
  });
}

// --- baselines ----------------------------------------------------------------------------------

/** A fixed document about the size of one version as the API renders it. */
const FIXED = JSON.stringify({
  kind: 'model',
  name: 'org3/model-42',
  version: '1.2.3',
  state: 'ready',
  digest: `sha256:${'0'.repeat(64)}`,
  size: 16000001066,
  fileCount: 2,
  files: [
    { path: 'config.json', size: 1066, sha256: 'a'.repeat(64) },
    { path: 'model.safetensors', size: 16000000000, sha256: 'b'.repeat(64) },
  ],
  metadata: { architecture: 'llama', framework: 'pytorch', parameters: 8000000000, accuracy_score: 0.8123, precision: 'bf16' },
  labels: { team: 'nlp', stage: 'prod' },
  card: null,
  lineage: [],
  aliases: [],
  createdAt: '2025-01-01T00:00:00.000Z',
  createdBy: 'bench',
  readyAt: '2025-01-01T00:00:00.000Z',
  expiresAt: null,
  updatedAt: '2025-01-01T00:00:00.000Z',
});

async function nodeHttpFloor(): Promise<{ url: string; close(): Promise<void> }> {
  const srv = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(FIXED) });
    res.end(FIXED);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = srv.address();
  return { url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, close: () => new Promise((r) => srv.close(() => r())) };
}

async function fastifyFloor(): Promise<{ url: string; close(): Promise<void> }> {
  const app = Fastify({ logger: false });
  const doc = JSON.parse(FIXED) as unknown;
  app.get('/', async () => doc);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, close: () => app.close() };
}

// --- one backend ------------------------------------------------------------------------------------

type Backend = 'sqlite' | 'postgres';

interface BackendRun {
  backend: Backend;
  seedMs: number;
  counts: SeedCounts;
  results: { scenario: (typeof SCENARIOS)[number]; res: LoadResult; itemsPerResponse: number | null }[];
}

async function pgReachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await c.end();
  }
}

/** Fetches a sample of the scenario's requests: every one must be 200, or the run would measure errors. */
async function preflight(url: string, token: string, scenario: Scenario, n = 50): Promise<number | null> {
  const next = pathGenerator(scenario, catalogue);
  let items = 0;
  let lists = 0;
  for (let k = 0; k < n; k++) {
    const p = next();
    const res = await fetch(`${url}${p}`, { headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`preflight ${scenario}: GET ${p} answered ${res.status}: ${text.slice(0, 300)}`);
    const body = JSON.parse(text) as { items?: unknown[] };
    if (Array.isArray(body.items)) {
      items += body.items.length;
      lists++;
    }
  }
  return lists ? items / lists : null;
}

async function runBackend(backend: Backend): Promise<BackendRun> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `steward-bench-registry-${backend}-`));
  cleanups.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
  let config: Config;
  if (backend === 'sqlite') {
    config = loadConfig({ env: {}, flags: { dataDir, port: 0 }, overrides: { logLevel: 'silent' } });
  } else {
    const schema = `bench_${randomBytes(6).toString('hex')}`;
    cleanups.push(() => dropSchema(schema));
    config = loadConfig({ env: {}, flags: { dataDir, port: 0 }, overrides: { logLevel: 'silent', database: { kind: 'postgres', url: PG_URL, schema } } });
  }

  const db = await openDatabase(config.database);
  let counts: SeedCounts;
  const t0 = performance.now();
  try {
    await migrate(db, MIGRATIONS);
    counts = await seed(db.db as unknown as SeedDb, db.dialect, catalogue);
  } finally {
    await db.close();
  }
  const seedMs = performance.now() - t0;
  console.log(`  ${backend}: seeded ${fmtInt(counts.versions)} versions in ${fmtSec(seedMs)}`);

  const server = await startServer({ config });
  cleanups.push(() => server.close());
  const token = server.bootstrapToken?.token;
  if (!token) throw new Error('a fresh database must bootstrap an admin token');
  const results: BackendRun['results'] = [];
  for (const scenario of SCENARIOS.filter((s) => ENDPOINTS.includes(s.id))) {
    const itemsPerResponse = await preflight(server.url, token, scenario.id);
    const res = await load(server.url, token, scenario.id, `${backend}-${scenario.id}`);
    if (res.error) throw new Error(`${backend} ${scenario.id}: ${res.error}`);
    console.log(`  ${backend}: ${scenario.title.padEnd(16)} ${fmtInt(res.rps).padStart(6)} req/s, p99 ${fmtMs(res.p99)}, server CPU ${fmtCpu(res.cpuPerRequestMs)}/request`);
    results.push({ scenario, res, itemsPerResponse });
  }
  await server.close();
  cleanups.pop();
  return { backend, seedMs, counts, results };
}

// --- the run ----------------------------------------------------------------------------------------

async function main(): Promise<void> {
  console.log('Steward registry benchmark: read endpoints over a seeded catalogue vs a bare HTTP server (same run, same load)');
  console.log(machineLine());
  console.log(
    `catalogue: ${fmtInt(catalogue.models)} models × ${fmtInt(catalogue.versions)} versions = ${fmtInt(catalogue.models * catalogue.versions)} ready versions; ` +
      `load: autocannon, ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s per endpoint, random target per request\n`,
  );
  startLoader();

  const floors: { name: string; res: LoadResult }[] = [];
  const measureFloor = async (name: string, start: () => Promise<{ url: string; close(): Promise<void> }>) => {
    const srv = await start();
    const res = await load(srv.url, 'none', 'floor');
    await srv.close();
    if (res.error) throw new Error(`${name}: ${res.error}`);
    console.log(`  floor ${name}: ${fmtInt(res.rps)} req/s, p99 ${fmtMs(res.p99)}, server CPU ${fmtCpu(res.cpuPerRequestMs)}/request`);
    floors.push({ name, res });
  };
  await measureFloor('node:http, fixed JSON', nodeHttpFloor);
  await measureFloor('fastify, fixed JSON', fastifyFloor);

  const runs: BackendRun[] = [];
  if (BACKENDS.includes('sqlite')) runs.push(await runBackend('sqlite'));
  if (BACKENDS.includes('postgres')) {
    if (await pgReachable()) runs.push(await runBackend('postgres'));
    else console.log(`  postgres: not reachable at ${PG_URL}; skipped`);
  }

  // Again at the end: on a shared 2-core machine the floor drifts; the faster node:http run is the reference.
  await measureFloor('node:http, fixed JSON (end of run)', nodeHttpFloor);
  const floor = [floors[0]!.res, floors[2]!.res].sort((a, b) => b.rps - a.rps)[0]!;

  console.log('\nSeeding (bulk multi-row inserts in one transaction, before the server starts)');
  printTable(
    ['backend', 'time', 'versions', 'files', 'version labels', 'blob rows', 'versions/s'],
    runs.map((r) => [r.backend, fmtSec(r.seedMs), fmtInt(r.counts.versions), fmtInt(r.counts.files), fmtInt(r.counts.versionLabels), fmtInt(r.counts.blobs), fmtInt(r.counts.versions / (r.seedMs / 1000))]),
  );

  console.log(`\nLatency and throughput (${CONNECTIONS} connections, ${SECONDS} s each; latency of 2xx answers, exact percentiles)`);
  const rows = [
    ...floors.map((f) => [`baseline: ${f.name}`, fmtInt(f.res.rps), fmtMs(f.res.p50), fmtMs(f.res.p90), fmtMs(f.res.p99), fmtMs(f.res.max), fmtCpu(f.res.cpuPerRequestMs), fmtInt(f.res.non2xx), fmtInt(f.res.errors), '-', '-', '-', fmtRatio(f.res.rps / floor.rps), fmtRatio(f.res.p99 / floor.p99)]),
    ...runs.flatMap((r) =>
      r.results.map(({ scenario, res, itemsPerResponse }) => [
        `${r.backend}: ${scenario.title}`,
        fmtInt(res.rps),
        fmtMs(res.p50),
        fmtMs(res.p90),
        fmtMs(res.p99),
        fmtMs(res.max),
        fmtCpu(res.cpuPerRequestMs),
        fmtInt(res.non2xx),
        fmtInt(res.errors),
        itemsPerResponse === null ? '1 doc' : itemsPerResponse.toFixed(1),
        `< ${scenario.targetP99Ms} ms`,
        verdict(res.p99 < scenario.targetP99Ms && res.non2xx === 0 && res.errors === 0),
        fmtRatio(res.rps / floor.rps),
        fmtRatio(res.p99 / floor.p99),
      ]),
    ),
  ];
  printTable(['endpoint', 'req/s', 'p50', 'p90', 'p99', 'max', 'cpu/req', 'non-2xx', 'errors', 'items/resp', 'p99 target', 'result', 'req/s vs floor', 'p99 vs floor'], rows);
  console.log(
    `\n  floor = the faster of the two bare node:http runs answering a fixed ${Buffer.byteLength(FIXED)}-byte JSON document; ` +
      '"items/resp" = mean items per page in a 50-request preflight sample; "cpu/req" = CPU time of the server process ' +
      '(user + system) per measured request, steadier than req/s on a shared machine (PostgreSQL\'s own backends not included).',
  );
  for (const r of runs) {
    for (const { scenario, res } of r.results) {
      const odd = Object.entries(res.statuses).filter(([code]) => !code.startsWith('2'));
      if (odd.length) console.log(`  ${r.backend} ${scenario.title}: non-2xx statuses ${odd.map(([c, n]) => `${c}×${n}`).join(', ')}`);
    }
  }
  for (const s of SCENARIOS.filter((x) => ENDPOINTS.includes(x.id))) console.log(`  ${s.title}: ${s.example}`);
}

main()
  .then(async () => {
    await cleanupAll();
    process.exit(0);
  })
  .catch(async (err: unknown) => {
    console.error(`bench:registry failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await cleanupAll();
    process.exit(1);
  });

/**
 * Evaluation runner overhead: how many cases per second a run gets through, end to end, against
 * an upstream that costs nothing (the fake OpenAI-compatible server in its own process), at
 * concurrency 64 with exact-match scoring. End to end = from `POST /evals/runs` to the run's
 * `succeeded` state: reading the suite, requests, scoring, batched result writes, the final
 * aggregate with 1,000 bootstrap resamples. Target: ≥ 2,000 cases/s.
 *
 * Baseline in the same run: a bare undici pool sending the same requests at the same
 * concurrency from this process (no scoring, no storage) — the ceiling the fake and the loopback
 * allow on this machine. The server runs in this process, like `steward up`.
 *
 * BENCH_CASES (20000), BENCH_BACKENDS (sqlite,postgres). Figures only; nothing here asserts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { Pool } from 'undici';
import { loadConfig, type Config } from '../src/platform/config.js';
import { startServer } from '../src/server/main.js';
import { StewardClient } from '../src/sdk/client.js';
import { EvalsClient } from '../src/sdk/evals-client.js';
import { startFake, fmtInt, machineLine, printTable, verdict } from './bench-fns.js';

const CASES = Number(process.env.BENCH_CASES ?? 20_000);
const CONCURRENCY = 64;
const BACKENDS = (process.env.BENCH_BACKENDS ?? 'sqlite,postgres').split(',');
const PG_URL = process.env.STEWARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const TARGET = 2000;

const caseInput = (i: number) => `Question ${i}: what is the capital of country ${i % 197}? ANSWER: City ${i % 197}`;

function casesJsonl(): string {
  const lines: string[] = [];
  for (let i = 0; i < CASES; i++) lines.push(JSON.stringify({ id: `c${i}`, input: caseInput(i), expected: i % 10 === 0 ? 'wrong on purpose' : `City ${i % 197}` }));
  return `${lines.join('\n')}\n`;
}

/** The ceiling: the same requests from a bare undici pool, no scoring and no storage. */
async function baseline(url: string): Promise<number> {
  const u = new URL(`${url}/chat/completions`);
  const pool = new Pool(u.origin, { connections: CONCURRENCY, pipelining: 1 });
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < CASES) {
        const i = next++;
        const res = await pool.request({
          path: u.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: caseInput(i) }], temperature: 0 }),
        });
        await res.body.json();
      }
    }),
  );
  const ms = performance.now() - t0;
  await pool.close();
  return (CASES / ms) * 1000;
}

async function runBackend(backend: string, fakeUrl: string, cases: string): Promise<{ e2e: number; runner: number; ms: number; em: number | null }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-bench-eval-'));
  const schema = `bench_eval_${process.pid}`;
  const overrides: Partial<Config> = { logLevel: 'warn' };
  if (backend === 'postgres') Object.assign(overrides, { database: { kind: 'postgres', url: PG_URL, schema } });
  const server = await startServer({ config: loadConfig({ env: {}, flags: { dataDir, port: 0 }, overrides }) });
  try {
    const client = new StewardClient({ url: server.url, token: server.bootstrapToken!.token });
    const evals = new EvalsClient(client);
    await client.createAsset('model', { name: 'bench/model' });
    const cfg = Buffer.from('{"arch":"bench"}');
    const { createHash } = await import('node:crypto');
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const mv = await client.createVersion('model', 'bench/model', { version: '1.0.0', files: [{ path: 'config.json', size: cfg.length, sha256: sha(cfg) }] });
    for (const s of mv.missing) await client.raw('PUT', `/api/v1/blobs/${s}`, { body: new Uint8Array(cfg) });
    await client.finalizeVersion('model', 'bench/model', '1.0.0');
    const bytes = Buffer.from(cases);
    await client.createAsset('dataset', { name: 'bench/suite' });
    const sv = await client.createVersion('dataset', 'bench/suite', { version: '1.0.0', files: [{ path: 'cases.jsonl', size: bytes.length, sha256: sha(bytes) }], metadata: { evalSuite: { metrics: [{ metric: 'exact_match' }] } } });
    for (const s of sv.missing) await client.raw('PUT', `/api/v1/blobs/${s}`, { body: new Uint8Array(bytes) });
    await client.finalizeVersion('dataset', 'bench/suite', '1.0.0');

    const t0 = performance.now();
    const run = await evals.startRun({ suite: 'bench/suite:1.0.0', model: 'bench/model:1.0.0', endpoint: { url: fakeUrl }, concurrency: CONCURRENCY, retries: 0 });
    const done = await evals.wait(run.id, { intervalMs: 50 });
    const ms = performance.now() - t0;
    if (done.state !== 'succeeded') throw new Error(`run ${done.state}: ${done.error}`);
    return { e2e: (CASES / ms) * 1000, runner: done.summary!.casesPerSecond, ms, em: done.summary!.metrics[0]!.value };
  } finally {
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
    if (backend === 'postgres') {
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    }
  }
}

async function main() {
  console.log(machineLine());
  console.log(`evaluation runner: ${fmtInt(CASES)} cases, exact_match, concurrency ${CONCURRENCY}, fake upstream in its own process\n`);
  const fake = await startFake();
  const cases = casesJsonl();
  try {
    // Warm the fake (JIT) so neither side of the comparison pays for it.
    await baseline(fake.url);
    const base = await baseline(fake.url);
    const rows: (string | number)[][] = [['bare undici pool (baseline: no scoring, no storage)', fmtInt(base), '-', '-', '-']];
    for (const b of BACKENDS) {
      const r = await runBackend(b, fake.url, cases);
      rows.push([`steward eval run on ${b}`, fmtInt(r.e2e), fmtInt(r.runner), `${(r.ms / 1000).toFixed(2)} s`, `${verdict(r.e2e >= TARGET)} (≥ ${fmtInt(TARGET)})`]);
      if (r.em !== 0.9) console.warn(`warning: exact_match ${r.em}, expected 0.9`);
    }
    printTable(['path', 'cases/s end to end', 'cases/s in runner', 'wall time', 'target'], rows);
  } finally {
    fake.child.kill('SIGTERM');
  }
}

await main();

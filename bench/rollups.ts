/**
 * Usage ingestion with monitoring rollups on SQLite: N batches of 1,000 synthetic records (a
 * busy gateway's one-second flush: 6 models × 2 versions × 2 environments × 4 keys, statuses
 * with errors, streamed TTFTs) through the gateway's real ingest path (`ingest(batch)`: batch
 * claim, raw rows, key spend, and the rollup listener in the same transaction). Baseline in the
 * same run: the same ingestion into another database with no listener (the raw insert alone).
 * Also times, batch by batch beside them, the parts of the raw path (records → rows, the INSERT
 * alone into a third database) and the in-memory fold (`rollUp`) alone: where the time goes.
 * Target: 50,000 records/s with rollups. The HTTP layer (JSON parse, zod) is not included.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { UsageBatch, UsageRecord } from '../src/contracts/gateway.js';
import { gatewayMigrations } from '../src/features/gateway/gateway-migrations.js';
import { createGatewayRepo } from '../src/features/gateway/gateway-repo.js';
import { createUsageService } from '../src/features/gateway/gateway-usage-service.js';
import { canonicalTime, usageRow } from '../src/features/gateway/gateway-fns.js';
import { rollUp } from '../src/features/monitoring/monitoring-fns.js';
import { monitoringMigrations } from '../src/features/monitoring/monitoring-migrations.js';
import { createMonitoringRepo } from '../src/features/monitoring/monitoring-repo.js';
import { createMonitoringService } from '../src/features/monitoring/monitoring-service.js';
import { systemClock } from '../src/platform/clock.js';
import { openDatabase, type SqlDatabase } from '../src/platform/sql/sql-db.js';
import { migrate } from '../src/platform/sql/sql-migrations.js';
import { machineLine, median, printTable } from './bench-fns.js';

const BATCHES = Number(process.env.BENCH_ROLLUP_BATCHES ?? 200);
const SIZE = 1000;
const ROUNDS = Number(process.env.BENCH_ROLLUP_ROUNDS ?? 3);
const START = Date.parse('2026-06-01T00:00:00Z');

function batchOf(n: number): UsageBatch {
  const records: UsageRecord[] = [];
  for (let i = 0; i < SIZE; i++) {
    const m = (n * SIZE + i) % 6;
    const status = i % 50 === 0 ? 502 : i % 97 === 0 ? 429 : 200;
    records.push({
      upstreamErrors: 0,
      // One second of traffic per batch, as a gateway flushes.
      at: new Date(START + n * 1000 + i).toISOString(),
      keyId: `key_${i % 4}`,
      namespace: 'acme',
      model: `acme/model-${m}`,
      version: i % 10 === 0 ? '2.0.0' : '1.0.0',
      deployment: `dep_${m}_${i % 2}`,
      environment: i % 2 ? 'production' : 'staging',
      endpoint: 'chat',
      status,
      stream: i % 3 === 0,
      shadow: false,
      cached: false,
      latencyMs: 50 + ((i * 37) % 3000),
      ttftMs: i % 3 === 0 ? 20 + ((i * 13) % 400) : null,
      inputTokens: 20 + ((i * 31) % 4000),
      outputTokens: (i * 7) % 600,
      costUsd: 0.00001 * (i % 13),
      requestId: `req-${n}-${i}`,
      ...(i % 3 === 0 ? {} : { refusal: i % 211 === 0 }),
    });
  }
  return { gateway: 'gw-bench', batch: n, records };
}

async function fresh(dir: string, name: string): Promise<SqlDatabase> {
  const sql = await openDatabase({ kind: 'sqlite', path: path.join(dir, `${name}.db`) });
  await migrate(sql, [...gatewayMigrations, ...monitoringMigrations]);
  return sql;
}

async function main(): Promise<void> {
  console.log(`rollup ingestion benchmark: ${BATCHES} batches of ${SIZE} records on SQLite, ${ROUNDS} rounds (median)`);
  console.log(machineLine());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-bench-rollups-'));
  const rawDb = await fresh(dir, 'raw');
  const rollDb = await fresh(dir, 'rollups');
  // No key of the bench has a budget, so no budget event is emitted: events are not wired here.
  const events = { emit: async () => undefined } as unknown as Parameters<typeof createUsageService>[0]['events'];
  const raw = createUsageService({ repo: createGatewayRepo(rawDb.db), clock: systemClock, events });
  const withRollups = createUsageService({ repo: createGatewayRepo(rollDb.db), clock: systemClock, events });
  const monitoring = createMonitoringService({
    repo: createMonitoringRepo(rollDb.db, rollDb.dialect),
    clock: systemClock,
    settings: { minuteRetentionSeconds: 7 * 86400, hourRetentionSeconds: 90 * 86400, usageRetentionSeconds: 7 * 86400 },
    pruneUsage: async () => 0,
  });
  withRollups.onUsageIngested(monitoring.ingest);

  const all = Array.from({ length: BATCHES * ROUNDS + 10 }, (_, n) => batchOf(n));
  // Warm-up: JIT, statement caches, the first pages of each table.
  for (const b of all.slice(0, 10)) {
    await raw.ingest(b);
    await withRollups.ingest(b);
  }
  // The raw INSERT alone goes to a third database, so the other two grow alike.
  const insertDb = await fresh(dir, 'insert');
  const insertRepo = createGatewayRepo(insertDb.db);
  const rawRates: number[] = [];
  const rollRates: number[] = [];
  const foldRates: number[] = [];
  const rowRates: number[] = [];
  const insertRates: number[] = [];
  const rate = (ms: number) => (BATCHES * SIZE) / (ms / 1000);
  let rollupRows = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const batches = all.slice(10 + r * BATCHES, 10 + (r + 1) * BATCHES);
    const ms = { raw: 0, roll: 0, rows: 0, insert: 0, fold: 0 };
    // Batch by batch, each path in turn: the machine's load (shared) hits every path alike.
    for (const b of batches) {
      let t0 = performance.now();
      await raw.ingest(b);
      ms.raw += performance.now() - t0;
      t0 = performance.now();
      await withRollups.ingest(b);
      ms.roll += performance.now() - t0;
      // Where the raw path's time goes: records → rows (times canonicalised), then the INSERT alone.
      t0 = performance.now();
      const rows = b.records.map((rec, i) => usageRow(b.gateway, b.batch, i, canonicalTime(rec.at)!, rec));
      ms.rows += performance.now() - t0;
      t0 = performance.now();
      await insertRepo.transaction((tx) => tx.insertUsage(rows));
      ms.insert += performance.now() - t0;
      t0 = performance.now();
      rollupRows += rollUp(rows, 60).length;
      ms.fold += performance.now() - t0;
    }
    rawRates.push(rate(ms.raw));
    rollRates.push(rate(ms.roll));
    rowRates.push(rate(ms.rows));
    insertRates.push(rate(ms.insert));
    foldRates.push(rate(ms.fold));
  }
  console.log(`  rollup rows per batch: ${(rollupRows / (BATCHES * ROUNDS)).toFixed(1)}`);
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  const rawR = median(rawRates);
  const rollR = median(rollRates);
  printTable(
    ['path', 'records/s', 'vs raw'],
    [
      ['raw insert (baseline: ingest, no listener)', fmt(rawR), '1.00'],
      ['ingest with rollups (same transaction)', fmt(rollR), (rollR / rawR).toFixed(2)],
      ['  of which: records → rows (canonical times)', fmt(median(rowRates)), (median(rowRates) / rawR).toFixed(2)],
      ['  of which: the raw INSERT alone (500-row statements)', fmt(median(insertRates)), (median(insertRates) / rawR).toFixed(2)],
      ['rollUp alone (in-memory fold)', fmt(median(foldRates)), (median(foldRates) / rawR).toFixed(2)],
    ],
  );
  console.log(`target ≥ 50,000 records/s with rollups: ${rollR >= 50_000 ? 'met' : 'NOT met'}${rawR < 50_000 ? ' (the raw insert alone is below it)' : ''}`);
  await rawDb.close();
  await rollDb.close();
  await insertDb.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

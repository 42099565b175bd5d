/**
 * Audit verification speed: seeds N hash-chained events (default 1,000,000) into a fresh
 * SQLite database exactly as the audit service writes them, then times `verify()` — the
 * recomputation of every hash in sequence order — against a baseline in the same run: hashing
 * the same serialized events with node:crypto alone, no database. Also times N appends through
 * the service's own `record` (the per-mutation cost), on a smaller sample.
 * Target: verify 1,000,000 events in under 30 s on SQLite.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { digestOf, eventHash, GENESIS } from '../src/features/audit/audit-fns.js';
import { auditMigrations } from '../src/features/audit/audit-migrations.js';
import { createAuditService, SYSTEM_ACTOR } from '../src/features/audit/audit-service.js';
import { systemClock } from '../src/platform/clock.js';
import { openDatabase, type AnyDb } from '../src/platform/sql/sql-db.js';
import { migrate } from '../src/platform/sql/sql-migrations.js';
import { fmtInt, fmtMs, fmtSec, machineLine, printTable, verdict } from './bench-fns.js';

const N = Number(process.env.BENCH_AUDIT_EVENTS ?? 1_000_000);
const APPENDS = Number(process.env.BENCH_AUDIT_APPENDS ?? 5_000);

interface Row {
  seq: number; at: string; actor: string; token_id: string | null; action: string; target: string; request_id: string | null;
  client_address: string | null; change_digest: string; change: string; prev_hash: string; hash: string;
}

async function main(): Promise<void> {
  console.log(`audit benchmark: verify ${fmtInt(N)} events on SQLite`);
  console.log(machineLine());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-bench-audit-'));
  const sql = await openDatabase({ kind: 'sqlite', path: path.join(dir, 'steward.db') });
  await migrate(sql, auditMigrations);
  const db = sql.db as unknown as Kysely<{ audit_events: Row; audit_head: { id: number; seq: number; hash: string } }>;

  // Seed: events shaped like real ones (a version create with a digest and a few fields).
  const t0 = performance.now();
  let prev = GENESIS;
  const base = Date.parse('2026-01-01T00:00:00Z');
  const BATCH = 2000; // 12 columns × 2000 rows stays under SQLite's 32,766 bound parameters
  for (let start = 1; start <= N; start += BATCH) {
    const rows: Row[] = [];
    for (let seq = start; seq < start + BATCH && seq <= N; seq++) {
      const change = { digest: `sha256:${seq.toString(16).padStart(64, '0')}`, size: seq * 1000, files: 3, labels: { team: 'nlp' } };
      const fields = {
        seq, at: new Date(base + seq * 1000).toISOString(), actor: `user-${seq % 50}`, tokenId: null, action: 'model.version.create',
        target: `model:org-${seq % 100}/model-${seq % 1000}@1.0.${seq}`, requestId: `req-${seq}`, clientAddress: '10.0.0.1', changeDigest: digestOf(change), prevHash: prev,
      };
      const hash = eventHash(fields);
      rows.push({ seq, at: fields.at, actor: fields.actor, token_id: null, action: fields.action, target: fields.target, request_id: fields.requestId, client_address: fields.clientAddress, change_digest: fields.changeDigest, change: JSON.stringify(change), prev_hash: prev, hash });
      prev = hash;
    }
    await db.transaction().execute((trx) => trx.insertInto('audit_events').values(rows).execute());
    if ((start - 1) % 200_000 === 0 && start > 1) process.stdout.write(`  seeded ${fmtInt(start - 1)}\n`);
  }
  await db.insertInto('audit_head').values({ id: 1, seq: N, hash: prev }).execute();
  const seedMs = performance.now() - t0;
  const dbBytes = fs.statSync(path.join(dir, 'steward.db')).size + (fs.existsSync(path.join(dir, 'steward.db-wal')) ? fs.statSync(path.join(dir, 'steward.db-wal')).size : 0);

  const audit = createAuditService({ db: sql.db, dialect: 'sqlite', clock: systemClock });

  // Baseline: the hashing alone, over already-serialised events, no database and no parsing.
  const sample = JSON.stringify([1, '2026-01-01T00:00:01.000Z', 'user-1', null, 'model.version.create', 'model:org-1/model-1@1.0.1', 'req-1', '10.0.0.1', 'a'.repeat(64), 'b'.repeat(64)]);
  const change = JSON.stringify({ digest: `sha256:${'0'.repeat(64)}`, size: 1000, files: 3, labels: { team: 'nlp' } });
  const tb = performance.now();
  for (let i = 0; i < N; i++) {
    createHash('sha256').update(sample).digest('hex');
    createHash('sha256').update(change).digest('hex');
  }
  const baselineMs = performance.now() - tb;

  const tv = performance.now();
  const result = await audit.verify();
  const verifyMs = performance.now() - tv;

  // Appends through the service: the cost one audited mutation pays.
  const ta = performance.now();
  for (let i = 0; i < APPENDS; i++) {
    await sql.db.transaction().execute((trx) => audit.record(trx as unknown as AnyDb, SYSTEM_ACTOR, { action: 'bench.append', target: `bench:${i}`, change: { i } }));
  }
  const appendMs = performance.now() - ta;
  const after = await audit.verify();

  console.log('');
  printTable(
    ['measure', 'value', 'note'],
    [
      ['seed events (bulk insert)', fmtSec(seedMs), `${fmtInt(N / (seedMs / 1000))} events/s, db ${(dbBytes / 1e6).toFixed(0)} MB`],
      ['baseline: 2 sha256 per event, no DB', fmtSec(baselineMs), `${fmtInt(N / (baselineMs / 1000))} events/s`],
      ['verify() on SQLite', fmtSec(verifyMs), `${fmtInt(N / (verifyMs / 1000))} events/s, ok=${result.ok}, events=${fmtInt(result.events)}`],
      ['verify / baseline', `${(verifyMs / baselineMs).toFixed(2)}×`, 'the rest is reading rows and parsing the change JSON'],
      [`append via record() ×${fmtInt(APPENDS)}`, fmtMs(appendMs / APPENDS), `per event, own transaction each; chain still ok=${after.ok}`],
    ],
  );
  console.log('');
  console.log(`target: verify ${fmtInt(N)} events < 30 s on SQLite: ${fmtSec(verifyMs)} → ${N >= 1_000_000 ? verdict(verifyMs < 30_000) : 'n/a (smaller run)'}`);
  await sql.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

await main();

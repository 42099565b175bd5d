/**
 * The SQLite adapter's two guards against recompiling cached statements: no `sqlite_stat4`
 * samples after ANALYZE (their presence makes value-sensitive statements recompile on every
 * run), and `LIMIT ?` written into the text (binding a LIMIT expires the plan). Both must keep
 * results the same.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type SqlDatabase } from './sql-db.js';

let dir: string;
let db: SqlDatabase | null = null;
const file = () => path.join(dir, 'db.sqlite');

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-sql-db-'));
});
afterEach(async () => {
  await db?.close();
  db = null;
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A table big enough for ANALYZE to sample, with a skewed column. */
function seed(): void {
  const raw = new Database(file());
  raw.exec('create table t (id integer primary key, kind text not null, n integer not null); create index t_kind on t (kind, n)');
  const insert = raw.prepare('insert into t (kind, n) values (?, ?)');
  raw.transaction(() => {
    for (let i = 0; i < 3000; i++) insert.run(i % 100 === 0 ? 'rare' : 'common', i);
  })();
  raw.close();
}

describe('sqlite adapter', () => {
  it('drops sqlite_stat4 samples after ANALYZE and keeps sqlite_stat1', async () => {
    seed();
    db = await openDatabase({ kind: 'sqlite', path: file() });
    // A first start on an unanalysed database runs ANALYZE (PRAGMA optimize); run it again for certain.
    await sql`analyze`.execute(db.db);
    await db.optimize();
    const stat1 = await sql<{ n: number }>`select count(*) as n from sqlite_stat1`.execute(db.db);
    expect(stat1.rows[0]!.n).toBeGreaterThan(0);
    const stat4 = await sql<{ n: number }>`select count(*) as n from sqlite_stat4`.execute(db.db);
    expect(stat4.rows[0]!.n).toBe(0);
  });

  it('answers LIMIT ? queries with the bound limit, whatever it is', async () => {
    seed();
    db = await openDatabase({ kind: 'sqlite', path: file() });
    const k = db.db as unknown as import('kysely').Kysely<{ t: { id: number; kind: string; n: number } }>;
    const page = (limit: number) => k.selectFrom('t').select('n').where('kind', '=', 'rare').orderBy('n', 'desc').limit(limit).execute();
    expect(k.selectFrom('t').select('n').limit(3).compile().sql).toMatch(/limit \?$/);
    expect((await page(3)).map((r) => r.n)).toEqual([2900, 2800, 2700]);
    expect((await page(1)).map((r) => r.n)).toEqual([2900]);
    expect((await page(3)).map((r) => r.n)).toEqual([2900, 2800, 2700]);
    expect(await page(0)).toEqual([]);
    // LIMIT and OFFSET: the limit is not the last parameter, nothing is rewritten.
    const offset = await k.selectFrom('t').select('n').where('kind', '=', 'rare').orderBy('n').limit(2).offset(1).execute();
    expect(offset.map((r) => r.n)).toEqual([100, 200]);
    // In a transaction (the same connection).
    const inTx = await k.transaction().execute((tx) => tx.selectFrom('t').select('n').where('kind', '=', 'common').orderBy('n').limit(2).execute());
    expect(inTx.map((r) => r.n)).toEqual([1, 2]);
  });
});

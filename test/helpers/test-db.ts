/**
 * A fresh database for a service-level test, on either engine: a SQLite file in a temp dir, or
 * a private schema in the PostgreSQL test database (dropped on close). Migrated with what the
 * test names, so a feature's tables are tested without starting a server.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type SqlDatabase } from '../../src/platform/sql/sql-db.js';
import { migrate, type StewardMigration } from '../../src/platform/sql/sql-migrations.js';
import { dropSchema, PG_URL } from './test-server.js';

export type Engine = 'sqlite' | 'postgres';
export const ENGINES: Engine[] = ['sqlite', 'postgres'];

export interface TestDb {
  sql: SqlDatabase;
  /** Another connection (pool) to the same database: a second replica. */
  another(): Promise<SqlDatabase>;
  close(): Promise<void>;
}

export async function openTestDb(engine: Engine, migrations: readonly StewardMigration[]): Promise<TestDb> {
  const opened: SqlDatabase[] = [];
  const open = async (): Promise<SqlDatabase> => {
    const db = engine === 'sqlite' ? await openDatabase({ kind: 'sqlite', path: file }) : await openDatabase({ kind: 'postgres', url: PG_URL, schema });
    opened.push(db);
    return db;
  };
  const dir = engine === 'sqlite' ? fs.mkdtempSync(path.join(os.tmpdir(), 'steward-db-')) : '';
  const file = path.join(dir, 'test.db');
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const sql = await open();
  await migrate(sql, migrations);
  return {
    sql,
    another: open,
    async close() {
      for (const db of opened) await db.close();
      if (engine === 'sqlite') fs.rmSync(dir, { recursive: true, force: true });
      else await dropSchema(schema);
    },
  };
}

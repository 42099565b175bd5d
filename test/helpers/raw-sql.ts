/** Direct SQL on a test server's database, for tests that play an attacker with database access. */
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Config } from '../../src/platform/config.js';

export interface RawSql {
  exec(sql: string, params?: unknown[]): Promise<void>;
  rows<T>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/** Statements use $1-style placeholders; for SQLite they are rewritten to ?. */
export async function rawSql(config: Config): Promise<RawSql> {
  if (config.database.kind === 'sqlite') {
    const db = new Database(config.database.path);
    const q = (s: string) => s.replace(/\$\d+/g, '?');
    return {
      exec: async (s, p = []) => void db.prepare(q(s)).run(...p),
      rows: async <T,>(s: string, p: unknown[] = []) => db.prepare(q(s)).all(...p) as T[],
      close: async () => void db.close(),
    };
  }
  const client = new pg.Client({ connectionString: config.database.url, options: config.database.schema ? `-c search_path=${config.database.schema}` : undefined });
  await client.connect();
  return {
    exec: async (s, p = []) => void (await client.query(s, p)),
    rows: async <T,>(s: string, p: unknown[] = []) => (await client.query(s, p)).rows as T[],
    close: () => client.end(),
  };
}

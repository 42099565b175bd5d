import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from './sql-db.js';
import { migrate, type StewardMigration } from './sql-migrations.js';

const PG_URL = process.env.STEWARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MIGRATIONS: StewardMigration[] = [
  {
    name: '0001_test_init',
    async up(db) {
      await db.schema.createTable('things').addColumn('id', 'integer', (c) => c.primaryKey()).execute();
    },
  },
];

// A database of its own: its schemas, its churn and its final drop stay out of the shared one.
const database = `steward_mig_${randomBytes(6).toString('hex')}`;
const url = (() => {
  const u = new URL(PG_URL);
  u.pathname = `/${database}`;
  return u.toString();
})();

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

beforeAll(() => admin(`create database ${database}`));
afterAll(() => admin(`drop database if exists ${database}`));

describe('migrations on PostgreSQL with a private schema', () => {
  it('migrates a second schema in a database where another schema already holds the bookkeeping tables', async () => {
    // Kysely looks for its tables in every schema unless told which one: the second schema
    // used to be taken for migrated, and its first start failed.
    for (const schema of ['tenant_a', 'tenant_b']) {
      const db = await openDatabase({ kind: 'postgres', url, schema });
      try {
        expect(await migrate(db, MIGRATIONS)).toEqual(['0001_test_init']);
        expect(await migrate(db, MIGRATIONS)).toEqual([]);
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from information_schema.tables where table_schema = ${schema}`.execute(db.db);
        expect(rows[0]?.n).toBe(3); // things, steward_migrations, steward_migrations_lock
      } finally {
        await db.close();
      }
    }
  });

  it('migrates while other schemas are being created and dropped in the same database', async () => {
    // Another tenant removed, another test run cleaning up: the catalog changes under Kysely's read.
    const churn = new pg.Client({ connectionString: url });
    await churn.connect();
    let stop = false;
    const churning = (async () => {
      for (let i = 0; !stop; i++) {
        await churn.query(`create schema churn_${i}; create table churn_${i}.t (id serial primary key, a int, b text, c text)`);
        await churn.query(`drop schema churn_${i} cascade`);
      }
    })();
    try {
      for (let i = 0; i < 15; i++) {
        const db = await openDatabase({ kind: 'postgres', url, schema: `racer_${i}` });
        try {
          expect(await migrate(db, MIGRATIONS)).toEqual(['0001_test_init']);
        } finally {
          await db.close();
        }
      }
    } finally {
      stop = true;
      await churning;
      await churn.end();
    }
  });
});

/**
 * Numbered migrations, contributed by each feature and run in name order at start-up.
 * A migration receives the dialect so the few statements that must differ can.
 */
import { Migrator, sql, type Migration, type MigrationProvider } from 'kysely';
import type { AnyDb, Dialect, SqlDatabase } from './sql-db.js';

export interface StewardMigration {
  /** `NNNN_feature_what`: the number orders migrations across features. */
  name: string;
  up(db: AnyDb, dialect: Dialect): Promise<void>;
}

/** PostgreSQL errors of a catalog read racing a concurrent drop: invalid_schema_name, undefined_table. */
const CATALOG_RACE_CODES = new Set(['3F000', '42P01']);
/** A race repeats only while schemas keep being dropped; five reads outlast any cleanup burst. */
const MAX_ATTEMPTS = 5;

export async function migrate(database: SqlDatabase, migrations: readonly StewardMigration[]): Promise<string[]> {
  const names = new Set<string>();
  for (const m of migrations) {
    if (!/^\d{4}_[a-z0-9_]+$/.test(m.name)) throw new Error(`migration name ${m.name} must look like 0001_feature_what`);
    if (names.has(m.name)) throw new Error(`duplicate migration ${m.name}`);
    names.add(m.name);
  }
  const provider: MigrationProvider = {
    getMigrations: async () => {
      const out: Record<string, Migration> = {};
      for (const m of migrations) out[m.name] = { up: (db) => m.up(db as AnyDb, database.dialect) };
      return out;
    },
  };
  // Kysely looks for its bookkeeping tables in every schema unless told which one: with a
  // private schema per tenant or test run, another schema's tables would be taken for ours.
  const migrationTableSchema =
    database.dialect === 'postgres'
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(database.db)).rows[0]?.schema
      : undefined;
  const migrator = new Migrator({
    db: database.db,
    provider,
    migrationTableName: 'steward_migrations',
    migrationLockTableName: 'steward_migrations_lock',
    ...(migrationTableSchema ? { migrationTableSchema } : {}),
  });
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest();
    if (!error) return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    // Kysely finds its tables by reading the catalog of every schema; a schema dropped meanwhile
    // (a tenant removed, a test run cleaning up) fails that read. Nothing was applied: the
    // migrations run in one transaction, after the read. So read again.
    if (attempt < MAX_ATTEMPTS && CATALOG_RACE_CODES.has((error as { code?: unknown }).code as string)) {
      await new Promise((r) => setTimeout(r, 25 * attempt));
      continue;
    }
    throw new Error(`database migration failed: ${(error as Error).message ?? String(error)}`, { cause: error });
  }
}

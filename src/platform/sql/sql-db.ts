/**
 * SQL access: one Kysely instance over SQLite (better-sqlite3, WAL, foreign keys on) or
 * PostgreSQL (pg). Features own their tables and see the database through `Kysely<Tables>`
 * for their own table types; this module knows no table.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  Kysely,
  PostgresDialect,
  SqliteDialect,
  sql,
  type KyselyConfig,
  type Kysely as KyselyT,
  type PostgresPool,
  type PostgresPoolClient,
  type SqliteDatabase,
  type SqliteStatement,
} from 'kysely';
import pg from 'pg';
import { defaultPoolSize, type DatabaseConfig } from '../config.js';
import { createDirs, PRIVATE_MODES, setFileModes, type FileModes, type OnTightened } from '../data-dir.js';

export type Dialect = 'sqlite' | 'postgres';

/** The untyped handle the platform passes around; each feature narrows it with `withTables`. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type AnyDb = KyselyT<{}>;

export interface SqlDatabase {
  readonly dialect: Dialect;
  readonly db: AnyDb;
  ping(): Promise<void>;
  /** Keeps planner statistics current; run now and then (the sweeper does). */
  optimize(): Promise<void>;
  close(): Promise<void>;
}

const PG_INT8 = 20;
const PG_NUMERIC = 1700;

export interface OpenOptions {
  /** Kysely's query log (benchmarks count and time statements with it). */
  log?: KyselyConfig['log'];
  /** Modes of the SQLite file, its WAL and SHM (and of its directory, when created); owner only by default. */
  modes?: FileModes;
  /** Told when an existing database file was readable by more users than `modes` allow (it is tightened). */
  onTightened?: OnTightened;
}

/**
 * Creates the SQLite file with the file mode before SQLite opens it, and sets an existing one
 * (and a WAL or SHM left by an unclean stop) to it. SQLite creates its WAL and SHM files with the
 * database file's mode, so they follow; it would create the database itself 0644.
 */
function prepareSqliteFile(file: string, modes: FileModes, onTightened?: OnTightened): void {
  createDirs(path.dirname(file), modes);
  fs.closeSync(fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, modes.file));
  setFileModes([file, `${file}-wal`, `${file}-shm`, `${file}-journal`], modes, onTightened);
}

export async function openDatabase(config: DatabaseConfig, opts: OpenOptions = {}): Promise<SqlDatabase> {
  const log = opts.log ? { log: opts.log } : {};
  if (config.kind === 'sqlite') {
    if (config.path !== ':memory:') prepareSqliteFile(config.path, opts.modes ?? PRIVATE_MODES, opts.onTightened);
    const sqlite = new Database(config.path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    // NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the last commits.
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    // Refresh planner statistics where they are stale (cheap; SQLite's advice for long-lived connections).
    sqlite.pragma('optimize = 0x10002');
    keepStatementsCompiled(sqlite);
    const db = new Kysely<object>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }), ...log });
    return {
      dialect: 'sqlite',
      db,
      ping: async () => {
        sqlite.prepare('select 1').get();
      },
      optimize: async () => {
        sqlite.pragma('optimize');
        keepStatementsCompiled(sqlite);
      },
      close: () => db.destroy(),
    };
  }
  const schema = config.schema;
  if (schema) {
    // A private schema per test run or per tenant: created up front, then every pooled connection uses it.
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid postgres schema name ${schema}`);
    const admin = new pg.Client({ connectionString: config.url });
    await admin.connect();
    try {
      await admin.query(`create schema if not exists ${schema}`);
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolSize ?? defaultPoolSize(),
    options: schema ? `-c search_path=${schema}` : undefined,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
        // Sizes are bigint columns; Number is exact up to 2^53 bytes (8 PiB), far beyond any blob.
        if (oid === PG_INT8 || oid === PG_NUMERIC) return (v: string) => Number(v);
        return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text');
      }) as typeof pg.types.getTypeParser,
    },
  });
  const db = new Kysely<object>({ dialect: new PostgresDialect({ pool: withPreparedStatements(pool) }), ...log });
  return {
    dialect: 'postgres',
    db,
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    // PostgreSQL's autovacuum keeps statistics current.
    optimize: async () => undefined,
    close: () => db.destroy(),
  };
}

/**
 * better-sqlite3 builds SQLite with SQLITE_ENABLE_STAT4, so ANALYZE (run by `PRAGMA optimize`)
 * also samples index keys into `sqlite_stat4`. With samples present, a statement whose bound
 * values could change its plan is compiled again on every execution, before each first step:
 * the cached statements then save nothing. A version document (one statement) took 75 µs with
 * samples and 16 µs without (same plan); the registry's queries are written so that their plans
 * do not depend on the values (indexes chosen by shape, `+col` where a range must not pick an
 * index), and `sqlite_stat1` still gives the planner table and index sizes. So the samples are
 * dropped after each ANALYZE; the connection reloads its statistics without them.
 */
function keepStatementsCompiled(sqlite: Database.Database): void {
  const stat4 = sqlite.prepare("select 1 from sqlite_schema where type = 'table' and name = 'sqlite_stat4'").get();
  if (!stat4 || !sqlite.prepare('select 1 from sqlite_stat4 limit 1').get()) return;
  sqlite.exec('delete from sqlite_stat4; analyze sqlite_schema');
}

/**
 * better-sqlite3 compiles a statement on every `prepare`; Kysely prepares per execution. Reusing
 * compiled statements by SQL text removes ~20% of the CPU of a read. Bounded, least recently used
 * out first. Statements are reused only sequentially (one connection, Kysely's mutex), which is
 * what better-sqlite3 requires.
 *
 * A statement ending in `LIMIT ?` is run as the same text with the limit written in: SQLite's
 * planner reads a bound LIMIT's value, so binding any value to it (even the same one) expires
 * the compiled plan and the next run compiles the statement again (a lookup by three columns:
 * 18 µs instead of 1.5 µs). Queries bind their page sizes and `limit(1)`s that way (Kysely
 * binds every value), so each distinct limit gets its own cached text instead.
 */
function withStatementCache(sqlite: Database.Database, size = 512): SqliteDatabase {
  const cache = new Map<string, Database.Statement>();
  const compiled = (source: string) => {
    let stmt = cache.get(source);
    if (stmt) {
      cache.delete(source);
    } else {
      stmt = sqlite.prepare(source);
      if (cache.size >= size) cache.delete(cache.keys().next().value as string);
    }
    cache.set(source, stmt);
    return stmt;
  };
  const prepare = (source: string): SqliteStatement => {
    const stmt = compiled(source);
    if (!TRAILING_LIMIT.test(source)) return stmt;
    const head = source.slice(0, -1);
    // The trailing `?` is the text's last placeholder, so its value is the last parameter.
    const pick = (params: readonly unknown[]): [Database.Statement, readonly unknown[]] => {
      const limit = params[params.length - 1];
      return typeof limit === 'number' && Number.isSafeInteger(limit) && limit >= 0 ? [compiled(`${head}${limit}`), params.slice(0, -1)] : [stmt, params];
    };
    return {
      reader: stmt.reader,
      all: (params) => {
        const [s, p] = pick(params);
        return s.all(p);
      },
      run: (params) => {
        const [s, p] = pick(params);
        return s.run(p);
      },
      iterate: (params) => {
        const [s, p] = pick(params);
        return s.iterate(p);
      },
    };
  };
  return { prepare, close: () => void sqlite.close() };
}

/** A statement whose last clause is `LIMIT ?` (as Kysely writes it). */
const TRAILING_LIMIT = /\slimit \?$/i;

/** Statements worth preparing: data statements whose result columns are spelled out (see below). */
const PREPARABLE = /^\s*(select|insert|update|delete|with)\b/i;

/**
 * pg sends each query as an unnamed statement, which PostgreSQL parses and plans on every
 * execution; for the registry's reads planning costs more than running them (EXPLAIN ANALYZE of
 * a version document: 0.4 ms planning, 0.15 ms execution). A named statement is parsed once per
 * connection (pg remembers which it has prepared) and, after five executions, PostgreSQL may keep
 * a generic plan. Statements are named by SQL text, and only the first `max` texts of a pool are:
 * texts that vary without end (IN lists of every length) would otherwise grow every connection's
 * statement cache, and the server's memory, without end; the registry's reads and searches are
 * far fewer. A text holding `*` is never named: a prepared `select *` fails with "cached plan
 * must not change result type" once a migration run by another replica adds a column.
 * (A transaction-pooling PgBouncer older than 1.21 does not carry named statements.)
 */
function withPreparedStatements(pool: pg.Pool, max = 256): PostgresPool {
  const names = new Map<string, string>();
  const nameOf = (text: string): string | undefined => {
    let name = names.get(text);
    if (name === undefined && names.size < max && PREPARABLE.test(text) && !text.includes('*')) {
      name = `stw_${names.size}`;
      names.set(text, name);
    }
    return name;
  };
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      return {
        query: ((text: unknown, values?: readonly unknown[]) => {
          if (typeof text !== 'string') return client.query(text as pg.Submittable);
          const name = nameOf(text);
          return name ? client.query({ name, text, values: values as unknown[] }) : client.query(text, values as unknown[]);
        }) as unknown as PostgresPoolClient['query'],
        release: () => client.release(),
      };
    },
    end: () => pool.end(),
  };
}

/** A unique or primary-key violation, from either engine: the repo turns it into a conflict. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export function isForeignKeyViolation(err: unknown): boolean {
  const e = err as { code?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  return e.code === '23503' || e.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

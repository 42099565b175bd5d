/**
 * The one lock behind the append-only logs (the audit chain and the domain event log). Both
 * assign their sequence numbers as max + 1 under it, held until the transaction ends, so a
 * number is never seen by a reader before every smaller one is committed: a reader that
 * remembers "after 41" never skips an event that commits late. One lock for both logs keeps
 * the two in one order and cannot deadlock (PostgreSQL advisory locks are re-entrant within a
 * transaction). SQLite has a single writer, which serialises appends by itself.
 */
import { sql } from 'kysely';
import type { AnyDb, Dialect } from './sql-db.js';

/** Any number will do as long as nothing else in the database uses it as an advisory lock key. */
const PG_APPEND_LOCK = 74_65_77_61_72_64;

/** Takes the append lock on `tx` (a transaction) until it commits or rolls back. */
export async function lockAppendLogs(tx: AnyDb, dialect: Dialect): Promise<void> {
  if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(${PG_APPEND_LOCK})`.execute(tx);
}

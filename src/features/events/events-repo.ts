/** SQL of the domain event log: append, read in order, and durable subscribers' cursors. */
import { sql, type Kysely } from 'kysely';
import type { EventType } from '../../contracts/events.js';
import type { AnyDb, Dialect } from '../../platform/sql/sql-db.js';
import { lockAppendLogs } from '../../platform/sql/sql-locks.js';

interface EventsTables {
  domain_events: { seq: number; at: string; type: string; subject: string; namespace: string | null; data: string };
  event_cursors: { subscriber: string; seq: number; updated_at: string };
}
export type EventRow = EventsTables['domain_events'];

export interface ReadFilter {
  after: number;
  /** Read no further than this seq (the head read before), so `next` never skips a late commit. */
  upTo: number;
  types: EventType[] | null;
  prefixes: string[];
  /** Limited tokens: only these namespaces (bare names, with none, are excluded). */
  namespaces: readonly string[] | null;
  limit: number;
}

export function createEventsRepo(root: AnyDb, dialect: Dialect) {
  const db = (tx?: AnyDb) => (tx ?? root) as unknown as Kysely<EventsTables>;
  return {
    /** Appends on `tx`, the transaction that makes the change; returns the event's seq. */
    async append(tx: AnyDb, e: Omit<EventRow, 'seq'>): Promise<number> {
      await lockAppendLogs(tx, dialect);
      const head = await db(tx).selectFrom('domain_events').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirst();
      const seq = Number(head?.seq ?? 0) + 1;
      await db(tx).insertInto('domain_events').values({ seq, ...e }).execute();
      return seq;
    },

    async head(): Promise<number> {
      const row = await db().selectFrom('domain_events').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirst();
      return Number(row?.seq ?? 0);
    },

    read(f: ReadFilter, tx?: AnyDb): Promise<EventRow[]> {
      let q = db(tx).selectFrom('domain_events').selectAll().where('seq', '>', f.after).where('seq', '<=', f.upTo);
      if (f.types || f.prefixes.length) {
        const exact = f.types ?? [];
        q = q.where((eb) =>
          eb.or([
            ...(exact.length ? [eb('type', 'in', exact)] : []),
            ...f.prefixes.map((p) => eb(sql<string>`substr(type, 1, ${p.length})`, '=', p)),
          ]),
        );
      }
      if (f.namespaces) q = f.namespaces.length ? q.where('namespace', 'in', [...f.namespaces]) : q.where(sql<boolean>`1 = 0`);
      return q.orderBy('seq').limit(f.limit).execute();
    },

    /** Creates a subscriber's cursor at `seq` unless it exists (a restart keeps its position). */
    async ensureCursor(subscriber: string, seq: number, at: string): Promise<void> {
      await db().insertInto('event_cursors').values({ subscriber, seq, updated_at: at }).onConflict((oc) => oc.column('subscriber').doNothing()).execute();
    },

    /**
     * The cursor, locked for this transaction; null when another replica holds it now
     * (PostgreSQL `SKIP LOCKED`): one replica at a time delivers to a subscriber, in order.
     */
    async lockCursor(tx: AnyDb, subscriber: string): Promise<number | null> {
      let q = db(tx).selectFrom('event_cursors').select('seq').where('subscriber', '=', subscriber);
      if (dialect === 'postgres') q = q.forUpdate().skipLocked();
      const row = await q.executeTakeFirst();
      return row ? Number(row.seq) : null;
    },

    async moveCursor(tx: AnyDb, subscriber: string, seq: number, at: string): Promise<void> {
      await db(tx).updateTable('event_cursors').set({ seq, updated_at: at }).where('subscriber', '=', subscriber).execute();
    },

    async cursor(subscriber: string): Promise<number | null> {
      const row = await db().selectFrom('event_cursors').select('seq').where('subscriber', '=', subscriber).executeTakeFirst();
      return row ? Number(row.seq) : null;
    },

    transaction<T>(fn: (tx: AnyDb) => Promise<T>): Promise<T> {
      return db().transaction().execute((trx) => fn(trx as unknown as AnyDb));
    },
  };
}
export type EventsRepo = ReturnType<typeof createEventsRepo>;

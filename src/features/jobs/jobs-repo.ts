/**
 * SQL of the job runner: enqueue (deduplicated by key among unfinished jobs), the claim, lease
 * renewal, and the transitions an execution makes. Every write of an execution is fenced by its
 * `lease_owner`: an execution that lost its job (cancelled, taken over) changes nothing.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { AnyDb, Dialect } from '../../platform/sql/sql-db.js';

export interface JobsTable {
  id: string;
  kind: string;
  key: string | null;
  payload: string;
  state: string;
  attempts: number;
  max_attempts: number;
  run_after: string;
  lease_owner: string | null;
  lease_expires_at: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

interface JobTables {
  jobs: JobsTable;
}

export type JobRow = Selectable<JobsTable>;

/** States of a job that is not finished: the ones a key is unique among. */
export const OPEN_STATES = ['queued', 'running'] as const;

export interface JobFilter {
  kind?: string;
  state?: string;
  after?: [string, string];
  limit: number;
}

const tables = (db: AnyDb) => db as unknown as Kysely<JobTables>;

export function createJobsRepo(rootDb: AnyDb, dialect: Dialect) {
  const root = tables(rootDb);

  return {
    /**
     * Inserts `row` in the caller's transaction. With a key held by an unfinished job, nothing is
     * inserted and that job's id comes back (ON CONFLICT, not a caught violation: on PostgreSQL a
     * violation would abort the caller's transaction).
     */
    async insert(tx: AnyDb, row: JobsTable): Promise<{ id: string; created: boolean }> {
      const db = tables(tx);
      // The job that held the key may finish between the two statements (PostgreSQL reads each
      // statement's own snapshot): the key is then free, and the insert is tried again.
      for (let attempt = 1; ; attempt++) {
        const inserted = await db
          .insertInto('jobs')
          .values(row)
          .onConflict((oc) => oc.column('key').where(sql<boolean>`state in ('queued', 'running')`).doNothing())
          .returning('id')
          .executeTakeFirst();
        if (inserted) return { id: inserted.id, created: true };
        const open = await db.selectFrom('jobs').select('id').where('key', '=', row.key).where('state', 'in', OPEN_STATES).executeTakeFirst();
        if (open) return { id: open.id, created: false };
        if (attempt === 3) throw new Error(`job key ${row.key} conflicted but no unfinished job holds it`);
      }
    },

    /**
     * Claims up to `limit` jobs of `kind` for `owner`: queued ones that are due, and running ones
     * whose lease expired (their replica died). Each claim counts an attempt. On PostgreSQL
     * concurrent claimers skip each other's locked rows; SQLite has one writer at a time.
     */
    async claim(kind: string, owner: string, now: string, until: string, limit: number): Promise<JobRow[]> {
      return root
        .updateTable('jobs')
        .set({ state: 'running', lease_owner: owner, lease_expires_at: until, attempts: sql<number>`attempts + 1`, updated_at: now })
        .where('id', 'in', (eb) => {
          const q = eb
            .selectFrom('jobs')
            .select('id')
            .where('kind', '=', kind)
            .where((w) =>
              w.or([
                w.and([w('state', '=', 'queued'), w('run_after', '<=', now)]),
                w.and([w('state', '=', 'running'), w('lease_expires_at', '<', now)]),
              ]),
            )
            .orderBy('run_after')
            .orderBy('id')
            .limit(limit);
          return dialect === 'postgres' ? q.forUpdate().skipLocked() : q;
        })
        .returningAll()
        .execute();
    },

    /** Owners of running jobs whose owner names start with `prefix` (this host's replicas). */
    async runningOwners(prefix: string): Promise<string[]> {
      const rows = await root.selectFrom('jobs').select('lease_owner').distinct().where('state', '=', 'running').execute();
      return rows.map((r) => r.lease_owner).filter((o): o is string => o !== null && o.startsWith(prefix));
    },

    /** Ends the leases of `owner` now (its process is gone): the next scan takes its jobs over. */
    async expireLeases(owner: string, now: string): Promise<void> {
      await root.updateTable('jobs').set({ lease_expires_at: now, updated_at: now }).where('state', '=', 'running').where('lease_owner', '=', owner).execute();
    },

    /** Extends the lease of a running job; false when `owner` no longer holds it (cancelled, taken over). */
    async renew(id: string, owner: string, until: string, now: string): Promise<boolean> {
      const res = await root
        .updateTable('jobs')
        .set({ lease_expires_at: until, updated_at: now })
        .where('id', '=', id)
        .where('lease_owner', '=', owner)
        .where('state', '=', 'running')
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },

    /** A transition of a running job made by its execution; false when the job is no longer its own. */
    async settle(id: string, owner: string, patch: Partial<Pick<JobsTable, 'state' | 'run_after' | 'last_error' | 'finished_at' | 'updated_at'>>): Promise<boolean> {
      const res = await root
        .updateTable('jobs')
        .set({ ...patch, lease_owner: null, lease_expires_at: null })
        .where('id', '=', id)
        .where('lease_owner', '=', owner)
        .where('state', '=', 'running')
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },

    /** Puts a job given back at shutdown in the queue again, without counting the attempt. */
    async release(id: string, owner: string, now: string): Promise<boolean> {
      const res = await root
        .updateTable('jobs')
        .set({ state: 'queued', attempts: sql<number>`attempts - 1`, run_after: now, updated_at: now, lease_owner: null, lease_expires_at: null })
        .where('id', '=', id)
        .where('lease_owner', '=', owner)
        .where('state', '=', 'running')
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },

    /** Cancels the unfinished job with this id or key, in the caller's transaction; its id, or null. */
    async cancel(tx: AnyDb, by: { id: string } | { key: string }, now: string): Promise<string | null> {
      let q = tables(tx)
        .updateTable('jobs')
        .set({ state: 'cancelled', finished_at: now, updated_at: now, lease_owner: null, lease_expires_at: null })
        .where('state', 'in', OPEN_STATES);
      q = 'id' in by ? q.where('id', '=', by.id) : q.where('key', '=', by.key);
      const row = await q.returning('id').executeTakeFirst();
      return row?.id ?? null;
    },

    get(id: string): Promise<JobRow | undefined> {
      return root.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    },

    list(f: JobFilter): Promise<JobRow[]> {
      let q = root.selectFrom('jobs').selectAll();
      if (f.kind !== undefined) q = q.where('kind', '=', f.kind);
      if (f.state !== undefined) q = q.where('state', '=', f.state);
      if (f.after) {
        const [at, id] = f.after;
        q = q.where((eb) => eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('id', '<', id)])]));
      }
      return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(f.limit).execute();
    },
  };
}

export type JobsRepo = ReturnType<typeof createJobsRepo>;

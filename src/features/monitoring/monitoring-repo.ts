/** SQL of monitoring: rollups (additive upserts, sums, downsampling), SLOs, alert and drift state, feedback. Knows tables, not rules. */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { AnyDb, Dialect } from '../../platform/sql/sql-db.js';
import { DIM_COLUMNS, VALUE_COLUMNS, valuesOf, type Dims, type Rollup } from './monitoring-fns.js';

type RollupsTable = { bucket: string; step: number } & Dims & Record<string, number | string>;
export interface SlosTable {
  model: string;
  environment: string;
  namespace: string | null;
  /** The SloBody, as JSON. */
  body: string;
  updated_at: string;
  updated_by: string;
}
export interface SloAlertsTable {
  model: string;
  environment: string;
  slo: string;
  severity: string;
  since: string;
}
export interface DriftTable {
  model: string;
  environment: string;
  level: string;
  checked_at: string;
}
export interface FeedbackTable {
  id: string;
  request_id: string;
  model: string;
  version: string | null;
  environment: string | null;
  namespace: string | null;
  thumbs: string | null;
  score: number | null;
  comment: string | null;
  created_at: string;
  created_by: string;
}
interface Tables {
  monitoring_rollups: RollupsTable;
  monitoring_slos: SlosTable;
  monitoring_slo_alerts: SloAlertsTable;
  monitoring_drift: DriftTable;
  monitoring_feedback: FeedbackTable;
}
export type SloRow = Selectable<SlosTable>;
export type FeedbackRow = Selectable<FeedbackTable>;

/** Rollup rows per upsert: ~100 columns × 100 rows stays under both engines' parameter limits. */
const UPSERT_CHUNK = 100;
const PK = ['model', 'environment', 'step', 'bucket', 'version', 'deployment', 'key_id', 'namespace', 'shadow'] as const;

/** Which rollups a read covers. Absent dimensions are not filtered; `shadow` always is. */
export interface RollupFilter {
  model?: string;
  environment?: string;
  version?: string;
  deployment?: string;
  key?: string;
  shadow: boolean;
  since: string;
  until: string;
  /** Steps read (seconds); default both minute and hour rows. */
  steps?: readonly number[];
}

const sums = VALUE_COLUMNS.map((c) => sql<number>`sum(${sql.ref(c)})`.as(c));

export function createMonitoringRepo(root: AnyDb, dialect: Dialect) {
  const rootDb = root as unknown as Kysely<Tables>;
  const filtered = (db: Kysely<Tables>, f: RollupFilter) => {
    let s = db.selectFrom('monitoring_rollups').where('shadow', '=', f.shadow ? 1 : 0).where('bucket', '>=', f.since).where('bucket', '<', f.until);
    if (f.model !== undefined) s = s.where('model', '=', f.model);
    if (f.environment !== undefined) s = s.where('environment', '=', f.environment);
    if (f.version !== undefined) s = s.where('version', '=', f.version);
    if (f.deployment !== undefined) s = s.where('deployment', '=', f.deployment);
    if (f.key !== undefined) s = s.where('key_id', '=', f.key);
    s = s.where('step', 'in', [...(f.steps ?? [60, 3600])]);
    return s;
  };
  const rowOf = (r: Rollup) => {
    const row: Record<string, unknown> = { bucket: r.bucket, step: r.step, ...r.dims };
    VALUE_COLUMNS.forEach((c, i) => (row[c] = r.v[i]));
    return row as RollupsTable;
  };
  async function upsert(db: Kysely<Tables>, rollups: readonly Rollup[]): Promise<void> {
    // In key order: concurrent batches on PostgreSQL lock shared rows in the same order (no deadlock).
    const rows = rollups.map(rowOf).sort((a, b) => {
      for (const c of PK) if (a[c] !== b[c]) return a[c] < b[c] ? -1 : 1;
      return 0;
    });
    for (let i = 0; i < rows.length; i += UPSERT_CHUNK) {
      await db
        .insertInto('monitoring_rollups')
        .values(rows.slice(i, i + UPSERT_CHUNK))
        .onConflict((oc) =>
          oc.columns([...PK]).doUpdateSet(Object.fromEntries(VALUE_COLUMNS.map((c) => [c, sql`${sql.ref(`monitoring_rollups.${c}`)} + ${sql.ref(`excluded.${c}`)}`]))),
        )
        .execute();
    }
  }

  return {
    /** Adds rollups to the rows of their bucket and dimensions (in the caller's transaction). */
    upsertRollups: (tx: AnyDb, rollups: readonly Rollup[]) => upsert(tx as unknown as Kysely<Tables>, rollups),

    /** Every value summed over the filter. */
    async sum(f: RollupFilter): Promise<Float64Array> {
      const row = await filtered(rootDb, f).select(sums).executeTakeFirst();
      return valuesOf((row ?? {}) as Record<string, unknown>);
    },

    /** Values summed per stored bucket, oldest first. */
    async perBucket(f: RollupFilter): Promise<{ bucket: string; v: Float64Array }[]> {
      const rows = await filtered(rootDb, f).select('bucket').select(sums).groupBy('bucket').orderBy('bucket').execute();
      return rows.map((r) => ({ bucket: r.bucket, v: valuesOf(r as Record<string, unknown>) }));
    },

    /** Values per model, environment and version in one bucket (the /metrics export). */
    async perVersion(step: number, bucket: string, limit: number) {
      const rows = await rootDb
        .selectFrom('monitoring_rollups')
        .select(['model', 'environment', 'version'])
        .select(sums)
        .where('step', '=', step)
        .where('bucket', '=', bucket)
        .where('shadow', '=', 0)
        .groupBy(['model', 'environment', 'version'])
        .orderBy(sql`sum(requests)`, 'desc')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ model: r.model, environment: r.environment, version: r.version, v: valuesOf(r as Record<string, unknown>) }));
    },

    /** Models and environments with served traffic since a time. */
    async activePairs(since: string): Promise<{ model: string; environment: string }[]> {
      return rootDb
        .selectFrom('monitoring_rollups')
        .select(['model', 'environment'])
        .where('bucket', '>=', since)
        .where('shadow', '=', 0)
        .where('environment', '!=', '')
        .groupBy(['model', 'environment'])
        .orderBy('model')
        .orderBy('environment')
        .execute();
    },

    /** The first bucket with traffic of a model (and version) in an environment. */
    async firstBucket(model: string, environment: string, version?: string): Promise<string | null> {
      let s = rootDb.selectFrom('monitoring_rollups').select(sql<string | null>`min(bucket)`.as('first')).where('model', '=', model).where('environment', '=', environment).where('shadow', '=', 0);
      if (version !== undefined) s = s.where('version', '=', version);
      return (await s.executeTakeFirst())?.first ?? null;
    },

    /** The oldest bucket of `step` before `before`, or null. */
    async oldestBefore(step: number, before: string): Promise<string | null> {
      const r = await rootDb.selectFrom('monitoring_rollups').select(sql<string | null>`min(bucket)`.as('first')).where('step', '=', step).where('bucket', '<', before).executeTakeFirst();
      return r?.first ?? null;
    },

    /**
     * Folds the minute rows of [from, to) into `into`-second rows, in one transaction: the hour
     * rows gain exactly what the minute rows lose, so a read never counts a request twice.
     */
    async fold(from: string, to: string, into: number, rollUpRows: (rows: { bucket: string; dims: Dims; v: Float64Array }[]) => Rollup[]): Promise<number> {
      return rootDb.transaction().execute(async (trx) => {
        const rows = await trx.selectFrom('monitoring_rollups').selectAll().where('step', '=', 60).where('bucket', '>=', from).where('bucket', '<', to).execute();
        const parsed = rows.map((r) => ({
          bucket: String(r.bucket),
          dims: Object.fromEntries(DIM_COLUMNS.map((d) => [d, d === 'shadow' ? Number(r[d]) : r[d]])) as unknown as Dims,
          v: valuesOf(r as Record<string, unknown>),
        }));
        await upsert(trx, rollUpRows(parsed).filter((r) => r.step === into));
        await trx.deleteFrom('monitoring_rollups').where('step', '=', 60).where('bucket', '>=', from).where('bucket', '<', to).execute();
        return rows.length;
      });
    },

    async deleteBefore(step: number, before: string): Promise<number> {
      const r = await rootDb.deleteFrom('monitoring_rollups').where('step', '=', step).where('bucket', '<', before).executeTakeFirst();
      return Number(r.numDeletedRows);
    },

    // SLOs and their alerts.
    async slo(model: string, environment: string): Promise<SloRow | undefined> {
      return rootDb.selectFrom('monitoring_slos').selectAll().where('model', '=', model).where('environment', '=', environment).executeTakeFirst();
    },
    /** The SLO row locked to the end of the caller's transaction (PostgreSQL): evaluation and removal do not interleave. */
    async sloForUpdate(tx: AnyDb, model: string, environment: string): Promise<SloRow | undefined> {
      const q = (tx as unknown as Kysely<Tables>).selectFrom('monitoring_slos').selectAll().where('model', '=', model).where('environment', '=', environment);
      return (dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
    },
    async slos(q: { model?: string; namespaces: readonly string[] | null }): Promise<SloRow[]> {
      let s = rootDb.selectFrom('monitoring_slos').selectAll();
      if (q.model) s = s.where('model', '=', q.model);
      if (q.namespaces) s = s.where('namespace', 'in', q.namespaces.length ? [...q.namespaces] : ['\u0000']);
      return s.orderBy('model').orderBy('environment').execute();
    },
    async putSlo(tx: AnyDb, row: SloRow): Promise<boolean> {
      const db = tx as unknown as Kysely<Tables>;
      const before = await db.selectFrom('monitoring_slos').select('model').where('model', '=', row.model).where('environment', '=', row.environment).executeTakeFirst();
      await db
        .insertInto('monitoring_slos')
        .values(row)
        .onConflict((oc) => oc.columns(['model', 'environment']).doUpdateSet({ body: row.body, updated_at: row.updated_at, updated_by: row.updated_by }))
        .execute();
      return !before;
    },
    async deleteSlo(tx: AnyDb, model: string, environment: string): Promise<boolean> {
      const r = await (tx as unknown as Kysely<Tables>).deleteFrom('monitoring_slos').where('model', '=', model).where('environment', '=', environment).executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },
    async alerts(tx: AnyDb, model: string, environment: string): Promise<Selectable<SloAlertsTable>[]> {
      return (tx as unknown as Kysely<Tables>).selectFrom('monitoring_slo_alerts').selectAll().where('model', '=', model).where('environment', '=', environment).execute();
    },
    async setAlert(tx: AnyDb, row: SloAlertsTable): Promise<void> {
      await (tx as unknown as Kysely<Tables>)
        .insertInto('monitoring_slo_alerts')
        .values(row)
        .onConflict((oc) => oc.columns(['model', 'environment', 'slo']).doUpdateSet({ severity: row.severity, since: row.since }))
        .execute();
    },
    async clearAlert(tx: AnyDb, model: string, environment: string, slo: string): Promise<void> {
      await (tx as unknown as Kysely<Tables>).deleteFrom('monitoring_slo_alerts').where('model', '=', model).where('environment', '=', environment).where('slo', '=', slo).execute();
    },

    // Drift state.
    async driftLevel(tx: AnyDb, model: string, environment: string): Promise<string | null> {
      const r = await (tx as unknown as Kysely<Tables>).selectFrom('monitoring_drift').select('level').where('model', '=', model).where('environment', '=', environment).executeTakeFirst();
      return r?.level ?? null;
    },
    async setDriftLevel(tx: AnyDb, row: DriftTable): Promise<void> {
      await (tx as unknown as Kysely<Tables>)
        .insertInto('monitoring_drift')
        .values(row)
        .onConflict((oc) => oc.columns(['model', 'environment']).doUpdateSet({ level: row.level, checked_at: row.checked_at }))
        .execute();
    },

    // Feedback.
    async insertFeedback(tx: AnyDb, row: FeedbackRow): Promise<void> {
      await (tx as unknown as Kysely<Tables>).insertInto('monitoring_feedback').values(row).execute();
    },
    async feedbackSummary(model: string, version?: string) {
      let s = rootDb
        .selectFrom('monitoring_feedback')
        .select([
          'version',
          sql<number>`count(*)`.as('count'),
          sql<number>`sum(case when thumbs = 'up' then 1 else 0 end)`.as('up'),
          sql<number>`sum(case when thumbs = 'down' then 1 else 0 end)`.as('down'),
          sql<number>`count(score)`.as('scored'),
          sql<number | null>`avg(score)`.as('score_avg'),
          sql<number>`count(comment)`.as('comments'),
        ])
        .where('model', '=', model);
      if (version !== undefined) s = s.where('version', '=', version);
      return s.groupBy('version').orderBy('version').execute();
    },

    transaction<T>(fn: (tx: AnyDb) => Promise<T>): Promise<T> {
      return rootDb.transaction().execute((trx) => fn(trx as unknown as AnyDb));
    },
  };
}
export type MonitoringRepo = ReturnType<typeof createMonitoringRepo>;

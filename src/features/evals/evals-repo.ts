/**
 * SQL of the evals feature: runs, the lease the executing job holds on a run (its fencing
 * token), and per-case results written in batches. Knows tables, not rules: the service and
 * the runner decide.
 */
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { AnyDb, Dialect } from '../../platform/sql/sql-db.js';

export interface EvalRunsTable {
  id: string;
  suite_name: string;
  suite_version: string;
  suite_namespace: string | null;
  model_name: string;
  model_version: string;
  model_namespace: string | null;
  endpoint_url: string;
  endpoint_model: string;
  endpoint_auth: number;
  judge: string | null;
  spec: string;
  settings: string;
  state: string;
  total: number;
  done: number;
  failed: number;
  summary: string | null;
  error: string | null;
  labels: string;
  created_at: string;
  created_by: string | null;
  started_at: string | null;
  finished_at: string | null;
  lease_owner: string | null;
  lease_expires_at: string | null;
  /** The token the run executes for (who created or last resumed it); null: no token to recheck. */
  scope_token_id: string | null;
  /** JSON array of the namespaces that token was limited to then; null: not limited. */
  scope_namespaces: string | null;
}

/** Every column of eval_runs, named: a statement without `*` can be prepared once on PostgreSQL. */
const RUN_COLUMNS = [
  'id', 'suite_name', 'suite_version', 'suite_namespace', 'model_name', 'model_version', 'model_namespace', 'endpoint_url', 'endpoint_model',
  'endpoint_auth', 'judge', 'spec', 'settings', 'state', 'total', 'done', 'failed', 'summary', 'error', 'labels', 'created_at', 'created_by',
  'started_at', 'finished_at', 'lease_owner', 'lease_expires_at', 'scope_token_id', 'scope_namespaces',
] as const satisfies readonly (keyof EvalRunsTable)[];
// A column added to the table and not to the list fails to compile here.
const everyRunColumn: Exclude<keyof EvalRunsTable, (typeof RUN_COLUMNS)[number]> extends never ? true : never = true;
void everyRunColumn;

export interface EvalResultsTable {
  run_id: string;
  idx: number;
  case_id: string;
  ok: number;
  /** 1 when the request failed or a binary metric scored 0: what `--failed` lists. */
  flagged: number;
  output: string | null;
  error: string | null;
  attempts: number;
  latency_ms: number | null;
  ttft_ms: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  scores: string;
}

interface EvalTables {
  eval_runs: EvalRunsTable;
  eval_results: EvalResultsTable;
}

export type RunRow = Selectable<EvalRunsTable>;
export type ResultRow = Selectable<EvalResultsTable>;

export interface RunFilter {
  modelName?: string;
  modelVersion?: string;
  suiteName?: string;
  suiteVersion?: string;
  state?: string;
  namespaces: string[] | null;
  after?: [string, string];
  limit: number;
}

/** Rows per multi-row INSERT: 14 columns × 500 stays far below both engines' parameter limits. */
const INSERT_CHUNK = 500;

export function createEvalsRepo(rootDb: AnyDb, dialect: Dialect) {
  const root = rootDb as unknown as Kysely<EvalTables>;

  function bind(db: Kysely<EvalTables>) {
    return {
      async insertRun(row: EvalRunsTable) {
        await db.insertInto('eval_runs').values(row).execute();
      },

      getRun(id: string): Promise<RunRow | undefined> {
        return db.selectFrom('eval_runs').selectAll().where('id', '=', id).executeTakeFirst();
      },

      async listRuns(f: RunFilter): Promise<RunRow[]> {
        let q = db.selectFrom('eval_runs').selectAll();
        if (f.modelName !== undefined) q = q.where('model_name', '=', f.modelName);
        if (f.modelVersion !== undefined) q = q.where('model_version', '=', f.modelVersion);
        if (f.suiteName !== undefined) q = q.where('suite_name', '=', f.suiteName);
        if (f.suiteVersion !== undefined) q = q.where('suite_version', '=', f.suiteVersion);
        if (f.state !== undefined) q = q.where('state', '=', f.state);
        if (f.namespaces) {
          const ns = f.namespaces;
          q = q.where((eb) => eb.and([eb('model_namespace', 'in', ns.length ? ns : ['\u0000']), eb('suite_namespace', 'in', ns.length ? ns : ['\u0000'])]));
        }
        if (f.after) {
          const [at, id] = f.after;
          q = q.where((eb) => eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('id', '<', id)])]));
        }
        return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(f.limit).execute();
      },

      /**
       * Latest finished (succeeded) runs of a model version, newest first. Every GET of a model
       * version asks this, so the statement is compiled once and only its parameters change.
       */
      async succeededRunsOf(modelName: string, modelVersion: string, limit: number): Promise<RunRow[]> {
        const res = await db.executeQuery<RunRow>({ ...succeededRuns, parameters: [modelName, modelVersion, 'succeeded', limit] });
        return res.rows;
      },

      /**
       * Makes `owner` (an execution of the run's job) the run's holder, whoever held it before:
       * the job's lease guarantees one execution, and the previous holder's heartbeat then fails.
       * False when the run is no longer queued or running.
       */
      async takeOver(id: string, owner: string, now: string, until: string): Promise<boolean> {
        const res = await db
          .updateTable('eval_runs')
          .set({ lease_owner: owner, lease_expires_at: until, state: 'running', started_at: sql<string>`coalesce(started_at, ${now})`, error: null })
          .where('id', '=', id)
          .where('state', 'in', ['queued', 'running'])
          .executeTakeFirst();
        return Number(res.numUpdatedRows) === 1;
      },

      /** Extends the lease and stores progress; false when the run is no longer ours (taken over or cancelled). */
      async heartbeat(id: string, owner: string, until: string, done: number, failed: number): Promise<boolean> {
        const res = await db
          .updateTable('eval_runs')
          .set({ lease_expires_at: until, done, failed })
          .where('id', '=', id)
          .where('lease_owner', '=', owner)
          .where('state', '=', 'running')
          .executeTakeFirst();
        return Number(res.numUpdatedRows) === 1;
      },

      /**
       * The run's state, its row locked until the transaction ends (PostgreSQL; SQLite runs one
       * write transaction at a time): a change that reports what it replaced reads it here.
       */
      async lockRun(id: string): Promise<string | null> {
        let q = db.selectFrom('eval_runs').select('state').where('id', '=', id);
        if (dialect === 'postgres') q = q.forUpdate();
        return (await q.executeTakeFirst())?.state ?? null;
      },

      async setState(id: string, patch: Partial<Pick<EvalRunsTable, 'state' | 'error' | 'summary' | 'finished_at' | 'done' | 'failed' | 'lease_owner' | 'lease_expires_at' | 'total' | 'scope_token_id' | 'scope_namespaces'>>, where: { owner?: string; states?: readonly string[] } = {}) {
        let q = db.updateTable('eval_runs').set(patch).where('id', '=', id);
        if (where.owner !== undefined) q = q.where('lease_owner', '=', where.owner);
        if (where.states) q = q.where('state', 'in', [...where.states]);
        const res = await q.executeTakeFirst();
        return Number(res.numUpdatedRows) === 1;
      },

      async insertResults(rows: readonly EvalResultsTable[]) {
        for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
          const chunk = rows.slice(i, i + INSERT_CHUNK);
          // A result replaces an earlier failed attempt of the same case (resume re-runs failed requests).
          await db
            .insertInto('eval_results')
            .values(chunk)
            .onConflict((oc) =>
              oc.columns(['run_id', 'idx']).doUpdateSet((eb) => ({
                case_id: eb.ref('excluded.case_id'),
                ok: eb.ref('excluded.ok'),
                flagged: eb.ref('excluded.flagged'),
                output: eb.ref('excluded.output'),
                error: eb.ref('excluded.error'),
                attempts: eb.ref('excluded.attempts'),
                latency_ms: eb.ref('excluded.latency_ms'),
                ttft_ms: eb.ref('excluded.ttft_ms'),
                input_tokens: eb.ref('excluded.input_tokens'),
                output_tokens: eb.ref('excluded.output_tokens'),
                scores: eb.ref('excluded.scores'),
              })),
            )
            .execute();
        }
      },

      /** Indexes of cases finished with a successful request (a resume skips them). */
      async succeededIndexes(runId: string): Promise<number[]> {
        const rows = await db.selectFrom('eval_results').select('idx').where('run_id', '=', runId).where('ok', '=', 1).execute();
        return rows.map((r) => r.idx);
      },

      async counts(runId: string): Promise<{ done: number; failed: number }> {
        const r = await db
          .selectFrom('eval_results')
          .select((eb) => [eb.fn.countAll<number>().as('done'), eb.fn.sum<number>(eb.case().when('ok', '=', 0).then(1).else(0).end()).as('failed')])
          .where('run_id', '=', runId)
          .executeTakeFirstOrThrow();
        return { done: Number(r.done), failed: Number(r.failed ?? 0) };
      },

      /** What aggregation and comparison need of every case, in case order. */
      scoresOf(runId: string): Promise<Pick<ResultRow, 'idx' | 'case_id' | 'ok' | 'scores'>[]> {
        return db.selectFrom('eval_results').select(['idx', 'case_id', 'ok', 'scores']).where('run_id', '=', runId).orderBy('idx').execute();
      },

      /**
       * Runs of a model (`by: 'model'`) or with a suite (`by: 'suite'`) among `versions`, in
       * `states` when given, oldest first: what a deletion of those versions must consider.
       */
      async runsOf(by: 'model' | 'suite', name: string, versions: readonly string[], states?: readonly string[]): Promise<Pick<RunRow, 'id' | 'state' | 'model_name' | 'model_version' | 'suite_name' | 'suite_version'>[]> {
        const out: Pick<RunRow, 'id' | 'state' | 'model_name' | 'model_version' | 'suite_name' | 'suite_version'>[] = [];
        for (let i = 0; i < versions.length; i += INSERT_CHUNK) {
          let q = db
            .selectFrom('eval_runs')
            .select(['id', 'state', 'model_name', 'model_version', 'suite_name', 'suite_version'])
            .where(by === 'model' ? 'model_name' : 'suite_name', '=', name)
            .where(by === 'model' ? 'model_version' : 'suite_version', 'in', versions.slice(i, i + INSERT_CHUNK));
          if (states) q = q.where('state', 'in', [...states]);
          out.push(...(await q.orderBy('created_at').orderBy('id').execute()));
        }
        return out;
      },

      /** Deletes a run (its results cascade) unless it is in one of `busy`; false when it was not deleted. */
      async deleteRun(id: string, busy: readonly string[]): Promise<boolean> {
        const res = await db.deleteFrom('eval_runs').where('id', '=', id).where('state', 'not in', [...busy]).executeTakeFirst();
        return Number(res.numDeletedRows) === 1;
      },

      listResults(runId: string, opts: { flaggedOnly: boolean; afterIdx: number; limit: number }): Promise<ResultRow[]> {
        let q = db.selectFrom('eval_results').selectAll().where('run_id', '=', runId).where('idx', '>', opts.afterIdx);
        if (opts.flaggedOnly) q = q.where('flagged', '=', 1);
        return q.orderBy('idx').limit(opts.limit).execute();
      },
    };
  }

  // Run for every GET of a model version (its evaluations): named columns, so prepared on PostgreSQL.
  const succeededRuns = root
    .selectFrom('eval_runs')
    .select(RUN_COLUMNS)
    .where('model_name', '=', '')
    .where('model_version', '=', '')
    .where('state', '=', 'succeeded')
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .compile();
  const base = bind(root);
  return {
    ...base,
    dialect,
    /** The same queries on another feature's transaction (a registry deletion). */
    on(tx: AnyDb) {
      return bind(tx as unknown as Kysely<EvalTables>);
    },
    transaction<T>(fn: (repo: ReturnType<typeof bind>, trx: Transaction<EvalTables>) => Promise<T>): Promise<T> {
      return root.transaction().execute((trx) => fn(bind(trx), trx));
    },
  };
}

export type EvalsRepo = ReturnType<typeof createEvalsRepo>;

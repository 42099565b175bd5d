/** SQL of rollouts and their timelines. Knows tables, not rules. */
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { AnyDb, Dialect } from '../../platform/sql/sql-db.js';

export interface RolloutsTable {
  id: string;
  model: string;
  namespace: string | null;
  environment: string;
  strategy: string;
  state: string;
  reason: string | null;
  stable_version: string;
  stable_deployment: string;
  candidate_version: string;
  candidate_deployment: string | null;
  candidate_created: number;
  promotion_id: string | null;
  /** The RolloutSpec, as JSON. */
  spec: string;
  /** The planned RolloutStep[], as JSON. */
  steps: string;
  /** Index of the current step (-1: none applied yet). */
  step: number;
  step_started_at: string | null;
  last_analysis: string | null;
  report: string | null;
  /** The split the environment had before the rollout (its fallbacks are kept), as JSON. */
  previous_traffic: string | null;
  /** The last seq of its timeline. */
  log_seq: number;
  created_by: string;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}
export interface RolloutLogTable {
  rollout_id: string;
  seq: number;
  at: string;
  kind: string;
  step: number | null;
  message: string;
  detail: string;
}
interface Tables {
  rollouts: RolloutsTable;
  rollout_log: RolloutLogTable;
}
export type RolloutRow = Selectable<RolloutsTable>;
export type RolloutLogRow = Selectable<RolloutLogTable>;

export function createRolloutsRepo(root: AnyDb, dialect: Dialect) {
  const bind = (db: Kysely<Tables>) => ({
    async insert(row: RolloutRow): Promise<void> {
      await db.insertInto('rollouts').values(row).execute();
    },
    async get(id: string): Promise<RolloutRow | undefined> {
      return db.selectFrom('rollouts').selectAll().where('id', '=', id).executeTakeFirst();
    },
    /** The row, locked to the transaction's end on PostgreSQL (SQLite has one writer). */
    async getForUpdate(id: string): Promise<RolloutRow | undefined> {
      const q = db.selectFrom('rollouts').selectAll().where('id', '=', id);
      return (dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
    },
    async update(id: string, set: Partial<RolloutRow>): Promise<void> {
      await db.updateTable('rollouts').set(set).where('id', '=', id).execute();
    },
    async open(model: string, environment: string): Promise<RolloutRow | undefined> {
      return db.selectFrom('rollouts').selectAll().where('model', '=', model).where('environment', '=', environment).where('state', 'in', ['pending', 'running', 'paused']).executeTakeFirst();
    },
    async byPromotion(promotion: string): Promise<RolloutRow | undefined> {
      return db.selectFrom('rollouts').selectAll().where('promotion_id', '=', promotion).executeTakeFirst();
    },
    async list(q: { model?: string; environment?: string; state?: string; namespaces: readonly string[] | null; after?: [string, string]; limit: number }): Promise<RolloutRow[]> {
      let s = db.selectFrom('rollouts').selectAll();
      if (q.model) s = s.where('model', '=', q.model);
      if (q.environment) s = s.where('environment', '=', q.environment);
      if (q.state) s = s.where('state', '=', q.state);
      if (q.namespaces) s = s.where('namespace', 'in', q.namespaces.length ? [...q.namespaces] : ['\u0000']);
      if (q.after) {
        const [at, id] = q.after;
        s = s.where((eb) => eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('id', '<', id)])]));
      }
      return s.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
    },
    async insertLog(row: RolloutLogRow): Promise<void> {
      await db.insertInto('rollout_log').values(row).execute();
    },
    async log(id: string): Promise<RolloutLogRow[]> {
      return db.selectFrom('rollout_log').selectAll().where('rollout_id', '=', id).orderBy('seq').execute();
    },
  });
  return {
    ...bind(root as unknown as Kysely<Tables>),
    on: (tx: AnyDb) => bind(tx as unknown as Kysely<Tables>),
    transaction<T>(fn: (repo: ReturnType<typeof bind>, trx: Transaction<Tables>) => Promise<T>): Promise<T> {
      return (root as unknown as Kysely<Tables>).transaction().execute((trx) => fn(bind(trx), trx));
    },
  };
}
export type RolloutsRepo = ReturnType<typeof createRolloutsRepo>;
export type RolloutsTxRepo = ReturnType<RolloutsRepo['on']>;

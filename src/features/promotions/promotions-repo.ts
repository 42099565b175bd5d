/**
 * SQL of environments and promotions: policies, pointers and their moves, requests and their
 * decisions. Knows tables, not rules. Every read-modify-write takes its row lock first on
 * PostgreSQL (`forUpdate`), so what a move or a decision records is what it replaced.
 */
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { AnyDb, Dialect } from '../../platform/sql/sql-db.js';

export interface EnvironmentsTable {
  namespace: string;
  name: string;
  policy: string;
  updated_at: string;
  updated_by: string;
}
export interface EnvPointersTable {
  model: string;
  environment: string;
  namespace: string | null;
  version: string;
  since: string;
  moved_by: string;
  promotion_id: string | null;
}
export interface EnvMovesTable {
  seq: number;
  model: string;
  environment: string;
  namespace: string | null;
  /** null for a removal: the version was deleted and the environment runs none of the model. */
  version: string | null;
  previous: string | null;
  kind: string;
  promotion_id: string | null;
  reason: string | null;
  at: string;
  moved_by: string;
}
export interface PromotionsTable {
  id: string;
  model: string;
  namespace: string | null;
  version: string;
  from_env: string | null;
  to_env: string;
  state: string;
  reason: string | null;
  comment: string;
  gates: string;
  approvals_required: number;
  approval_role: string;
  requested_by: string;
  requested_at: string;
  decided_at: string | null;
  expires_at: string | null;
}
export interface PromotionDecisionsTable {
  promotion_id: string;
  decided_by: string;
  decision: string;
  comment: string;
  at: string;
}
interface Tables {
  environments: EnvironmentsTable;
  env_pointers: EnvPointersTable;
  env_moves: Omit<EnvMovesTable, 'seq'> & { seq: number | undefined };
  promotions: PromotionsTable;
  promotion_decisions: PromotionDecisionsTable;
}
export type EnvironmentRow = Selectable<EnvironmentsTable>;
export type PointerRow = Selectable<EnvPointersTable>;
export type MoveRow = EnvMovesTable;
export type PromotionRow = Selectable<PromotionsTable>;
export type DecisionRow = Selectable<PromotionDecisionsTable>;

export function createPromotionsRepo(root: AnyDb, dialect: Dialect) {
  const bind = (db: Kysely<Tables>) => ({
    async environments(namespaces: readonly string[] | null): Promise<EnvironmentRow[]> {
      let q = db.selectFrom('environments').selectAll();
      if (namespaces) q = q.where('namespace', 'in', ['', ...namespaces]);
      return q.orderBy('name').orderBy('namespace').execute();
    },
    async environment(namespace: string, name: string): Promise<EnvironmentRow | undefined> {
      return db.selectFrom('environments').selectAll().where('namespace', '=', namespace).where('name', '=', name).executeTakeFirst();
    },
    async putEnvironment(row: EnvironmentRow): Promise<void> {
      await db
        .insertInto('environments')
        .values(row)
        .onConflict((oc) => oc.columns(['namespace', 'name']).doUpdateSet({ policy: row.policy, updated_at: row.updated_at, updated_by: row.updated_by }))
        .execute();
    },

    async pointers(model: string, environment?: string): Promise<PointerRow[]> {
      let q = db.selectFrom('env_pointers').selectAll().where('model', '=', model);
      if (environment) q = q.where('environment', '=', environment);
      return q.orderBy('environment').execute();
    },
    /** Every pointer of every model (the gateway's route table), or of every model in one environment. */
    async allPointers(environment?: string): Promise<PointerRow[]> {
      let q = db.selectFrom('env_pointers').selectAll();
      if (environment) q = q.where('environment', '=', environment);
      return q.orderBy('model').orderBy('environment').execute();
    },
    /** The pointer, locked until the transaction ends (PostgreSQL). */
    async pointerForUpdate(model: string, environment: string): Promise<PointerRow | undefined> {
      const q = db.selectFrom('env_pointers').selectAll().where('model', '=', model).where('environment', '=', environment);
      return (dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
    },
    async pointersAt(model: string, version: string): Promise<PointerRow[]> {
      return db.selectFrom('env_pointers').selectAll().where('model', '=', model).where('version', '=', version).execute();
    },
    async setPointer(row: PointerRow): Promise<void> {
      await db
        .insertInto('env_pointers')
        .values(row)
        .onConflict((oc) => oc.columns(['model', 'environment']).doUpdateSet({ version: row.version, since: row.since, moved_by: row.moved_by, promotion_id: row.promotion_id }))
        .execute();
    },
    async deletePointer(model: string, environment: string): Promise<void> {
      await db.deleteFrom('env_pointers').where('model', '=', model).where('environment', '=', environment).execute();
    },
    async insertMove(row: Omit<MoveRow, 'seq'>): Promise<number> {
      const r = await db.insertInto('env_moves').values({ ...row, seq: undefined }).returning('seq').executeTakeFirstOrThrow();
      return Number(r.seq);
    },
    async moves(model: string, environment: string | undefined, limit: number): Promise<MoveRow[]> {
      let q = db.selectFrom('env_moves').selectAll().where('model', '=', model);
      if (environment) q = q.where('environment', '=', environment);
      const rows = await q.orderBy('seq', 'desc').limit(limit).execute();
      return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
    },

    async insertPromotion(row: PromotionRow): Promise<void> {
      await db.insertInto('promotions').values(row).execute();
    },
    async promotion(id: string): Promise<PromotionRow | undefined> {
      return db.selectFrom('promotions').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async promotionForUpdate(id: string): Promise<PromotionRow | undefined> {
      const q = db.selectFrom('promotions').selectAll().where('id', '=', id);
      return (dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
    },
    async openPromotion(model: string, env: string): Promise<PromotionRow | undefined> {
      return db.selectFrom('promotions').selectAll().where('model', '=', model).where('to_env', '=', env).where('state', 'in', ['checking', 'pending']).executeTakeFirst();
    },
    async pendingOf(model: string, version: string): Promise<PromotionRow[]> {
      return db.selectFrom('promotions').selectAll().where('model', '=', model).where('version', '=', version).where('state', '=', 'pending').orderBy('requested_at').execute();
    },
    async updatePromotion(id: string, fromStates: readonly string[], set: Partial<PromotionRow>): Promise<boolean> {
      const r = await db.updateTable('promotions').set(set).where('id', '=', id).where('state', 'in', [...fromStates]).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async listPromotions(q: { model?: string; environment?: string; state?: string; namespaces: readonly string[] | null; after?: [string, string]; limit: number }): Promise<PromotionRow[]> {
      let s = db.selectFrom('promotions').selectAll();
      if (q.model) s = s.where('model', '=', q.model);
      if (q.environment) s = s.where('to_env', '=', q.environment);
      if (q.state) s = s.where('state', '=', q.state);
      if (q.namespaces) s = s.where('namespace', 'in', q.namespaces.length ? [...q.namespaces] : ['\u0000']);
      if (q.after) {
        const [at, id] = q.after;
        s = s.where((eb) => eb.or([eb('requested_at', '<', at), eb.and([eb('requested_at', '=', at), eb('id', '<', id)])]));
      }
      return s.orderBy('requested_at', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
    },

    async decisions(ids: readonly string[]): Promise<DecisionRow[]> {
      if (!ids.length) return [];
      return db.selectFrom('promotion_decisions').selectAll().where('promotion_id', 'in', [...ids]).orderBy('at').execute();
    },
    async insertDecision(row: DecisionRow): Promise<void> {
      await db.insertInto('promotion_decisions').values(row).execute();
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

export type PromotionsRepo = ReturnType<typeof createPromotionsRepo>;
export type PromotionsTxRepo = ReturnType<PromotionsRepo['on']>;

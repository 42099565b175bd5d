/** SQL of deployments: the desired state and each replica's observed state. Knows tables, not rules. */
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { AnyDb } from '../../platform/sql/sql-db.js';

export interface DeploymentsTable {
  id: string;
  model: string;
  version: string;
  digest: string;
  namespace: string | null;
  environment: string;
  runtime: string;
  driver: string;
  replicas: number;
  spec: string;
  state: string;
  stop_requested: number;
  error: string | null;
  created_at: string;
  created_by: string;
  updated_at: string;
}
export interface ReplicasTable {
  deployment_id: string;
  idx: number;
  state: string;
  pid: number | null;
  port: number | null;
  url: string | null;
  restarts: number;
  failures: number;
  last_error: string | null;
  /** The version this replica serves (during a rolling update, the old one until it is replaced). */
  version: string | null;
  started_at: string | null;
  since: string;
}
interface Tables {
  deployments: DeploymentsTable;
  deployment_replicas: ReplicasTable;
}
export type DeploymentRow = Selectable<DeploymentsTable>;
export type ReplicaRow = Selectable<ReplicasTable>;

export function createDeploymentsRepo(root: AnyDb) {
  const bind = (db: Kysely<Tables>) => ({
    async insert(row: DeploymentRow): Promise<void> {
      await db.insertInto('deployments').values(row).execute();
    },
    async get(id: string): Promise<DeploymentRow | undefined> {
      return db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async update(id: string, set: Partial<DeploymentRow>): Promise<void> {
      await db.updateTable('deployments').set(set).where('id', '=', id).execute();
    },
    async active(): Promise<DeploymentRow[]> {
      return db.selectFrom('deployments').selectAll().where((eb) => eb.or([eb('state', 'not in', ['stopped', 'failed']), eb('stop_requested', '=', 1)])).execute();
    },
    /** Deployments that may serve (not stopped, failed, or being stopped): the gateway's route table. */
    async routable(): Promise<DeploymentRow[]> {
      return db.selectFrom('deployments').selectAll().where('state', 'not in', ['stopped', 'failed']).where('stop_requested', '=', 0).orderBy('created_at').orderBy('id').execute();
    },
    /** Deployments created before `until` and not ended before `since` (a stopped one's end is its last update). */
    async ranBetween(since: string, until: string, namespaces: readonly string[] | null): Promise<DeploymentRow[]> {
      let s = db
        .selectFrom('deployments')
        .selectAll()
        .where('created_at', '<', until)
        .where((eb) => eb.or([eb('state', 'not in', ['stopped', 'failed']), eb('updated_at', '>=', since)]));
      if (namespaces) s = s.where('namespace', 'in', namespaces.length ? [...namespaces] : ['\u0000']);
      return s.orderBy('created_at').orderBy('id').execute();
    },
    async list(q: { model?: string; environment?: string; state?: string; namespaces: readonly string[] | null; after?: [string, string]; limit: number }): Promise<DeploymentRow[]> {
      let s = db.selectFrom('deployments').selectAll();
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
    async replicas(ids: readonly string[]): Promise<ReplicaRow[]> {
      if (!ids.length) return [];
      return db.selectFrom('deployment_replicas').selectAll().where('deployment_id', 'in', [...ids]).orderBy('idx').execute();
    },
    async putReplica(row: ReplicaRow): Promise<void> {
      await db
        .insertInto('deployment_replicas')
        .values(row)
        .onConflict((oc) => oc.columns(['deployment_id', 'idx']).doUpdateSet({ ...row }))
        .execute();
    },
    /** Active deployments of a model in an environment (what follows its pointer). */
    async following(model: string, environment: string): Promise<DeploymentRow[]> {
      return db.selectFrom('deployments').selectAll().where('model', '=', model).where('environment', '=', environment).where('stop_requested', '=', 0).execute();
    },
    async deleteReplica(id: string, idx: number): Promise<void> {
      await db.deleteFrom('deployment_replicas').where('deployment_id', '=', id).where('idx', '=', idx).execute();
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
export type DeploymentsRepo = ReturnType<typeof createDeploymentsRepo>;

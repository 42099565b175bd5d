/** SQL of the gateway's control-plane side: keys, traffic splits, model settings, usage. Knows tables, not rules. */
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { AnyDb } from '../../platform/sql/sql-db.js';

export interface GatewayKeysTable {
  id: string;
  name: string;
  namespace: string | null;
  /** JSON array of model patterns, or null: every model of the namespace. */
  models: string | null;
  default_environment: string;
  rpm: number | null;
  tpm: number | null;
  budget_usd: number | null;
  spent_usd: number;
  /** sha256 (hex) of the secret. */
  hash: string;
  prefix: string;
  created_at: string;
  created_by: string;
  expires_at: string | null;
  revoked_at: string | null;
}
export interface GatewayTrafficTable {
  model: string;
  environment: string;
  /** The TrafficBody, as JSON. */
  body: string;
  updated_at: string;
  updated_by: string;
}
export interface GatewayModelsTable {
  model: string;
  cache: string | null;
  updated_at: string;
  updated_by: string;
}
export interface UsageBatchesTable {
  gateway: string;
  batch: number;
  records: number;
  received_at: string;
}
export interface UsageTable {
  gateway: string;
  batch: number;
  idx: number;
  at: string;
  key_id: string | null;
  namespace: string | null;
  model: string;
  version: string | null;
  deployment: string | null;
  environment: string | null;
  endpoint: string;
  status: number;
  stream: number;
  shadow: number;
  cached: number;
  latency_ms: number;
  ttft_ms: number | null;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  request_id: string | null;
  /** 1 refused, 0 answered, null not looked at. */
  refusal: number | null;
  /** Failed attempts on the deployment that a retry hid (0024). */
  upstream_errors: number;
}
interface Tables {
  gateway_keys: GatewayKeysTable;
  gateway_traffic: GatewayTrafficTable;
  gateway_models: GatewayModelsTable;
  gateway_usage_batches: UsageBatchesTable;
  gateway_usage: UsageTable;
}
export type KeyRow = Selectable<GatewayKeysTable>;
export type TrafficRow = Selectable<GatewayTrafficTable>;
export type GatewayModelRow = Selectable<GatewayModelsTable>;
export type UsageRow = Selectable<UsageTable>;

/** Columns a usage report groups by (`version` is the model and version together). */
export const USAGE_GROUP_COLUMN = {
  model: 'model',
  key: 'key_id',
  namespace: 'namespace',
  deployment: 'deployment',
  environment: 'environment',
} as const;

/** Usage rows per insert statement: 22 columns × 500 stays under both engines' parameter limits. */
const INSERT_CHUNK = 500;

export interface UsageFilter {
  since?: string;
  until?: string;
  model?: string;
  key?: string;
  namespace?: string;
  /** A limited token's namespaces (null: all). */
  namespaces: readonly string[] | null;
}

export function createGatewayRepo(root: AnyDb) {
  const bind = (db: Kysely<Tables>) => ({
    async insertKey(row: KeyRow): Promise<void> {
      await db.insertInto('gateway_keys').values(row).execute();
    },
    async key(id: string): Promise<KeyRow | undefined> {
      return db.selectFrom('gateway_keys').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async revokeKey(id: string, at: string): Promise<boolean> {
      const r = await db.updateTable('gateway_keys').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async listKeys(q: { namespace?: string; revoked?: boolean; namespaces: readonly string[] | null; after?: [string, string]; limit: number }): Promise<KeyRow[]> {
      let s = db.selectFrom('gateway_keys').selectAll();
      if (q.namespace) s = s.where('namespace', '=', q.namespace);
      if (q.revoked !== undefined) s = s.where('revoked_at', q.revoked ? 'is not' : 'is', null);
      if (q.namespaces) s = s.where('namespace', 'in', q.namespaces.length ? [...q.namespaces] : ['\u0000']);
      if (q.after) {
        const [at, id] = q.after;
        s = s.where((eb) => eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('id', '<', id)])]));
      }
      return s.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
    },
    /** Keys a gateway may accept now: not revoked, not expired at `now`. */
    async liveKeys(now: string): Promise<KeyRow[]> {
      return db
        .selectFrom('gateway_keys')
        .selectAll()
        .where('revoked_at', 'is', null)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
        .orderBy('id')
        .execute();
    },
    async addSpend(id: string, usd: number): Promise<void> {
      await db.updateTable('gateway_keys').set({ spent_usd: sql<number>`spent_usd + ${usd}` }).where('id', '=', id).execute();
    },

    async traffic(model: string, environment: string): Promise<TrafficRow | undefined> {
      return db.selectFrom('gateway_traffic').selectAll().where('model', '=', model).where('environment', '=', environment).executeTakeFirst();
    },
    async allTraffic(): Promise<TrafficRow[]> {
      return db.selectFrom('gateway_traffic').selectAll().orderBy('model').orderBy('environment').execute();
    },
    async putTraffic(row: TrafficRow): Promise<void> {
      await db
        .insertInto('gateway_traffic')
        .values(row)
        .onConflict((oc) => oc.columns(['model', 'environment']).doUpdateSet({ body: row.body, updated_at: row.updated_at, updated_by: row.updated_by }))
        .execute();
    },
    async deleteTraffic(model: string, environment: string): Promise<boolean> {
      const r = await db.deleteFrom('gateway_traffic').where('model', '=', model).where('environment', '=', environment).executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },

    async modelSettings(): Promise<GatewayModelRow[]> {
      return db.selectFrom('gateway_models').selectAll().execute();
    },
    async putModelSettings(row: GatewayModelRow): Promise<void> {
      await db
        .insertInto('gateway_models')
        .values(row)
        .onConflict((oc) => oc.column('model').doUpdateSet({ cache: row.cache, updated_at: row.updated_at, updated_by: row.updated_by }))
        .execute();
    },

    /** Records a batch as received; false when it was already (a replay). */
    async claimBatch(row: Selectable<UsageBatchesTable>): Promise<boolean> {
      const r = await db
        .insertInto('gateway_usage_batches')
        .values(row)
        .onConflict((oc) => oc.columns(['gateway', 'batch']).doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
    },
    async insertUsage(rows: readonly UsageRow[]): Promise<void> {
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) await db.insertInto('gateway_usage').values(rows.slice(i, i + INSERT_CHUNK)).execute();
    },
    /** The newest usage row answered under this request id. */
    async usageByRequest(requestId: string): Promise<UsageRow | undefined> {
      return db.selectFrom('gateway_usage').selectAll().where('request_id', '=', requestId).orderBy('at', 'desc').limit(1).executeTakeFirst();
    },
    /** Deletes usage rows (and batch receipts) older than `before`; answers the rows deleted. */
    async pruneUsage(before: string): Promise<number> {
      const r = await db.deleteFrom('gateway_usage').where('at', '<', before).executeTakeFirst();
      await db.deleteFrom('gateway_usage_batches').where('received_at', '<', before).execute();
      return Number(r.numDeletedRows);
    },
    /** Requests, tokens and metered cost per (deployment, group): what the cost report shares GPU-hour cost by. */
    async tokensByDeployment(group: keyof typeof USAGE_GROUP_COLUMN, f: UsageFilter) {
      const groupExpr = sql<string | null>`${sql.ref(USAGE_GROUP_COLUMN[group])}`;
      let s = db
        .selectFrom('gateway_usage')
        .select([
          'deployment',
          groupExpr.as('grp'),
          sql<number>`count(*)`.as('requests'),
          sql<number>`sum(input_tokens)`.as('input_tokens'),
          sql<number>`sum(output_tokens)`.as('output_tokens'),
          sql<number>`sum(cost_usd)`.as('cost_usd'),
        ]);
      if (f.since) s = s.where('at', '>=', f.since);
      if (f.until) s = s.where('at', '<', f.until);
      if (f.model) s = s.where('model', '=', f.model);
      if (f.namespace) s = s.where('namespace', '=', f.namespace);
      if (f.namespaces) s = s.where('namespace', 'in', f.namespaces.length ? [...f.namespaces] : ['\u0000']);
      return s.groupBy(['deployment', groupExpr]).execute();
    },
    /**
     * The newest usage rows of a model (optionally one environment, deployment, version, shadow
     * flag) since a time, at most `limit`: the raw material of a rollout's analysis window.
     */
    async usageWindow(q: { model: string; environment?: string; deployment?: string; version?: string; shadow?: boolean; since: string; limit: number }) {
      let s = db
        .selectFrom('gateway_usage')
        .select(['status', 'latency_ms', 'ttft_ms', 'output_tokens', 'upstream_errors'])
        .where('model', '=', q.model)
        .where('at', '>=', q.since);
      if (q.environment !== undefined) s = s.where('environment', '=', q.environment);
      if (q.deployment !== undefined) s = s.where('deployment', '=', q.deployment);
      if (q.version !== undefined) s = s.where('version', '=', q.version);
      if (q.shadow !== undefined) s = s.where('shadow', '=', q.shadow ? 1 : 0);
      return s.orderBy('at', 'desc').limit(q.limit).execute();
    },
    /** Usage aggregated in SQL, one row per group. */
    async aggregate(group: keyof typeof USAGE_GROUP_COLUMN | 'version', f: UsageFilter) {
      const groupExpr = group === 'version' ? sql<string | null>`model || '@' || version` : sql<string | null>`${sql.ref(USAGE_GROUP_COLUMN[group])}`;
      let s = db
        .selectFrom('gateway_usage')
        .select([
          groupExpr.as('grp'),
          sql<number>`count(*)`.as('requests'),
          sql<number>`sum(case when status >= 400 then 1 else 0 end)`.as('errors'),
          sql<number>`sum(input_tokens)`.as('input_tokens'),
          sql<number>`sum(output_tokens)`.as('output_tokens'),
          sql<number>`sum(cost_usd)`.as('cost_usd'),
          sql<number | null>`avg(latency_ms)`.as('latency_avg'),
          sql<number | null>`avg(ttft_ms)`.as('ttft_avg'),
        ]);
      if (f.since) s = s.where('at', '>=', f.since);
      if (f.until) s = s.where('at', '<', f.until);
      if (f.model) s = s.where('model', '=', f.model);
      if (f.key) s = s.where('key_id', '=', f.key);
      if (f.namespace) s = s.where('namespace', '=', f.namespace);
      if (f.namespaces) s = s.where('namespace', 'in', f.namespaces.length ? [...f.namespaces] : ['\u0000']);
      return s.groupBy(groupExpr).orderBy(sql`sum(cost_usd)`, 'desc').orderBy(groupExpr).execute();
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
export type GatewayRepo = ReturnType<typeof createGatewayRepo>;

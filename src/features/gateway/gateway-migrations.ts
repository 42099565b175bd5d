/**
 * Tables of the gateway's control-plane side: API keys (only the secret's sha256), traffic
 * splits and model settings (what the route-table snapshot compiles), usage records reported by
 * gateways, and the batches already received (so a retried batch is counted once). The request id
 * and refusal flag of a usage row came with monitoring (feedback names a request; drift counts refusals).
 */
import type { StewardMigration } from '../../platform/sql/sql-migrations.js';

export const gatewayMigrations: StewardMigration[] = [
  {
    name: '0021_gateway',
    async up(db) {
      await db.schema
        .createTable('gateway_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('namespace', 'text')
        .addColumn('models', 'text')
        .addColumn('default_environment', 'text', (c) => c.notNull())
        .addColumn('rpm', 'bigint')
        .addColumn('tpm', 'bigint')
        .addColumn('budget_usd', 'double precision')
        .addColumn('spent_usd', 'double precision', (c) => c.notNull().defaultTo(0))
        .addColumn('hash', 'text', (c) => c.notNull().unique())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text')
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema.createIndex('gateway_keys_created_idx').on('gateway_keys').columns(['created_at', 'id']).execute();
      await db.schema
        .createTable('gateway_traffic')
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('gateway_traffic_pk', ['model', 'environment'])
        .execute();
      await db.schema
        .createTable('gateway_models')
        .addColumn('model', 'text', (c) => c.primaryKey())
        .addColumn('cache', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('gateway_usage_batches')
        .addColumn('gateway', 'text', (c) => c.notNull())
        .addColumn('batch', 'bigint', (c) => c.notNull())
        .addColumn('records', 'integer', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('gateway_usage_batches_pk', ['gateway', 'batch'])
        .execute();
      await db.schema
        .createTable('gateway_usage')
        .addColumn('gateway', 'text', (c) => c.notNull())
        .addColumn('batch', 'bigint', (c) => c.notNull())
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text')
        .addColumn('namespace', 'text')
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('version', 'text')
        .addColumn('deployment', 'text')
        .addColumn('environment', 'text')
        .addColumn('endpoint', 'text', (c) => c.notNull())
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('stream', 'integer', (c) => c.notNull())
        .addColumn('shadow', 'integer', (c) => c.notNull())
        .addColumn('cached', 'integer', (c) => c.notNull())
        .addColumn('latency_ms', 'double precision', (c) => c.notNull())
        .addColumn('ttft_ms', 'double precision')
        .addColumn('input_tokens', 'bigint', (c) => c.notNull())
        .addColumn('output_tokens', 'bigint', (c) => c.notNull())
        .addColumn('cost_usd', 'double precision', (c) => c.notNull())
        .addPrimaryKeyConstraint('gateway_usage_pk', ['gateway', 'batch', 'idx'])
        .execute();
      await db.schema.createIndex('gateway_usage_at_idx').on('gateway_usage').columns(['at']).execute();
      await db.schema.createIndex('gateway_usage_key_idx').on('gateway_usage').columns(['key_id', 'at']).execute();
      await db.schema.createIndex('gateway_usage_model_idx').on('gateway_usage').columns(['model', 'at']).execute();
    },
  },
  {
    name: '0022_gateway_usage_request',
    async up(db) {
      await db.schema.alterTable('gateway_usage').addColumn('request_id', 'text').execute();
      await db.schema.alterTable('gateway_usage').addColumn('refusal', 'integer').execute();
      await db.schema.createIndex('gateway_usage_request_idx').on('gateway_usage').columns(['request_id']).execute();
    },
  },
  {
    // Rollouts judge a deployment by the attempts that failed on it, retried or not.
    name: '0024_gateway_upstream_errors',
    async up(db) {
      await db.schema.alterTable('gateway_usage').addColumn('upstream_errors', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.createIndex('gateway_usage_deployment_idx').on('gateway_usage').columns(['deployment', 'at']).execute();
    },
  },
];

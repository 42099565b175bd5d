/**
 * Tables of monitoring: rollups of gateway usage (one row per bucket and dimensions, minute rows
 * folded into hour rows as they age), service-level objectives and the burn-rate alerts firing
 * now, the last drift level seen per model and environment, and feedback on requests.
 */
import type { CreateTableBuilder } from 'kysely';
import type { StewardMigration } from '../../platform/sql/sql-migrations.js';
import { DIM_COLUMNS, VALUE_COLUMNS } from './monitoring-fns.js';

/** Sums of latency, TTFT and cost are fractional; every other value column is a count. */
const FRACTIONAL = new Set(['latency_sum', 'ttft_sum', 'cost_usd']);

export const monitoringMigrations: StewardMigration[] = [
  {
    name: '0022_monitoring',
    async up(db) {
      // Columns named from the rollup's definition (monitoring-fns): one list, not restated here.
      let t = db.schema
        .createTable('monitoring_rollups')
        .addColumn('bucket', 'text', (c) => c.notNull())
        .addColumn('step', 'integer', (c) => c.notNull()) as unknown as CreateTableBuilder<'monitoring_rollups', string>;
      for (const d of DIM_COLUMNS) t = t.addColumn(d, d === 'shadow' ? 'integer' : 'text', (c) => c.notNull());
      for (const v of VALUE_COLUMNS) t = t.addColumn(v, FRACTIONAL.has(v) ? 'double precision' : 'bigint', (c) => c.notNull().defaultTo(0));
      await t.addPrimaryKeyConstraint('monitoring_rollups_pk', ['model', 'environment', 'step', 'bucket', 'version', 'deployment', 'key_id', 'namespace', 'shadow']).execute();
      // Downsampling and the /metrics export read by step and bucket across models.
      await db.schema.createIndex('monitoring_rollups_bucket_idx').on('monitoring_rollups').columns(['step', 'bucket']).execute();

      await db.schema
        .createTable('monitoring_slos')
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('namespace', 'text')
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('monitoring_slos_pk', ['model', 'environment'])
        .execute();
      await db.schema
        .createTable('monitoring_slo_alerts')
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('slo', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('since', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('monitoring_slo_alerts_pk', ['model', 'environment', 'slo'])
        .execute();
      await db.schema
        .createTable('monitoring_drift')
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('level', 'text', (c) => c.notNull())
        .addColumn('checked_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('monitoring_drift_pk', ['model', 'environment'])
        .execute();
      await db.schema
        .createTable('monitoring_feedback')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('version', 'text')
        .addColumn('environment', 'text')
        .addColumn('namespace', 'text')
        .addColumn('thumbs', 'text')
        .addColumn('score', 'double precision')
        .addColumn('comment', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('monitoring_feedback_model_idx').on('monitoring_feedback').columns(['model', 'version']).execute();
    },
  },
];

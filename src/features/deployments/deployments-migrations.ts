/**
 * Tables of deployments: the desired state (spec, replica count, stopped or not) and each
 * replica's observed state (the process, its port, its health). The pid and URL of a local
 * replica outlive the control plane: after a restart, reconciliation adopts what still serves.
 */
import type { StewardMigration } from '../../platform/sql/sql-migrations.js';

export const deploymentsMigrations: StewardMigration[] = [
  {
    name: '0019_deployments',
    async up(db) {
      await db.schema
        .createTable('deployments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('namespace', 'text')
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('runtime', 'text', (c) => c.notNull())
        .addColumn('driver', 'text', (c) => c.notNull())
        .addColumn('replicas', 'integer', (c) => c.notNull())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('stop_requested', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('error', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('deployments_created_idx').on('deployments').columns(['created_at', 'id']).execute();
      await db.schema.createIndex('deployments_state_idx').on('deployments').columns(['state']).execute();
      await db.schema
        .createTable('deployment_replicas')
        .addColumn('deployment_id', 'text', (c) => c.notNull().references('deployments.id').onDelete('cascade'))
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('pid', 'integer')
        .addColumn('port', 'integer')
        .addColumn('url', 'text')
        .addColumn('restarts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_error', 'text')
        .addColumn('version', 'text')
        .addColumn('started_at', 'text')
        .addColumn('since', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('deployment_replicas_pk', ['deployment_id', 'idx'])
        .execute();
    },
  },
];

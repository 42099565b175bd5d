/**
 * Tables of rollouts: one row per rollout (its plan, current step, state and last analysis) and
 * its timeline (every step, analysis verdict and state change with its evidence). At most one
 * rollout per model and environment is unfinished (a partial unique index): a second one is
 * refused, naming the first.
 */
import { sql } from 'kysely';
import type { StewardMigration } from '../../platform/sql/sql-migrations.js';

export const rolloutsMigrations: StewardMigration[] = [
  {
    name: '0024_rollouts',
    async up(db) {
      await db.schema
        .createTable('rollouts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('namespace', 'text')
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('strategy', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('stable_version', 'text', (c) => c.notNull())
        .addColumn('stable_deployment', 'text', (c) => c.notNull())
        .addColumn('candidate_version', 'text', (c) => c.notNull())
        .addColumn('candidate_deployment', 'text')
        .addColumn('candidate_created', 'integer', (c) => c.notNull())
        .addColumn('promotion_id', 'text')
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('steps', 'text', (c) => c.notNull())
        .addColumn('step', 'integer', (c) => c.notNull())
        .addColumn('step_started_at', 'text')
        .addColumn('last_analysis', 'text')
        .addColumn('report', 'text')
        .addColumn('previous_traffic', 'text')
        .addColumn('log_seq', 'integer', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .execute();
      // One unfinished rollout per model and environment: a concurrent second one is refused.
      await sql`create unique index rollouts_open_uq on rollouts (model, environment) where state in ('pending', 'running', 'paused')`.execute(db);
      await db.schema.createIndex('rollouts_created_idx').on('rollouts').columns(['created_at', 'id']).execute();
      await db.schema
        .createTable('rollout_log')
        .addColumn('rollout_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('step', 'integer')
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('rollout_log_pk', ['rollout_id', 'seq'])
        .execute();
    },
  },
];

/**
 * Tables of evaluations: runs (one model version against one suite version, with the claim a
 * runner holds on it) and per-case results. Versions are referenced by name and number, not by
 * row id: versions are immutable and never renamed, and a run outlives nothing it points at.
 * Runs execute as jobs (`0009_jobs_table`): an upgraded database gets a job for each run that
 * was waiting or executing under the scheduler the job runner replaced.
 */
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { StewardMigration } from '../../platform/sql/sql-migrations.js';
import type { JobsTable } from '../jobs/jobs-repo.js';
import { EVAL_RUN_JOB, EVAL_RUN_MAX_ATTEMPTS, evalRunKey } from './evals-run-job.js';

export const evalsMigrations: StewardMigration[] = [
  {
    name: '0006_evals_runs',
    async up(db) {
      await db.schema
        .createTable('eval_runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('suite_name', 'text', (c) => c.notNull())
        .addColumn('suite_version', 'text', (c) => c.notNull())
        .addColumn('suite_namespace', 'text')
        .addColumn('model_name', 'text', (c) => c.notNull())
        .addColumn('model_version', 'text', (c) => c.notNull())
        .addColumn('model_namespace', 'text')
        .addColumn('endpoint_url', 'text', (c) => c.notNull())
        .addColumn('endpoint_model', 'text', (c) => c.notNull())
        .addColumn('endpoint_auth', 'integer', (c) => c.notNull())
        .addColumn('judge', 'text')
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('total', 'integer', (c) => c.notNull())
        .addColumn('done', 'integer', (c) => c.notNull())
        .addColumn('failed', 'integer', (c) => c.notNull())
        .addColumn('summary', 'text')
        .addColumn('error', 'text')
        .addColumn('labels', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .addColumn('lease_owner', 'text')
        .addColumn('lease_expires_at', 'text')
        .execute();
      await db.schema.createIndex('eval_runs_model_idx').on('eval_runs').columns(['model_name', 'model_version', 'created_at']).execute();
      await db.schema.createIndex('eval_runs_suite_idx').on('eval_runs').columns(['suite_name', 'suite_version', 'created_at']).execute();
      await db.schema.createIndex('eval_runs_created_idx').on('eval_runs').columns(['created_at', 'id']).execute();
      await db.schema.createIndex('eval_runs_state_idx').on('eval_runs').columns(['state', 'lease_expires_at']).execute();
      await db.schema
        .createTable('eval_results')
        .addColumn('run_id', 'text', (c) => c.notNull().references('eval_runs.id').onDelete('cascade'))
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('case_id', 'text', (c) => c.notNull())
        .addColumn('ok', 'integer', (c) => c.notNull())
        .addColumn('flagged', 'integer', (c) => c.notNull())
        .addColumn('output', 'text')
        .addColumn('error', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('latency_ms', 'double precision')
        .addColumn('ttft_ms', 'double precision')
        .addColumn('input_tokens', 'integer')
        .addColumn('output_tokens', 'integer')
        .addColumn('scores', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('eval_results_pk', ['run_id', 'idx'])
        .execute();
    },
  },
  {
    name: '0010_evals_jobs',
    async up(db) {
      const k = db as unknown as Kysely<{ eval_runs: { id: string; state: string; created_at: string }; jobs: JobsTable }>;
      const runs = await k.selectFrom('eval_runs').select(['id', 'created_at']).where('state', 'in', ['queued', 'running']).orderBy('created_at').execute();
      for (const r of runs) {
        // Due since the run was created: the first scan after the upgrade picks them up.
        await k
          .insertInto('jobs')
          .values({
            id: `job_${randomBytes(12).toString('base64url')}`,
            kind: EVAL_RUN_JOB,
            key: evalRunKey(r.id),
            payload: JSON.stringify({ runId: r.id }),
            state: 'queued',
            attempts: 0,
            max_attempts: EVAL_RUN_MAX_ATTEMPTS,
            run_after: r.created_at,
            lease_owner: null,
            lease_expires_at: null,
            last_error: null,
            created_at: r.created_at,
            updated_at: r.created_at,
            finished_at: null,
          })
          .execute();
      }
    },
  },
  {
    // Who a run executes for, so that what it reads is checked again when it executes. Runs from
    // before have no token to recheck: a run whose model and suite are both in namespaces is held
    // to those (all a limited token could have started; an unrestricted one's run that reads
    // elsewhere fails with the reason and runs again once resumed), one naming a bare name, which
    // only an unrestricted token reaches, stays unrestricted.
    name: '0011_evals_run_scope',
    async up(db) {
      await db.schema.alterTable('eval_runs').addColumn('scope_token_id', 'text').execute();
      await db.schema.alterTable('eval_runs').addColumn('scope_namespaces', 'text').execute();
      // Namespaces are name segments (letters, digits, ".", "_", "-"): no quoting needed in the JSON.
      await sql`
        update eval_runs set scope_namespaces = case
          when model_namespace = suite_namespace then '["' || model_namespace || '"]'
          else '["' || model_namespace || '","' || suite_namespace || '"]' end
        where model_namespace is not null and suite_namespace is not null`.execute(db);
    },
  },
];

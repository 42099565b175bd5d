import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type SqlDatabase } from '../../platform/sql/sql-db.js';
import { migrate } from '../../platform/sql/sql-migrations.js';
import { jobsMigrations } from '../jobs/jobs-migrations.js';
import { evalsMigrations } from './evals-migrations.js';

let db: SqlDatabase | null = null;
afterEach(async () => {
  await db?.close();
  db = null;
});

describe('0010_evals_jobs', () => {
  it('gives every run left queued or running by the scheduler a job on upgrade, and no other run', async () => {
    db = await openDatabase({ kind: 'sqlite', path: ':memory:' });
    // The database as the scheduler left it: runs table only.
    await migrate(db, evalsMigrations.filter((m) => m.name < '0009'));
    const states = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'];
    for (const [i, state] of states.entries()) {
      await sql`insert into eval_runs (id, suite_name, suite_version, model_name, model_version, endpoint_url, endpoint_model, endpoint_auth, spec, settings, state, total, done, failed, labels, created_at)
        values (${`run_${state}`}, 's', '1.0.0', 'm', '1.0.0', 'http://127.0.0.1:9/v1', 'm', 0, '{}', '{}', ${state}, 1, 0, 0, '{}', ${`2030-01-01T00:00:0${i}.000Z`})`.execute(db.db);
    }
    expect(await migrate(db, [...jobsMigrations, ...evalsMigrations.filter((m) => m.name < '0011')])).toEqual(['0009_jobs_table', '0010_evals_jobs']);
    const { rows } = await sql<{ kind: string; key: string; payload: string; state: string; attempts: number; run_after: string }>`select kind, key, payload, state, attempts, run_after from jobs order by key`.execute(db.db);
    expect(rows).toEqual([
      { kind: 'eval.run', key: 'eval-run:run_queued', payload: '{"runId":"run_queued"}', state: 'queued', attempts: 0, run_after: '2030-01-01T00:00:00.000Z' },
      { kind: 'eval.run', key: 'eval-run:run_running', payload: '{"runId":"run_running"}', state: 'queued', attempts: 0, run_after: '2030-01-01T00:00:01.000Z' },
    ]);
  });
});

describe('0011_evals_run_scope', () => {
  it('holds a run from before to the namespaces of its model and suite when both have one, and leaves bare-name runs unrestricted', async () => {
    db = await openDatabase({ kind: 'sqlite', path: ':memory:' });
    await migrate(db, [...jobsMigrations, ...evalsMigrations.filter((m) => m.name < '0011')]);
    const runs: [string, string | null, string | null][] = [
      ['same', 'teama', 'teama'],
      ['cross', 'teama', 'teamb'],
      ['bare-model', null, 'teama'],
      ['bare-both', null, null],
    ];
    for (const [id, m, s] of runs) {
      await sql`insert into eval_runs (id, suite_name, suite_version, suite_namespace, model_name, model_version, model_namespace, endpoint_url, endpoint_model, endpoint_auth, spec, settings, state, total, done, failed, labels, created_at)
        values (${id}, 's', '1.0.0', ${s}, 'm', '1.0.0', ${m}, 'http://127.0.0.1:9/v1', 'm', 0, '{}', '{}', 'queued', 1, 0, 0, '{}', '2030-01-01T00:00:00.000Z')`.execute(db.db);
    }
    expect(await migrate(db, [...jobsMigrations, ...evalsMigrations])).toEqual(['0011_evals_run_scope']);
    const { rows } = await sql<{ id: string; scope_token_id: string | null; scope_namespaces: string | null }>`select id, scope_token_id, scope_namespaces from eval_runs order by id`.execute(db.db);
    expect(Object.fromEntries(rows.map((r) => [r.id, r.scope_namespaces === null ? null : JSON.parse(r.scope_namespaces)]))).toEqual({
      same: ['teama'],
      cross: ['teama', 'teamb'],
      'bare-model': null,
      'bare-both': null,
    });
    expect(rows.every((r) => r.scope_token_id === null)).toBe(true);
  });
});

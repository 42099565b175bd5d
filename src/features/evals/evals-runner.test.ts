import { afterEach, describe, expect, it } from 'vitest';
import { EvalSuiteSpec } from '../../contracts/evals.js';
import { systemClock } from '../../platform/clock.js';
import { createLogger } from '../../platform/log.js';
import { openDatabase, type SqlDatabase } from '../../platform/sql/sql-db.js';
import { migrate } from '../../platform/sql/sql-migrations.js';
import { jobsMigrations } from '../jobs/jobs-migrations.js';
import { evalsMigrations } from './evals-migrations.js';
import { createEvalsRepo, type EvalRunsTable } from './evals-repo.js';
import { executeRun, type RunnerDeps } from './evals-runner.js';
import { checkSuiteSpec } from './evals-service.js';

let sql: SqlDatabase | null = null;
afterEach(async () => {
  await sql?.close();
  sql = null;
});

const spec = EvalSuiteSpec.parse({ metrics: [{ metric: 'exact_match' }] });

function runRow(id: string): EvalRunsTable {
  const now = new Date().toISOString();
  return {
    id, suite_name: 's', suite_version: '1.0.0', suite_namespace: null, model_name: 'm', model_version: '1.0.0', model_namespace: null,
    endpoint_url: 'http://127.0.0.1:9/v1', endpoint_model: 'm', endpoint_auth: 0, judge: null, spec: JSON.stringify(spec),
    settings: JSON.stringify({ concurrency: 2, timeoutMs: 1000, retries: 0, limit: null, bootstrapResamples: 10 }),
    state: 'queued', total: 1, done: 0, failed: 0, summary: null, error: null, labels: '{}', created_at: now, created_by: null,
    started_at: null, finished_at: null, lease_owner: null, lease_expires_at: null, scope_token_id: null, scope_namespaces: null,
  };
}

describe('executeRun', () => {
  it('fails the run, audited once, when the suite cannot be read at run time', async () => {
    sql = await openDatabase({ kind: 'sqlite', path: ':memory:' });
    await migrate(sql, [...jobsMigrations, ...evalsMigrations]);
    const repo = createEvalsRepo(sql.db, sql.dialect);
    await repo.insertRun(runRow('run_x'));
    expect(await repo.takeOver('run_x', 'me', new Date().toISOString(), new Date(Date.now() + 60_000).toISOString())).toBe(true);
    const finished: string[] = [];
    const deps: RunnerDeps = {
      repo,
      clock: systemClock,
      log: createLogger({ level: 'silent' }),
      settings: { leaseSeconds: 60, retryBaseMs: 0 },
      scopeOf: async () => null,
    loadCases: async () => {
        throw new Error('blob 3f… is gone');
      },
      render: async () => [],
      metricsOf: (s) => checkSuiteSpec(s, 'spec').metrics,
      onFinished: async (_tx, run, state, _summary, error) => {
        finished.push(`${run.id} ${state} ${error}`);
      },
    };
    await executeRun(deps, 'run_x', 'me', {}, new AbortController().signal);
    const row = await repo.getRun('run_x');
    expect(row).toMatchObject({ state: 'failed', error: "cannot read the suite's cases: blob 3f… is gone", lease_owner: null, done: 0, failed: 0 });
    expect(row!.finished_at).not.toBeNull();
    expect(finished).toEqual(["run_x failed cannot read the suite's cases: blob 3f… is gone"]);
  });

  it('a take-over fences the previous holder: its heartbeat and its final write change nothing', async () => {
    sql = await openDatabase({ kind: 'sqlite', path: ':memory:' });
    await migrate(sql, [...jobsMigrations, ...evalsMigrations]);
    const repo = createEvalsRepo(sql.db, sql.dialect);
    await repo.insertRun(runRow('run_y'));
    const now = new Date().toISOString();
    const until = new Date(Date.now() + 60_000).toISOString();
    expect(await repo.takeOver('run_y', 'old', now, until)).toBe(true);
    // The job's lease is what makes an execution the only one: the take-over does not wait for the run's lease.
    expect(await repo.takeOver('run_y', 'new', now, until)).toBe(true);
    expect(await repo.heartbeat('run_y', 'old', until, 5, 0)).toBe(false);
    expect(await repo.setState('run_y', { state: 'succeeded' }, { owner: 'old', states: ['running'] })).toBe(false);
    expect(await repo.heartbeat('run_y', 'new', until, 1, 0)).toBe(true);
    expect(await repo.getRun('run_y')).toMatchObject({ state: 'running', lease_owner: 'new', done: 1 });
    // A finished run is not taken again.
    expect(await repo.setState('run_y', { state: 'cancelled' })).toBe(true);
    expect(await repo.takeOver('run_y', 'later', now, until)).toBe(false);
  });
});

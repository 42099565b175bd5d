import { afterEach, describe, expect, it } from 'vitest';
import { EvalSuiteSpec } from '../../contracts/evals.js';
import { createLogger } from '../../platform/log.js';
import { openDatabase, type SqlDatabase } from '../../platform/sql/sql-db.js';
import { migrate } from '../../platform/sql/sql-migrations.js';
import { jobsMigrations } from '../jobs/jobs-migrations.js';
import { createJobsService, type JobsService } from '../jobs/jobs-service.js';
import { evalsMigrations } from './evals-migrations.js';
import { createEvalsRepo, type EvalRunsTable, type EvalsRepo, type RunRow } from './evals-repo.js';
import { EVAL_RUN_JOB, EVAL_RUN_MAX_ATTEMPTS, evalRunJob, evalRunKey, MISSING_KEY_ERROR } from './evals-run-job.js';
import type { RunKeys, RunnerDeps } from './evals-runner.js';
import { checkSuiteSpec } from './evals-service.js';

const silent = createLogger({ level: 'silent' });
const spec = EvalSuiteSpec.parse({ metrics: [{ metric: 'exact_match' }] });

let sql: SqlDatabase | null = null;
let jobs: JobsService | null = null;
afterEach(async () => {
  await jobs?.stop();
  await sql?.close();
  jobs = null;
  sql = null;
});

function runRow(id: string, auth: boolean): EvalRunsTable {
  return {
    id, suite_name: 's', suite_version: '1.0.0', suite_namespace: null, model_name: 'm', model_version: '1.0.0', model_namespace: null,
    endpoint_url: 'http://127.0.0.1:9/v1', endpoint_model: 'm', endpoint_auth: auth ? 1 : 0, judge: null, spec: JSON.stringify(spec),
    settings: JSON.stringify({ concurrency: 1, timeoutMs: 1000, retries: 0, limit: null, bootstrapResamples: 10 }),
    state: 'queued', total: 1, done: 0, failed: 0, summary: null, error: null, labels: '{}', created_at: '2030-01-01T00:00:00.000Z', created_by: null,
    started_at: null, finished_at: null, lease_owner: null, lease_expires_at: null, scope_token_id: null, scope_namespaces: null,
  };
}

async function setup(runnerRepo: (repo: EvalsRepo) => EvalsRepo = (r) => r, onLoad: (run: RunRow) => Promise<void> = async () => undefined) {
  sql = await openDatabase({ kind: 'sqlite', path: ':memory:' });
  await migrate(sql, [...jobsMigrations, ...evalsMigrations]);
  const repo = createEvalsRepo(sql.db, sql.dialect);
  let t = Date.parse('2030-01-01T00:00:00.000Z');
  const clock = { now: () => new Date(t) };
  const finished: string[] = [];
  const keys = new Map<string, RunKeys>();
  const runner: RunnerDeps = {
    repo: runnerRepo(repo),
    clock,
    log: silent,
    settings: { leaseSeconds: 30, retryBaseMs: 0 },
    scopeOf: async () => null,
    loadCases: async (run) => {
      await onLoad(run);
      return [];
    },
    render: async () => [],
    metricsOf: (s) => checkSuiteSpec(s, 'spec').metrics,
    onFinished: async (_tx, run, state, _summary, error) => void finished.push(`${run.id} ${state} ${error}`),
  };
  jobs = createJobsService({ db: sql.db, dialect: sql.dialect, clock, log: silent, settings: { leaseSeconds: 30, pollIntervalMs: 3_600_000 } });
  jobs.register(evalRunJob({ repo, clock, keys, settings: { leaseSeconds: 30, maxActiveRuns: 2 }, runner }));
  jobs.start();
  const enqueue = async (runId: string) => {
    const { id } = await jobs!.enqueue(sql!.db, { kind: EVAL_RUN_JOB, key: evalRunKey(runId), payload: { runId } });
    jobs!.poke();
    return id;
  };
  return { repo, jobs, keys, finished, enqueue, advance: (ms: number) => (t += ms) };
}

async function waitFor<T>(probe: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const end = Date.now() + 10_000;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the eval.run job', () => {
  it('interrupts a run whose API key this replica does not hold, and finishes the job', async () => {
    const s = await setup();
    await s.repo.insertRun(runRow('run_k', true));
    const job = await s.enqueue('run_k');
    const run = await waitFor(() => s.repo.getRun('run_k'), (r) => r!.state === 'interrupted');
    expect(run).toMatchObject({ error: MISSING_KEY_ERROR, lease_owner: null });
    expect(await waitFor(() => s.jobs.get(job), (j) => j.state === 'succeeded')).toMatchObject({ attempts: 1 });
  });

  it('runs a run with its key, holding the run with the job execution as owner', async () => {
    const owners: [string | null, string | null][] = [];
    const s = await setup(undefined, async (run) => void owners.push([run.lease_owner, (await s.jobs.list({ state: 'running', limit: 5 })).items[0]?.leaseOwner ?? null]));
    await s.repo.insertRun(runRow('run_ok', true));
    s.keys.set('run_ok', { apiKey: 'sk-x' });
    await s.enqueue('run_ok');
    const run = await waitFor(() => s.repo.getRun('run_ok'), (r) => r!.state === 'succeeded');
    expect(run).toMatchObject({ lease_owner: null, done: 0 });
    expect(s.finished).toEqual(['run_ok succeeded null']);
    expect(owners).toHaveLength(1);
    expect(owners[0]![0]).not.toBeNull();
    expect(owners[0]![0]).toBe(owners[0]![1]);
    // The key is dropped once the run is over.
    expect(s.keys.has('run_ok')).toBe(false);
  });

  it('retries a runner error, and fails the run (audited) when the job gives up', async () => {
    const s = await setup((repo) => ({ ...repo, succeededIndexes: () => Promise.reject(new Error('database unreachable')) }));
    await s.repo.insertRun(runRow('run_err', false));
    const job = await s.enqueue('run_err');
    for (let attempt = 1; attempt < EVAL_RUN_MAX_ATTEMPTS; attempt++) {
      await waitFor(() => s.jobs.get(job), (j) => j.attempts === attempt && j.state === 'queued');
      expect((await s.repo.getRun('run_err'))!.state).toBe('running');
      s.advance(3_600_000);
      s.jobs.poke();
    }
    const failed = await waitFor(() => s.jobs.get(job), (j) => j.state === 'failed');
    expect(failed).toMatchObject({ attempts: EVAL_RUN_MAX_ATTEMPTS, lastError: 'database unreachable' });
    expect(await s.repo.getRun('run_err')).toMatchObject({ state: 'failed', error: 'runner error: database unreachable', lease_owner: null });
    expect(s.finished).toEqual(['run_err failed runner error: database unreachable']);
  });

  it('a resumed run waits for its cancelled execution on this replica to finish before it starts', async () => {
    const loads: string[] = [];
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((r) => (releaseFirst = r));
    const s = await setup(undefined, async (run) => {
      loads.push(run.lease_owner!);
      if (loads.length === 1) await firstHeld;
    });
    await s.repo.insertRun(runRow('run_r', false));
    await s.enqueue('run_r');
    await waitFor(async () => loads.length, (n) => n === 1);
    // Cancel and resume, as the service does: the first execution is still writing.
    await s.repo.setState('run_r', { state: 'cancelled', lease_owner: null });
    await s.jobs.cancel(sql!.db, { key: evalRunKey('run_r') });
    await s.repo.setState('run_r', { state: 'queued' });
    await s.enqueue('run_r');
    await new Promise((r) => setTimeout(r, 100));
    expect(loads).toHaveLength(1);
    releaseFirst();
    await waitFor(() => s.repo.getRun('run_r'), (r) => r!.state === 'succeeded');
    expect(loads).toHaveLength(2);
    expect(loads[1]).not.toBe(loads[0]);
  });

  it('does nothing for a run that is no longer queued or running', async () => {
    const s = await setup();
    await s.repo.insertRun({ ...runRow('run_c', false), state: 'cancelled' });
    const job = await s.enqueue('run_c');
    await waitFor(() => s.jobs.get(job), (j) => j.state === 'succeeded');
    expect(await s.repo.getRun('run_c')).toMatchObject({ state: 'cancelled', started_at: null });
    expect(s.finished).toEqual([]);
  });
});

/**
 * The `eval.run` job kind: one evaluation run executed by the job runner, which gives a run one
 * execution at a time across replicas and takes it over when its replica dies. The handler
 * checks that this replica holds the run's API keys (held in memory only: a run that needs one
 * it lacks becomes `interrupted` until resumed with the key), then takes the run's own lease
 * with the job's owner token and runs it: the runner's heartbeats are fenced by that token, so
 * an older execution of the run stops at its next batch.
 */
import { addSeconds, iso, type Clock } from '../../platform/clock.js';
import type { AnyDb } from '../../platform/sql/sql-db.js';
import type { JobContext, JobKind } from '../jobs/jobs-service.js';
import type { EvalsRepo } from './evals-repo.js';
import { executeRun, type JudgeSettings, type RunKeys, type RunnerDeps } from './evals-runner.js';

export const EVAL_RUN_JOB = 'eval.run';
/** Executions of a run that ended in a runner error (a database outage) before the run fails. */
export const EVAL_RUN_MAX_ATTEMPTS = 5;
/** One unfinished job per run. */
export const evalRunKey = (runId: string): string => `eval-run:${runId}`;

export interface EvalRunPayload {
  runId: string;
}

export const MISSING_KEY_ERROR =
  'this run needs its endpoint API key again (keys are never stored): resume it with `steward eval resume RUN` and STEWARD_ENDPOINT_API_KEY set';

export function evalRunJob(deps: {
  repo: Pick<EvalsRepo, 'getRun' | 'setState' | 'takeOver' | 'transaction'>;
  clock: Clock;
  /** API keys of runs, by run id, given at create or resume on this replica. */
  keys: Map<string, RunKeys>;
  settings: { leaseSeconds: number; maxActiveRuns: number };
  runner: RunnerDeps;
}): JobKind<EvalRunPayload> {
  const { repo, clock, keys, settings } = deps;

  async function failRun(runId: string, owner: string, error: string): Promise<void> {
    await repo.transaction(async (r, trx) => {
      const run = await r.getRun(runId);
      const patch = { state: 'failed', error, finished_at: iso(clock.now()), lease_owner: null, lease_expires_at: null } as const;
      if (run && (await r.setState(runId, patch, { owner, states: ['running'] }))) {
        await deps.runner.onFinished(trx as unknown as AnyDb, { ...run, ...patch }, 'failed', null, error);
      }
    });
  }

  /** Executions of runs on this replica, by run id. */
  const local = new Map<string, Promise<void>>();

  async function runOnce(ctx: JobContext<EvalRunPayload>): Promise<void> {
    const { runId } = ctx.payload;
    const run = await repo.getRun(runId);
    // Finished, cancelled or interrupted meanwhile: nothing left to do.
    if (!run || (run.state !== 'queued' && run.state !== 'running')) return;
    const k = keys.get(runId) ?? {};
    const judgeAuth = run.judge ? (JSON.parse(run.judge) as JudgeSettings).auth : false;
    if ((run.endpoint_auth === 1 && !k.apiKey) || (judgeAuth && !k.judgeApiKey)) {
      const stopped = await repo.setState(runId, { state: 'interrupted', lease_owner: null, lease_expires_at: null, error: MISSING_KEY_ERROR }, { states: [run.state] });
      if (stopped) ctx.log.warn({ run: runId }, 'eval run interrupted: its API key is not held by this replica');
      return;
    }
    // Unconditional: the job's lease already makes this the only execution that should run it.
    const now = clock.now();
    if (!(await repo.takeOver(runId, ctx.owner, iso(now), iso(addSeconds(now, settings.leaseSeconds))))) return;
    ctx.log.info({ run: runId, attempt: ctx.attempt }, 'eval run started');
    try {
      await executeRun(deps.runner, runId, ctx.owner, k, ctx.signal);
    } catch (err) {
      // The job retries the run (answered cases are kept); once it gives up, the run fails with it.
      if (ctx.attempt >= EVAL_RUN_MAX_ATTEMPTS) await failRun(runId, ctx.owner, `runner error: ${(err as Error).message}`);
      throw err;
    }
    // Dropped once the run is over; kept after a shutdown or a cancel (a resume here needs them).
    const after = await repo.getRun(runId);
    if (after?.state === 'succeeded' || after?.state === 'failed') keys.delete(runId);
  }

  return {
    kind: EVAL_RUN_JOB,
    maxAttempts: EVAL_RUN_MAX_ATTEMPTS,
    concurrency: settings.maxActiveRuns,
    leaseSeconds: settings.leaseSeconds,
    async run(ctx) {
      const { runId } = ctx.payload;
      // An earlier execution of the run here (cancelled, then resumed: another job) may still be
      // writing its last answers; reading the answered cases before it has would ask them again.
      await local.get(runId)?.catch(() => undefined);
      const execution = runOnce(ctx);
      local.set(runId, execution);
      try {
        await execution;
      } finally {
        if (local.get(runId) === execution) local.delete(runId);
      }
    },
  };
}
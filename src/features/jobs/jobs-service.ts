/**
 * The one job runner: slow or retryable work of every feature, kept in the `jobs` table so it
 * survives restarts and N replicas share it. A job is enqueued in the caller's transaction (it
 * exists exactly when the change that asked for it commits), claimed by one replica under a
 * lease the runner renews, retried with backoff until its attempts run out, and taken over by
 * another replica when its lease expires (its replica died: that attempt counts).
 *
 * The rule it enforces: at most one execution holds a job at a time, and every write an
 * execution makes is fenced by its `owner` token. An execution that lost its job (cancelled,
 * taken over) sees its signal abort at the next renewal and can change nothing of the job;
 * features pass `owner` on as the fencing token of their own rows.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { z } from 'zod';
import type { JobResponse, ListJobsQuery } from '../../contracts/jobs.js';
import { addSeconds, iso, type Clock } from '../../platform/clock.js';
import { decodeCursor, encodeCursor } from '../../platform/cursor.js';
import { AppError } from '../../platform/errors.js';
import type { Logger } from '../../platform/log.js';
import type { AnyDb, Dialect } from '../../platform/sql/sql-db.js';
import { backoffMs, errorText, jobView } from './jobs-fns.js';
import { createJobsRepo, type JobRow, type JobsTable } from './jobs-repo.js';

export interface JobContext<P> {
  id: string;
  kind: string;
  key: string | null;
  payload: P;
  /** 1 for the first execution; an execution lost with its replica counts too. */
  attempt: number;
  /** fencing token of this execution */
  owner: string;
  /** Aborts with a `JobAbortedError`: shutdown, cancelled, or lost to another replica. */
  signal: AbortSignal;
  log: Logger;
}

export interface JobKind<P> {
  /** e.g. 'eval.run' */
  kind: string;
  /** Executions of this kind at once on one replica; default 1. */
  concurrency?: number;
  /** Executions before the job fails; default 5. */
  maxAttempts?: number;
  /** How long a claim lasts without renewal; default from the settings. */
  leaseSeconds?: number;
  /** Delay before retry n: baseMs × 2^(n-1), capped at maxMs, with jitter. */
  backoff?: { baseMs: number; maxMs: number };
  /**
   * Resolve: succeeded. Throw: retried, or failed at once for a `JobFailedError`. Runs at least
   * once, so it is idempotent; it returns soon after `signal` aborts (`stop()` waits for it).
   */
  run(ctx: JobContext<P>): Promise<void>;
}

export interface JobsSettings {
  /** Lease of a kind that sets none. */
  leaseSeconds: number;
  /** How often the runner looks for work it was not poked about (see config `jobPollIntervalMs`). */
  pollIntervalMs: number;
}

/** Thrown by a handler to fail the job at once, without retrying. */
export class JobFailedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JobFailedError';
  }
}
export const finalError = (message: string, options?: { cause?: unknown }): JobFailedError => new JobFailedError(message, options);

/** Why an execution's signal aborted. */
export type JobStopReason = 'shutdown' | 'cancelled' | 'lost';
export class JobAbortedError extends Error {
  constructor(readonly reason: JobStopReason) {
    super(reason === 'shutdown' ? 'shutdown' : reason === 'cancelled' ? 'the job was cancelled' : 'the job was taken over by another execution');
    this.name = 'JobAbortedError';
  }
}

const DEFAULT_MAX_ATTEMPTS = 5;
/** First retry after about a second; a job failing for hours retries every ten minutes at most. */
const DEFAULT_BACKOFF = { baseMs: 1000, maxMs: 10 * 60 * 1000 };

interface Execution {
  id: string;
  kind: string;
  owner: string;
  leaseSeconds: number;
  ctl: AbortController;
  done: Promise<void>;
}

/** Runs `fn` one call at a time; a trigger during a call runs it once more afterwards. */
function serialised(fn: () => Promise<void>, onError: (err: unknown) => void) {
  let running: Promise<void> | null = null;
  let again = false;
  const trigger = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = fn()
      .catch(onError)
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          trigger();
        }
      });
  };
  const idle = async (): Promise<void> => {
    while (running) await running;
  };
  return { trigger, idle };
}

export function createJobsService(deps: { db: AnyDb; dialect: Dialect; clock: Clock; log: Logger; settings: JobsSettings }) {
  const { clock, log, settings } = deps;
  const repo = createJobsRepo(deps.db, deps.dialect);
  const replica = `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const kinds = new Map<string, JobKind<unknown>>();
  const executions = new Map<string, Execution>();
  /** Jobs executing here that were cancelled: the next lease check aborts them. */
  const cancelling = new Set<string>();
  const timers: NodeJS.Timeout[] = [];
  let started = false;
  let stopped = false;
  let stopping: Promise<void> | null = null;

  const leaseOf = (def: JobKind<unknown>) => def.leaseSeconds ?? settings.leaseSeconds;
  const countOf = (kind: string) => {
    let n = 0;
    for (const e of executions.values()) if (e.kind === kind) n++;
    return n;
  };

  const scanner = serialised(scan, (err) => log.error({ err }, 'job scan failed'));

  async function releaseDeadLocalOwners(): Promise<void> {
    const host = `${os.hostname()}:`;
    for (const owner of await repo.runningOwners(host)) {
      const pid = Number(owner.slice(host.length).split(':')[0]);
      if (!Number.isInteger(pid) || pid === process.pid) continue;
      let alive = true;
      try {
        process.kill(pid, 0);
      } catch (err) {
        alive = (err as NodeJS.ErrnoException).code === 'EPERM';
      }
      if (!alive) await repo.expireLeases(owner, iso(clock.now()));
    }
    scanner.trigger();
  }
  const leases = serialised(checkLeases, (err) => log.error({ err }, 'job lease check failed'));

  async function scan(): Promise<void> {
    for (const def of kinds.values()) {
      if (stopped) return;
      const free = (def.concurrency ?? 1) - countOf(def.kind);
      if (free <= 0) continue;
      const now = clock.now();
      // One token per claim: a later claim of the same job, even here, is another execution.
      const owner = `${replica}:${randomBytes(4).toString('hex')}`;
      const rows = await repo.claim(def.kind, owner, iso(now), iso(addSeconds(now, leaseOf(def))), free);
      for (const row of rows) launch(def, row, owner);
    }
  }

  function launch(def: JobKind<unknown>, row: JobRow, owner: string): void {
    // Our own earlier execution whose lease ran out (renewals could not keep up): it lost the job.
    executions.get(row.id)?.ctl.abort(new JobAbortedError('lost'));
    if (row.attempts > row.max_attempts) {
      // Taken over after its last attempt was lost with its replica: nothing left to try.
      const now = iso(clock.now());
      const lastError = `its last execution was lost (lease expired after attempt ${row.max_attempts} of ${row.max_attempts})`;
      repo.settle(row.id, owner, { state: 'failed', last_error: lastError, finished_at: now, updated_at: now }).catch((err: unknown) => log.error({ err, job: row.id }, 'job failure not recorded'));
      log.warn({ job: row.id, kind: row.kind }, 'job failed: lost with its replica after its last attempt');
      return;
    }
    const ctl = new AbortController();
    const exec: Execution = { id: row.id, kind: def.kind, owner, leaseSeconds: leaseOf(def), ctl, done: Promise.resolve() };
    const ctx: JobContext<unknown> = {
      id: row.id,
      kind: row.kind,
      key: row.key,
      payload: JSON.parse(row.payload) as unknown,
      attempt: row.attempts,
      owner,
      signal: ctl.signal,
      log: log.child({ job: row.id, kind: row.kind }),
    };
    exec.done = execute(def, ctx, row.max_attempts)
      .catch((err: unknown) => log.error({ err, job: row.id }, 'job outcome not recorded'))
      .finally(() => {
        if (executions.get(row.id) === exec) {
          executions.delete(row.id);
          cancelling.delete(row.id);
        }
        if (!stopped) scanner.trigger();
      });
    executions.set(row.id, exec);
  }

  async function execute(def: JobKind<unknown>, ctx: JobContext<unknown>, maxAttempts: number): Promise<void> {
    let failure: unknown = null;
    let ok = false;
    try {
      await def.run(ctx);
      ok = true;
    } catch (err) {
      failure = err;
    }
    const now = clock.now();
    const at = iso(now);
    const reason: unknown = ctx.signal.aborted ? ctx.signal.reason : null;
    if (reason instanceof JobAbortedError) {
      // Shutdown: whatever the handler returned, the job goes back to the queue (a handler
      // interrupted half-way may resolve), and the interrupted attempt does not count.
      if (reason.reason === 'shutdown' && (await repo.release(ctx.id, ctx.owner, at))) ctx.log.info('job released at shutdown');
      // Cancelled or lost: the job is no longer this execution's to record.
      return;
    }
    if (ok) {
      await repo.settle(ctx.id, ctx.owner, { state: 'succeeded', finished_at: at, updated_at: at });
      return;
    }
    const message = errorText(failure);
    if (failure instanceof JobFailedError || ctx.attempt >= maxAttempts) {
      if (await repo.settle(ctx.id, ctx.owner, { state: 'failed', last_error: message, finished_at: at, updated_at: at })) {
        ctx.log.warn({ err: failure, attempt: ctx.attempt }, 'job failed');
      }
      return;
    }
    const delay = backoffMs(ctx.attempt, def.backoff ?? DEFAULT_BACKOFF);
    if (await repo.settle(ctx.id, ctx.owner, { state: 'queued', last_error: message, run_after: iso(new Date(now.getTime() + delay)), updated_at: at })) {
      ctx.log.info({ err: failure, attempt: ctx.attempt, retryInMs: delay }, 'job attempt failed; retry scheduled');
      // The poll would find it too; this runs the retry on time when nothing else is queued.
      setTimeout(() => !stopped && scanner.trigger(), delay).unref();
    }
  }

  /** Renews the lease of every execution here; one that no longer holds its job is aborted. */
  async function checkLeases(): Promise<void> {
    for (const e of [...executions.values()]) {
      try {
        const now = clock.now();
        if (await repo.renew(e.id, e.owner, iso(addSeconds(now, e.leaseSeconds)), iso(now))) continue;
        if (e.ctl.signal.aborted) continue;
        const row = await repo.get(e.id);
        e.ctl.abort(new JobAbortedError(row?.state === 'cancelled' ? 'cancelled' : 'lost'));
        log.info({ job: e.id, state: row?.state }, 'job execution stopped: it no longer holds the job');
      } catch (err) {
        // The next renewal tries again; the others of this round still get theirs.
        log.error({ err, job: e.id }, 'job lease renewal failed');
      }
    }
  }

  return {
    /** Declares a kind this replica runs; before `start()`. */
    register<P>(def: JobKind<P>): void {
      if (started) throw new Error(`job kind ${def.kind} registered after the runner started`);
      if (kinds.has(def.kind)) throw new Error(`job kind ${def.kind} registered twice`);
      kinds.set(def.kind, def as JobKind<unknown>);
    },

    /**
     * Adds a job in the caller's transaction (`tx`; the root handle for none). A key dedups
     * against an unfinished job holding it: then `created` is false and its id comes back.
     * Call `poke()` once the transaction commits to run it here at once.
     */
    async enqueue<P>(tx: AnyDb, job: { kind: string; payload: P; key?: string; runAfter?: Date; maxAttempts?: number }): Promise<{ id: string; created: boolean }> {
      const payload = JSON.stringify(job.payload);
      if (payload === undefined) throw new Error(`job ${job.kind}: the payload must be JSON`);
      const maxAttempts = job.maxAttempts ?? kinds.get(job.kind)?.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
      if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new Error(`job ${job.kind}: maxAttempts must be a positive integer`);
      const now = iso(clock.now());
      const row: JobsTable = {
        id: `job_${randomBytes(12).toString('base64url')}`,
        kind: job.kind,
        key: job.key ?? null,
        payload,
        state: 'queued',
        attempts: 0,
        max_attempts: maxAttempts,
        run_after: job.runAfter ? iso(job.runAfter) : now,
        lease_owner: null,
        lease_expires_at: null,
        last_error: null,
        created_at: now,
        updated_at: now,
        finished_at: null,
      };
      return repo.insert(tx, row);
    },

    /**
     * Cancels an unfinished job in the caller's transaction; false when none matched. A running
     * execution sees it at its next lease renewal: at once on this replica once the transaction
     * commits (then `poke()`), within a third of the lease on another.
     */
    async cancel(tx: AnyDb, by: { id: string } | { key: string }): Promise<boolean> {
      const id = await repo.cancel(tx, by, iso(clock.now()));
      if (id && executions.has(id)) {
        cancelling.add(id);
        // On SQLite this waits for the caller's transaction (one connection); else `poke()` does it.
        setImmediate(() => !stopped && leases.trigger());
      }
      return id !== null;
    },

    async get(id: string): Promise<JobResponse> {
      const row = await repo.get(id);
      if (!row) throw new AppError('not_found', `job ${JSON.stringify(id)} not found; list jobs with GET /api/v1/jobs`, { job: id });
      return jobView(row);
    },

    async list(q: z.output<typeof ListJobsQuery>): Promise<{ items: JobResponse[]; nextCursor: string | null }> {
      const after = q.cursor ? (decodeCursor(q.cursor, 2) as [string, string]) : undefined;
      const rows = await repo.list({ ...(q.kind ? { kind: q.kind } : {}), ...(q.state ? { state: q.state } : {}), ...(after ? { after } : {}), limit: q.limit + 1 });
      const items = rows.slice(0, q.limit);
      const last = items[items.length - 1];
      return { items: items.map(jobView), nextCursor: rows.length > q.limit && last ? encodeCursor([last.created_at, last.id]) : null };
    },

    /** Something was enqueued or cancelled and committed: look for work (and lost jobs) now. */
    poke(): void {
      if (!started || stopped) return;
      scanner.trigger();
      if (cancelling.size) leases.trigger();
    },

    start(): void {
      if (started) return;
      started = true;
      // Jobs an earlier process on this host held when it died (a crash, SIGKILL): their leases
      // would otherwise run out only after `leaseSeconds`; its pid says it is gone, so now.
      void releaseDeadLocalOwners().catch((err: unknown) => log.error({ err }, 'releasing the jobs of a dead process failed'));
      const minLease = Math.min(settings.leaseSeconds, ...[...kinds.values()].map(leaseOf));
      timers.push(setInterval(() => scanner.trigger(), settings.pollIntervalMs));
      // A third of the lease: two renewals can fail (a slow database) before the lease runs out.
      timers.push(setInterval(() => leases.trigger(), (minLease * 1000) / 3));
      for (const t of timers) t.unref();
      scanner.trigger();
    },

    /** Aborts running executions (reason 'shutdown') and puts their jobs back in the queue without counting the attempt. */
    stop(): Promise<void> {
      return (stopping ??= (async () => {
        stopped = true;
        for (const t of timers) clearInterval(t);
        await scanner.idle();
        await leases.idle();
        const running = [...executions.values()];
        for (const e of running) e.ctl.abort(new JobAbortedError('shutdown'));
        await Promise.all(running.map((e) => e.done));
      })());
    },
  };
}

export type JobsService = ReturnType<typeof createJobsService>;

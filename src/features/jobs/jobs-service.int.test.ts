/**
 * The job runner on both engines: enqueue in the caller's transaction, key dedup, claims shared
 * by two runners on one database, take-over after a lost replica, retries, final errors,
 * cancellation seen by a running execution (here and on another replica), release at shutdown,
 * run_after. Time is a clock the test moves; the runners are poked instead of polling.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/log.js';
import { openDatabase, type SqlDatabase } from '../../platform/sql/sql-db.js';
import { migrate } from '../../platform/sql/sql-migrations.js';
import { jobsMigrations } from './jobs-migrations.js';
import { createJobsService, finalError, JobAbortedError, type JobContext, type JobKind, type JobsService } from './jobs-service.js';

const PG_URL = process.env.STEWARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
type Engine = 'sqlite' | 'postgres';

class TestClock {
  t = Date.parse('2030-01-01T00:00:00.000Z');
  now = () => new Date(this.t);
  advance(ms: number) {
    this.t += ms;
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A fresh database of `engine`; `connect()` opens another connection (another replica) to it. */
async function freshDatabase(engine: Engine): Promise<{ connect(): Promise<SqlDatabase> }> {
  let connect: () => Promise<SqlDatabase>;
  if (engine === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-jobs-'));
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    connect = () => openDatabase({ kind: 'sqlite', path: path.join(dir, 'jobs.db') });
  } else {
    const schema = `jobs_${randomBytes(6).toString('hex')}`;
    cleanups.push(async () => {
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      try {
        await admin.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await admin.end();
      }
    });
    connect = () => openDatabase({ kind: 'postgres', url: PG_URL, schema, poolSize: 4 });
  }
  const opened = async () => {
    const db = await connect();
    // Closed after the runners using it are stopped (cleanups run last in, first out).
    cleanups.push(() => db.close().catch(() => undefined));
    return db;
  };
  await migrate(await opened(), jobsMigrations);
  return { connect: opened };
}

const silent = createLogger({ level: 'silent' });

function runner(db: SqlDatabase, clock: TestClock, leaseSeconds = 30): JobsService {
  // A poll far beyond any test: every scan here is a poke (or a finished execution's rescan).
  const jobs = createJobsService({ db: db.db, dialect: db.dialect, clock, log: silent, settings: { leaseSeconds, pollIntervalMs: 3_600_000 } });
  cleanups.push(() => jobs.stop());
  return jobs;
}

async function waitFor<T>(what: string, probe: () => Promise<T> | T, ok: (v: T) => boolean = Boolean, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A handler that holds its execution until the signal aborts (or `release` is called). */
function holding(kind: string) {
  const started: JobContext<unknown>[] = [];
  const reasons: unknown[] = [];
  const waiters = new Map<string, () => void>();
  const def: JobKind<unknown> = {
    kind,
    async run(ctx) {
      started.push(ctx);
      await new Promise<void>((resolve) => {
        waiters.set(ctx.id, resolve);
        ctx.signal.addEventListener('abort', () => {
          reasons.push(ctx.signal.reason);
          resolve();
        });
      });
    },
  };
  return { def, started, reasons, release: (id: string) => waiters.get(id)?.() };
}

describe.each<Engine>(['sqlite', 'postgres'])('job runner on %s', (engine) => {
  it('enqueues in the caller transaction: a rollback leaves no job', async () => {
    const db = await (await freshDatabase(engine)).connect();
    const jobs = runner(db, new TestClock());
    await expect(
      db.db.transaction().execute(async (trx) => {
        await jobs.enqueue(trx, { kind: 'test.noop', payload: { n: 1 } });
        throw new Error('the change that asked for the job failed');
      }),
    ).rejects.toThrow(/asked for the job failed/);
    expect((await jobs.list({ limit: 50 })).items).toEqual([]);
    const kept = await db.db.transaction().execute((trx) => jobs.enqueue(trx, { kind: 'test.noop', payload: { n: 2 } }));
    expect(kept.created).toBe(true);
    expect(await jobs.get(kept.id)).toMatchObject({ kind: 'test.noop', payload: { n: 2 }, state: 'queued', attempts: 0, maxAttempts: 5, key: null });
  });

  it('dedups by key against an unfinished job only', async () => {
    const db = await (await freshDatabase(engine)).connect();
    const clock = new TestClock();
    const jobs = runner(db, clock);
    const ran: unknown[] = [];
    jobs.register<{ n: number }>({ kind: 'test.keyed', run: async (ctx) => void ran.push(ctx.payload.n) });
    const first = await jobs.enqueue(db.db, { kind: 'test.keyed', key: 'k1', payload: { n: 1 } });
    const again = await db.db.transaction().execute((trx) => jobs.enqueue(trx, { kind: 'test.keyed', key: 'k1', payload: { n: 2 } }));
    expect(again).toEqual({ id: first.id, created: false });
    const other = await jobs.enqueue(db.db, { kind: 'test.keyed', key: 'k2', payload: { n: 3 } });
    expect(other.created).toBe(true);
    jobs.start();
    await waitFor('both keyed jobs to finish', async () => (await jobs.list({ state: 'succeeded', limit: 50 })).items.length, (n) => n === 2);
    expect(ran.sort()).toEqual([1, 3]);
    // Finished: the key is free again.
    const later = await jobs.enqueue(db.db, { kind: 'test.keyed', key: 'k1', payload: { n: 4 } });
    expect(later.created).toBe(true);
    expect(later.id).not.toBe(first.id);
  });

  it('runs a job with its context and records success; lists and reads jobs for the admin', async () => {
    const db = await (await freshDatabase(engine)).connect();
    const clock = new TestClock();
    const jobs = runner(db, clock);
    const seen: { attempt: number; owner: string; leaseOwner: string | null; key: string | null }[] = [];
    jobs.register<{ word: string }>({
      kind: 'test.echo',
      run: async (ctx) => {
        const row = await jobs.get(ctx.id);
        seen.push({ attempt: ctx.attempt, owner: ctx.owner, leaseOwner: row.leaseOwner, key: ctx.key });
      },
    });
    jobs.start();
    const { id } = await jobs.enqueue(db.db, { kind: 'test.echo', key: 'echo-1', payload: { word: 'hi' } });
    jobs.poke();
    const done = await waitFor('the job to succeed', () => jobs.get(id), (j) => j.state === 'succeeded');
    expect(done).toMatchObject({ attempts: 1, leaseOwner: null, leaseExpiresAt: null, lastError: null, finishedAt: new Date(clock.t).toISOString() });
    expect(seen).toEqual([{ attempt: 1, owner: seen[0]!.owner, leaseOwner: seen[0]!.owner, key: 'echo-1' }]);

    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await jobs.enqueue(db.db, { kind: 'test.other', payload: { i } });
    }
    const page1 = await jobs.list({ kind: 'test.other', limit: 2 });
    expect(page1.items.map((j) => j.payload)).toEqual([{ i: 2 }, { i: 1 }]);
    const page2 = await jobs.list({ kind: 'test.other', limit: 2, cursor: page1.nextCursor! });
    expect(page2).toMatchObject({ items: [{ payload: { i: 0 } }], nextCursor: null });
    expect((await jobs.list({ state: 'succeeded', limit: 10 })).items.map((j) => j.id)).toEqual([id]);
    await expect(jobs.get('job_nope')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('two runners on one database never run a job twice at once and share the work', async () => {
    const fresh = await freshDatabase(engine);
    const clock = new TestClock();
    const [dbA, dbB] = [await fresh.connect(), await fresh.connect()];
    const running = new Set<string>();
    const runs = new Map<string, string[]>();
    let overlaps = 0;
    const make = (name: string, db: SqlDatabase) => {
      const jobs = runner(db, clock);
      jobs.register({
        kind: 'test.work',
        concurrency: 3,
        run: async (ctx) => {
          if (running.has(ctx.id)) overlaps++;
          running.add(ctx.id);
          runs.set(ctx.id, [...(runs.get(ctx.id) ?? []), name]);
          await new Promise((r) => setTimeout(r, 5));
          running.delete(ctx.id);
        },
      });
      return jobs;
    };
    const a = make('a', dbA);
    const b = make('b', dbB);
    const n = 40;
    await dbA.db.transaction().execute(async (trx) => {
      for (let i = 0; i < n; i++) await a.enqueue(trx, { kind: 'test.work', payload: { i } });
    });
    a.start();
    b.start();
    await waitFor('all jobs to succeed', async () => (await a.list({ state: 'succeeded', limit: 100 })).items.length, (c) => c === n, 30_000);
    expect(overlaps).toBe(0);
    expect(runs.size).toBe(n);
    expect([...runs.values()].every((r) => r.length === 1)).toBe(true);
    const byRunner = [...runs.values()].flat();
    expect(byRunner.filter((r) => r === 'a').length).toBeGreaterThan(0);
    expect(byRunner.filter((r) => r === 'b').length).toBeGreaterThan(0);
  });

  it('takes over a job whose replica died once its lease expires, counting the lost attempt', async () => {
    const fresh = await freshDatabase(engine);
    const clock = new TestClock();
    const dbA = await fresh.connect();
    const dbB = await fresh.connect();
    const a = runner(dbA, clock);
    const held = holding('test.crash');
    a.register(held.def);
    a.start();
    const { id } = await a.enqueue(dbA.db, { kind: 'test.crash', payload: {} });
    a.poke();
    await waitFor('replica a to run the job', () => held.started.length === 1);

    // Replica a dies: no stop(), no more renewals (its database connection is gone).
    await dbA.close();
    const b = runner(dbB, clock);
    const ranOnB: number[] = [];
    b.register({ kind: 'test.crash', run: async (ctx) => void ranOnB.push(ctx.attempt) });
    b.start();
    // Before the lease runs out, nobody else may take it.
    b.poke();
    await new Promise((r) => setTimeout(r, 100));
    expect(ranOnB).toEqual([]);
    expect(await b.get(id)).toMatchObject({ state: 'running', attempts: 1, leaseOwner: held.started[0]!.owner });

    clock.advance(31_000);
    b.poke();
    const done = await waitFor('replica b to finish the job', () => b.get(id), (j) => j.state === 'succeeded');
    expect(ranOnB).toEqual([2]);
    expect(done.attempts).toBe(2);
  });

  it('fails a job lost with its replica after its last attempt', async () => {
    const fresh = await freshDatabase(engine);
    const clock = new TestClock();
    const dbA = await fresh.connect();
    const a = runner(dbA, clock);
    const held = holding('test.lost');
    a.register(held.def);
    a.start();
    const { id } = await a.enqueue(dbA.db, { kind: 'test.lost', payload: {}, maxAttempts: 1 });
    a.poke();
    await waitFor('replica a to run the job', () => held.started.length === 1);
    await dbA.close();
    const b = runner(await fresh.connect(), clock);
    const ranOnB: number[] = [];
    b.register({ kind: 'test.lost', run: async (ctx) => void ranOnB.push(ctx.attempt) });
    b.start();
    clock.advance(31_000);
    b.poke();
    const failed = await waitFor('the job to fail', () => b.get(id), (j) => j.state === 'failed');
    expect(failed.lastError).toMatch(/lost/);
    expect(ranOnB).toEqual([]);
  });

  it('retries with backoff, then fails with the last error', async () => {
    const db = await (await freshDatabase(engine)).connect();
    const clock = new TestClock();
    const jobs = runner(db, clock);
    const attempts: number[] = [];
    jobs.register({
      kind: 'test.flaky',
      maxAttempts: 3,
      backoff: { baseMs: 1000, maxMs: 1500 },
      run: async (ctx) => {
        attempts.push(ctx.attempt);
        throw new Error(`upstream refused (attempt ${ctx.attempt})`);
      },
    });
    jobs.start();
    const { id } = await jobs.enqueue(db.db, { kind: 'test.flaky', payload: {} });
    jobs.poke();
    let job = await waitFor('the first attempt to fail', () => jobs.get(id), (j) => j.attempts === 1 && j.state === 'queued');
    expect(job.lastError).toBe('upstream refused (attempt 1)');
    const wait1 = Date.parse(job.runAfter) - clock.t;
    expect(wait1).toBeGreaterThanOrEqual(500);
    expect(wait1).toBeLessThanOrEqual(1000);
    // Not due yet: a scan leaves it alone.
    jobs.poke();
    await new Promise((r) => setTimeout(r, 50));
    expect(attempts).toEqual([1]);

    clock.advance(wait1);
    jobs.poke();
    job = await waitFor('the second attempt to fail', () => jobs.get(id), (j) => j.attempts === 2 && j.state === 'queued');
    const wait2 = Date.parse(job.runAfter) - clock.t;
    expect(wait2).toBeGreaterThanOrEqual(750); // the step doubled to 2000, capped at 1500, upper half
    expect(wait2).toBeLessThanOrEqual(1500);

    clock.advance(wait2);
    jobs.poke();
    job = await waitFor('the job to fail', () => jobs.get(id), (j) => j.state === 'failed');
    expect(job).toMatchObject({ attempts: 3, lastError: 'upstream refused (attempt 3)', finishedAt: new Date(clock.t).toISOString(), leaseOwner: null });
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('fails at once on a final error', async () => {
    const db = await (await freshDatabase(engine)).connect();
    const jobs = runner(db, new TestClock());
    let calls = 0;
    jobs.register({
      kind: 'test.final',
      run: async () => {
        calls++;
        throw finalError('the payload names a run that does not exist');
      },
    });
    jobs.start();
    const { id } = await jobs.enqueue(db.db, { kind: 'test.final', payload: {} });
    jobs.poke();
    const job = await waitFor('the job to fail', () => jobs.get(id), (j) => j.state === 'failed');
    expect(job).toMatchObject({ attempts: 1, lastError: 'the payload names a run that does not exist' });
    expect(calls).toBe(1);
  });

  it('cancel aborts a running execution on this replica, and the job stays cancelled', async () => {
    const db = await (await freshDatabase(engine)).connect();
    const jobs = runner(db, new TestClock());
    const held = holding('test.cancel');
    jobs.register(held.def);
    jobs.start();
    const { id } = await jobs.enqueue(db.db, { kind: 'test.cancel', key: 'c-1', payload: {} });
    jobs.poke();
    await waitFor('the job to run', () => held.started.length === 1);
    expect(await db.db.transaction().execute((trx) => jobs.cancel(trx, { key: 'c-1' }))).toBe(true);
    jobs.poke();
    await waitFor('the execution to see the cancel', () => held.reasons.length === 1);
    expect(held.reasons[0]).toBeInstanceOf(JobAbortedError);
    expect((held.reasons[0] as JobAbortedError).reason).toBe('cancelled');
    await new Promise((r) => setTimeout(r, 50));
    expect(await jobs.get(id)).toMatchObject({ state: 'cancelled', leaseOwner: null });
    expect(await jobs.cancel(db.db, { id })).toBe(false);
    expect(await jobs.cancel(db.db, { key: 'c-1' })).toBe(false);
  });

  it('cancel from another replica aborts the execution at its next lease renewal', async () => {
    const fresh = await freshDatabase(engine);
    const clock = new TestClock();
    // A short lease: renewals (a third of it) are the timer this test waits for.
    const a = runner(await fresh.connect(), clock, 0.15);
    const b = runner(await fresh.connect(), clock, 0.15);
    const held = holding('test.remote');
    a.register(held.def);
    a.start();
    const { id } = await a.enqueue(await fresh.connect().then((d) => d.db), { kind: 'test.remote', payload: {} });
    a.poke();
    await waitFor('replica a to run the job', () => held.started.length === 1);
    expect(await b.cancel((await fresh.connect()).db, { id })).toBe(true);
    await waitFor('replica a to see the cancel', () => held.reasons.length === 1);
    expect((held.reasons[0] as JobAbortedError).reason).toBe('cancelled');
    expect(await a.get(id)).toMatchObject({ state: 'cancelled' });
  });

  it('stop() gives running jobs back without counting the attempt, and the next runner resumes them', async () => {
    const fresh = await freshDatabase(engine);
    const clock = new TestClock();
    const a = runner(await fresh.connect(), clock);
    const held = holding('test.resume');
    a.register({ ...held.def, concurrency: 2 });
    a.start();
    const ids = [
      (await a.enqueue((await fresh.connect()).db, { kind: 'test.resume', payload: { n: 1 } })).id,
      (await a.enqueue((await fresh.connect()).db, { kind: 'test.resume', payload: { n: 2 } })).id,
    ];
    a.poke();
    await waitFor('both jobs to run', () => held.started.length === 2);
    await a.stop();
    expect(held.reasons.map((r) => (r as JobAbortedError).reason)).toEqual(['shutdown', 'shutdown']);
    for (const id of ids) expect(await a.get(id)).toMatchObject({ state: 'queued', attempts: 0, leaseOwner: null, leaseExpiresAt: null });

    const b = runner(await fresh.connect(), clock);
    const resumed: number[] = [];
    b.register({ kind: 'test.resume', concurrency: 2, run: async (ctx) => void resumed.push(ctx.attempt) });
    b.start();
    await waitFor('both jobs to finish on the next runner', async () => (await b.list({ state: 'succeeded', limit: 10 })).items.length, (n) => n === 2);
    expect(resumed).toEqual([1, 1]);
  });

  it('honours run_after', async () => {
    const db = await (await freshDatabase(engine)).connect();
    const clock = new TestClock();
    const jobs = runner(db, clock);
    const ran: number[] = [];
    jobs.register({ kind: 'test.later', run: async () => void ran.push(clock.t) });
    jobs.start();
    const { id } = await jobs.enqueue(db.db, { kind: 'test.later', payload: {}, runAfter: new Date(clock.t + 60_000) });
    jobs.poke();
    await new Promise((r) => setTimeout(r, 100));
    expect(ran).toEqual([]);
    expect(await jobs.get(id)).toMatchObject({ state: 'queued', attempts: 0 });
    clock.advance(60_000);
    jobs.poke();
    await waitFor('the job to run when due', () => jobs.get(id), (j) => j.state === 'succeeded');
    expect(ran).toEqual([clock.t]);
  });

  it('refuses to register a kind twice or after start, and a payload that is not JSON', async () => {
    const db = await (await freshDatabase(engine)).connect();
    const jobs = runner(db, new TestClock());
    jobs.register({ kind: 'test.once', run: async () => undefined });
    expect(() => jobs.register({ kind: 'test.once', run: async () => undefined })).toThrow(/twice/);
    jobs.start();
    expect(() => jobs.register({ kind: 'test.late', run: async () => undefined })).toThrow(/after the runner started/);
    await expect(jobs.enqueue(db.db, { kind: 'test.once', payload: undefined })).rejects.toThrow(/payload must be JSON/);
    await expect(jobs.enqueue(db.db, { kind: 'test.once', payload: {}, maxAttempts: 0 })).rejects.toThrow(/maxAttempts/);
  });
});

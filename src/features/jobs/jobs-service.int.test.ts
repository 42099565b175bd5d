/**
 * The job runner on both engines, one replica: enqueue in the caller's transaction, key dedup,
 * retries with backoff, final errors, cancellation of a running execution, run_after, the admin
 * listing. Time is a clock the test moves; the runner is poked instead of polling.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanUp, freshDatabase, holding, runner, TestClock, waitFor, type Engine } from '../../../test/helpers/jobs-fixtures.js';
import { finalError, JobAbortedError } from './jobs-service.js';

afterEach(cleanUp);

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

/**
 * The job runner on both engines, several replicas on one database: claims shared without a job
 * ever running twice at once, take-over after a replica died (its attempt counted), cancellation
 * seen by another replica's execution, and jobs given back at shutdown resumed by the next runner.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanUp, freshDatabase, holding, runner, TestClock, waitFor, type Engine } from '../../../test/helpers/jobs-fixtures.js';
import type { SqlDatabase } from '../../platform/sql/sql-db.js';
import { JobAbortedError } from './jobs-service.js';

afterEach(cleanUp);

describe.each<Engine>(['sqlite', 'postgres'])('job runner replicas on %s', (engine) => {
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

});

/**
 * Fixtures of the job runner tests: a fresh database of either engine (more connections to it
 * play more replicas), a clock the test moves, runners that scan only when poked, and a handler
 * that holds its execution until its signal aborts.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../src/platform/log.js';
import { openDatabase, type SqlDatabase } from '../../src/platform/sql/sql-db.js';
import { migrate } from '../../src/platform/sql/sql-migrations.js';
import { jobsMigrations } from '../../src/features/jobs/jobs-migrations.js';
import { dropSchema, PG_URL } from './test-server.js';
import { createJobsService, type JobContext, type JobKind, type JobsService } from '../../src/features/jobs/jobs-service.js';

export type Engine = 'sqlite' | 'postgres';

export class TestClock {
  t = Date.parse('2030-01-01T00:00:00.000Z');
  now = () => new Date(this.t);
  advance(ms: number) {
    this.t += ms;
  }
}

const cleanups: (() => Promise<void>)[] = [];
/** Stops the runners and closes the databases a test made, last made first (call in afterEach). */
export async function cleanUp(): Promise<void> {
  while (cleanups.length) await cleanups.pop()!();
}

/** A fresh database of `engine`; `connect()` opens another connection (another replica) to it. */
export async function freshDatabase(engine: Engine): Promise<{ connect(): Promise<SqlDatabase> }> {
  let connect: () => Promise<SqlDatabase>;
  if (engine === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-jobs-'));
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    connect = () => openDatabase({ kind: 'sqlite', path: path.join(dir, 'jobs.db') });
  } else {
    const schema = `jobs_${randomBytes(6).toString('hex')}`;
    cleanups.push(() => dropSchema(schema));
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

export const silent = createLogger({ level: 'silent' });

export function runner(db: SqlDatabase, clock: TestClock, leaseSeconds = 30): JobsService {
  // A poll far beyond any test: every scan here is a poke (or a finished execution's rescan).
  const jobs = createJobsService({ db: db.db, dialect: db.dialect, clock, log: silent, settings: { leaseSeconds, pollIntervalMs: 3_600_000 } });
  cleanups.push(() => jobs.stop());
  return jobs;
}

export async function waitFor<T>(what: string, probe: () => Promise<T> | T, ok: (v: T) => boolean = Boolean, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A handler that holds its execution until the signal aborts (or `release` is called). */
export function holding(kind: string) {
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

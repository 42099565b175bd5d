import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { DomainEvent, NewEvent } from '../../contracts/events.js';
import { systemClock } from '../../platform/clock.js';
import { createLogger } from '../../platform/log.js';
import type { AnyDb, SqlDatabase } from '../../platform/sql/sql-db.js';
import { ENGINES, openTestDb, type TestDb } from '../../../test/helpers/test-db.js';
import { eventsMigrations } from './events-migrations.js';
import { createEventsRepo } from './events-repo.js';
import { createEventsService, type EventsService } from './events-service.js';

const log = createLogger({ level: 'silent' });
const ready = (name: string, version = '1.0.0'): NewEvent<'version.ready'> => ({
  type: 'version.ready',
  subject: `model:${name}@${version}`,
  namespace: name.includes('/') ? name.split('/')[0]! : null,
  data: { kind: 'model', name, version, digest: 'sha256:x' },
});

function service(db: SqlDatabase): EventsService {
  return createEventsService({ repo: createEventsRepo(db.db, db.dialect), clock: systemClock, log, settings: { pollMs: 20 } });
}
const inTx = <T>(db: SqlDatabase, fn: (tx: AnyDb) => Promise<T>) => db.db.transaction().execute((trx) => fn(trx as unknown as AnyDb));

describe.each(ENGINES)('domain events on %s', (engine) => {
  let t: TestDb;
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const s of stops.splice(0)) await s();
    await t?.close();
  });
  const open = async () => {
    t = await openTestDb(engine, eventsMigrations);
    return t.sql;
  };

  it('records an event only when its transaction commits, numbered without gaps', async () => {
    const db = await open();
    const ev = service(db);
    await inTx(db, (tx) => ev.emit(tx, ready('a')));
    await expect(
      inTx(db, async (tx) => {
        await ev.emit(tx, ready('rolled-back'));
        throw new Error('change failed');
      }),
    ).rejects.toThrow('change failed');
    await inTx(db, (tx) => ev.emit(tx, ready('b')));
    const page = await ev.read({ after: 0, types: null, prefixes: [], namespaces: null, limit: 10 });
    expect(page.items.map((e) => [e.seq, e.data.name])).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
    expect(page.next).toBe(2);
  });

  it('refuses a payload of the wrong shape at the source', async () => {
    const db = await open();
    const ev = service(db);
    const bad = { ...ready('a'), data: { kind: 'model', name: 'a' } } as unknown as NewEvent<'version.ready'>;
    await expect(inTx(db, (tx) => ev.emit(tx, bad))).rejects.toThrow();
    expect(await ev.head()).toBe(0);
  });

  it('filters by type prefix and namespace, and moves `next` past what the filters hid', async () => {
    const db = await open();
    const ev = service(db);
    await inTx(db, async (tx) => {
      await ev.emit(tx, ready('teama/bot'));
      await ev.emit(tx, ready('teamb/bot'));
      await ev.emit(tx, { type: 'alias.moved', subject: 'model:teama/bot', namespace: 'teama', data: { kind: 'model', name: 'teama/bot', alias: 'champion', version: '1.0.0', previous: null } });
      await ev.emit(tx, ready('bare'));
    });
    const teama = await ev.read({ after: 0, types: null, prefixes: [], namespaces: ['teama'], limit: 10 });
    expect(teama.items.map((e) => e.seq)).toEqual([1, 3]);
    expect(teama.next).toBe(4);
    const aliases = await ev.read({ after: 0, types: null, prefixes: ['alias.'], namespaces: null, limit: 10 });
    expect(aliases.items.map((e) => e.type)).toEqual(['alias.moved']);
    const firstPage = await ev.read({ after: 0, types: ['version.ready'], prefixes: [], namespaces: null, limit: 2 });
    expect(firstPage.items.map((e) => e.seq)).toEqual([1, 2]);
    expect(firstPage.next).toBe(2);
    const nothing = await ev.read({ after: 4, types: null, prefixes: [], namespaces: ['teama'], limit: 10 });
    expect(nothing).toEqual({ items: [], next: 4 });
  });

  it('wakes a long poll when an event commits, and answers empty when the wait runs out', async () => {
    const db = await open();
    const ev = service(db);
    await ev.start();
    stops.push(() => ev.stop());
    const started = Date.now();
    const empty = await ev.read({ after: 0, types: null, prefixes: [], namespaces: null, limit: 10, waitMs: 50 });
    expect(empty.items).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    const waiting = ev.read({ after: 0, types: null, prefixes: [], namespaces: null, limit: 10, waitMs: 10_000 });
    await inTx(db, (tx) => ev.emit(tx, ready('late')));
    const page = await waiting;
    expect(page.items.map((e) => e.data.name)).toEqual(['late']);
  });

  it('delivers to a subscriber in order, again after a failure, and resumes from its stored cursor', async () => {
    const db = await open();
    await inTx(db, (tx) => service(db).emit(tx, ready('before-subscribing')));
    const seen: string[] = [];
    let failOnce = true;
    const first = service(db);
    first.subscribe({
      name: 'recorder',
      types: ['version.ready'],
      async handle(e: DomainEvent) {
        if (e.data.name === 'b' && failOnce) {
          failOnce = false;
          throw new Error('subscriber down');
        }
        seen.push(String(e.data.name));
      },
    });
    await first.start();
    // One transaction, so the three arrive in one batch: the failure rolls back `a` with it.
    await inTx(db, async (tx) => {
      for (const n of ['a', 'b', 'c']) await first.emit(tx, ready(n));
    });
    await expect.poll(() => seen.join(','), { timeout: 5000 }).toBe('a,a,b,c');
    await first.stop();
    expect(await first.cursor('recorder')).toBe(4);

    // A restart delivers only what came after the stored cursor.
    await inTx(db, (tx) => first.emit(tx, ready('d')));
    const second = service(db);
    second.subscribe({ name: 'recorder', types: ['version.ready'], handle: async (e) => void seen.push(String(e.data.name)) });
    await second.start();
    stops.push(() => second.stop());
    await second.drain();
    expect(seen.join(',')).toBe('a,a,b,c,d');
  });

  it('moves the cursor with what the handler wrote, in one transaction', async () => {
    const db = await open();
    await sql`create table reactions (name text primary key)`.execute(db.db);
    const ev = service(db);
    ev.subscribe({
      name: 'reactor',
      types: ['version.ready'],
      async handle(e, tx) {
        await sql`insert into reactions (name) values (${String(e.data.name)})`.execute(tx);
        if (e.data.name === 'poison') throw new Error('cannot react');
      },
    });
    await ev.start();
    stops.push(() => ev.stop());
    await inTx(db, (tx) => ev.emit(tx, ready('fine')));
    await ev.drain();
    await inTx(db, (tx) => ev.emit(tx, ready('poison')));
    await ev.drain();
    const rows = await sql<{ name: string }>`select name from reactions order by name`.execute(db.db);
    // The poisoned batch rolled back with its cursor move: nothing half-done, and it stays due.
    expect(rows.rows.map((r) => r.name)).toEqual(['fine']);
    expect(await ev.cursor('reactor')).toBe(1);
  });

  it.runIf(engine === 'postgres')('lets one replica at a time deliver to a subscriber, each event once', async () => {
    const db = await open();
    await sql`create table deliveries (seq bigint primary key)`.execute(db.db);
    const replicas = [service(db), service(await t.another())];
    for (const r of replicas) {
      r.subscribe({
        name: 'shared',
        types: ['version.ready'],
        // A duplicate delivery would fail on the primary key and show up as a redelivery loop.
        handle: async (e, tx) => void (await sql`insert into deliveries (seq) values (${e.seq})`.execute(tx)),
      });
      await r.start();
      stops.push(() => r.stop());
    }
    for (let i = 0; i < 30; i++) await inTx(db, (tx) => replicas[i % 2]!.emit(tx, ready(`m${i}`)));
    await expect.poll(async () => (await sql<{ n: number }>`select count(*)::int as n from deliveries`.execute(db.db)).rows[0]!.n, { timeout: 5000 }).toBe(30);
    expect(await replicas[0]!.cursor('shared')).toBe(30);
  });
});

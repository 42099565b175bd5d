/**
 * Queries compiled once per shape: later runs bind the new values in the slots' positions,
 * constants the builder wrote stay, and the builder does not run again for a known shape.
 */
import { Kysely, SqliteDialect, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createCompiledCache } from './sql-compiled.js';

interface T {
  t: { id: number; name: string; kind: string };
}
// Compiling needs no connection.
const db = new Kysely<T>({ dialect: new SqliteDialect({ database: async () => ({ prepare: () => ({}) as never, close: () => undefined }) }) });

describe('compiled query cache', () => {
  it('binds each run\'s values in the slots\' positions and keeps the builder\'s constants', () => {
    const cache = createCompiledCache();
    let builds = 0;
    const build = (names: number) => (slot: <V>(n: string) => V) => {
      builds++;
      return db
        .selectFrom('t')
        .select('id')
        .where('kind', '=', 'model')
        .where('name', 'in', Array.from({ length: names }, (_, i) => slot<string>(`name${i}`)))
        .where(sql<boolean>`id > ${slot('after')}`)
        .limit(slot<number>('limit'));
    };
    const a = cache.get('two', build(2), { name0: 'x', name1: 'y', after: 5, limit: 10 });
    expect(a.sql).toBe('select "id" from "t" where "kind" = ? and "name" in (?, ?) and id > ? limit ?');
    expect(a.parameters).toEqual(['model', 'x', 'y', 5, 10]);
    const b = cache.get('two', build(2), { name0: 'p', name1: 'q', after: 7, limit: 3 });
    expect(b.sql).toBe(a.sql);
    expect(b.parameters).toEqual(['model', 'p', 'q', 7, 3]);
    expect(builds).toBe(1);
    const c = cache.get('three', build(3), { name0: 'a', name1: 'b', name2: 'c', after: 0, limit: 1 });
    expect(c.parameters).toEqual(['model', 'a', 'b', 'c', 0, 1]);
    expect(builds).toBe(2);
  });

  it('refuses a run that lacks a slot\'s value instead of binding undefined', () => {
    const cache = createCompiledCache();
    expect(() => cache.get('k', (slot) => db.selectFrom('t').select('id').where('id', '=', slot<number>('id')), {})).toThrow(/no value for slot id/);
  });

  it('keeps at most `max` shapes, least recently used out first', () => {
    const cache = createCompiledCache(2);
    let builds = 0;
    const build = () => {
      builds++;
      return db.selectFrom('t').select('id');
    };
    cache.get('a', build, {});
    cache.get('b', build, {});
    cache.get('a', build, {});
    cache.get('c', build, {}); // evicts b
    cache.get('a', build, {});
    expect(builds).toBe(3);
    cache.get('b', build, {});
    expect(builds).toBe(4);
    expect(cache.size).toBe(2);
  });
});

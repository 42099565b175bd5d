/**
 * Queries built and compiled once per shape, run many times. Building a Kysely query (immutable
 * nodes, copied on every call) and compiling it to SQL was 13% (GET of a version) to 27% (a
 * page of models) of the server's CPU per registry read on SQLite, and a hot read always
 * produces the same SQL text for the same shape. A shape is what decides the text: which filters are
 * present, how many values an IN list has, the sort; the values themselves are bound
 * parameters. The builder receives `slot(name)` placeholders instead of values; once compiled,
 * each parameter position remembers its slot name, and later runs only fill the values in.
 *
 * Rule for builders: a slot may stand only where Kysely binds a value as a parameter (a
 * comparison's right side, an IN list element, `limit`, a `sql` template value) and must not
 * be inspected or transformed in JavaScript; anything that changes the text must be in the key.
 */
import type { CompiledQuery, Compilable } from 'kysely';

/** A placeholder for the parameter named `name`; filled in on every run. */
class Slot {
  constructor(readonly name: string) {}
}

export type SlotFn = <T>(name: string) => T;

const slot: SlotFn = <T>(name: string) => new Slot(name) as unknown as T;

interface Entry {
  query: CompiledQuery;
  /** Per parameter position: the slot name, or the constant the builder bound there. */
  params: readonly (Slot | { value: unknown })[];
}

export interface CompiledCache {
  /**
   * The compiled query of shape `key` with `values` bound. `build` runs only the first time
   * a key is seen (and again after eviction); every slot it uses must be in `values`.
   */
  get<R>(key: string, build: (slot: SlotFn) => Compilable<R>, values: Readonly<Record<string, unknown>>): CompiledQuery<R>;
  readonly size: number;
}

/** At most `max` shapes are kept (least recently used out first): shapes are few; IN lists of every length are not. */
export function createCompiledCache(max = 256): CompiledCache {
  const cache = new Map<string, Entry>();
  return {
    get<R>(key: string, build: (slot: SlotFn) => Compilable<R>, values: Readonly<Record<string, unknown>>): CompiledQuery<R> {
      let entry = cache.get(key);
      if (entry) {
        cache.delete(key);
      } else {
        const query = build(slot).compile() as CompiledQuery;
        entry = { query, params: query.parameters.map((p) => (p instanceof Slot ? p : { value: p })) };
        if (cache.size >= max) cache.delete(cache.keys().next().value as string);
      }
      cache.set(key, entry);
      const parameters = entry.params.map((p) => {
        if (!(p instanceof Slot)) return p.value;
        if (!(p.name in values)) throw new Error(`compiled query ${key}: no value for slot ${p.name}`);
        return values[p.name];
      });
      return { ...entry.query, parameters } as CompiledQuery<R>;
    },
    get size() {
      return cache.size;
    },
  };
}

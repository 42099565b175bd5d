/**
 * The response cache (opt-in per model): exact match on the normalised request of a
 * deterministic (temperature 0), non-streamed call. Keys are the sha256 of the route and the
 * request with its keys sorted; entries live `ttlSeconds` and the cache holds at most
 * `maxEntries` per model (least recently used out first; a Map keeps insertion order).
 */
import { createHash } from 'node:crypto';
import type { Route } from './gateway-table.js';

export interface CachedAnswer {
  body: Buffer;
  version: string;
  deployment: string;
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) if (k !== 'user' && k !== 'stream') out[k] = canonical((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

export function createResponseCache() {
  const byModel = new Map<string, { limit: number; ttlMs: number; entries: Map<string, { answer: CachedAnswer; until: number }> }>();
  const modelOf = (key: string) => byModel.get(key.slice(0, key.lastIndexOf('\n')));
  return {
    keyOf(route: Route, kind: string, body: Record<string, unknown>): string {
      const h = createHash('sha256').update(`${route.model}\u0000${route.environment ?? ''}\u0000${kind}\u0000`).update(JSON.stringify(canonical(body))).digest('hex');
      if (!byModel.has(route.model)) byModel.set(route.model, { limit: route.cache!.maxEntries, ttlMs: route.cache!.ttlSeconds * 1000, entries: new Map() });
      const m = byModel.get(route.model)!;
      m.limit = route.cache!.maxEntries;
      m.ttlMs = route.cache!.ttlSeconds * 1000;
      return `${route.model}\n${h}`;
    },
    get(key: string, now: number): CachedAnswer | null {
      const m = modelOf(key);
      const e = m?.entries.get(key);
      if (!m || !e) return null;
      m.entries.delete(key);
      if (e.until <= now) return null;
      m.entries.set(key, e); // most recently used last
      return e.answer;
    },
    set(key: string, answer: CachedAnswer, now: number): void {
      const m = modelOf(key);
      if (!m) return;
      m.entries.set(key, { answer, until: now + m.ttlMs });
      while (m.entries.size > m.limit) {
        const oldest = m.entries.keys().next().value as string;
        m.entries.delete(oldest);
      }
    },
  };
}

export type ResponseCache = ReturnType<typeof createResponseCache>;

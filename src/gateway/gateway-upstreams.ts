/**
 * Upstream connections and target health. One keep-alive undici Pool per origin. A target
 * (a replica) that fails `ejectAfter` times in a row (connection errors, timeouts, 5xx) is
 * ejected for a cool-down that doubles with each ejection (up to a minute); when the cool-down
 * is over it is half-open: the next request may use it, a success closes it (back in, counters
 * reset), a failure ejects it again. So a replica that comes back is used again, and a dead one
 * costs one request per cool-down rather than one in N.
 */
import { Pool } from 'undici';

export interface EjectionSettings {
  ejectAfter: number;
  ejectBaseMs: number;
  ejectMaxMs: number;
}

interface Health {
  failures: number;
  ejections: number;
  until: number;
}

export function createUpstreams(settings: EjectionSettings & { connectTimeoutMs: number }) {
  const pools = new Map<string, Pool>();
  const health = new Map<string, Health>();

  return {
    pool(origin: string): Pool {
      let p = pools.get(origin);
      if (!p) {
        p = new Pool(origin, { connections: 256, pipelining: 1, keepAliveTimeout: 30_000, connect: { timeout: settings.connectTimeoutMs } });
        pools.set(origin, p);
      }
      return p;
    },
    /** Whether a target may be tried now (not ejected, or its cool-down is over). */
    available(id: string, now: number): boolean {
      const h = health.get(id);
      return !h || h.until <= now;
    },
    /** Milliseconds until the first of these targets is available again. */
    retryAfterMs(ids: readonly string[], now: number): number {
      let min = Infinity;
      for (const id of ids) min = Math.min(min, Math.max(0, (health.get(id)?.until ?? now) - now));
      return Number.isFinite(min) ? min : 0;
    },
    succeeded(id: string): void {
      if (health.has(id)) health.delete(id);
    },
    /** Returns true when this failure ejected the target. */
    failed(id: string, now: number): boolean {
      let h = health.get(id);
      if (!h) health.set(id, (h = { failures: 0, ejections: 0, until: 0 }));
      h.failures++;
      // Half-open (ejected before, cool-down over) fails once: ejected again at once.
      if (h.failures >= settings.ejectAfter || h.ejections > 0) {
        h.until = now + Math.min(settings.ejectMaxMs, settings.ejectBaseMs * 2 ** h.ejections);
        h.ejections++;
        h.failures = 0;
        return true;
      }
      return false;
    },
    async close(): Promise<void> {
      await Promise.all([...pools.values()].map((p) => p.close().catch(() => undefined)));
      pools.clear();
    },
  };
}

export type Upstreams = ReturnType<typeof createUpstreams>;

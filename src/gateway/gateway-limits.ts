/**
 * Limits of gateway keys: requests per minute, tokens per minute and a spend budget.
 *
 * Budgets are reserved at admission and settled from actual usage: a request is admitted only
 * if what has been spent, plus what requests in flight have reserved, plus its own worst case
 * (its input estimate and `max_tokens` at the deployment's prices) stays within the budget. So
 * any number of concurrent requests cannot overspend it: each one's worst case is held until it
 * settles. Minute limits use a sliding window over two fixed minutes (the previous one weighted
 * by how much of it is still inside the window), O(1) per key.
 *
 * This limiter lives in one gateway process. Spend settled here is reported to the control plane
 * (metering) and comes back in snapshots as the key's `spentUsd`; the local figure is never
 * lowered by a snapshot, only raised (spend by other gateways). Several gateways share exact
 * limits through Redis (gateway-limits-redis.ts).
 */
import type { KeyEntry } from './gateway-table.js';

export interface Estimate {
  tokens: number;
  costUsd: number;
}

export type Admission = { ok: true; key: string; reserved: Estimate; minute: number };
export type Refusal = { ok: false; limit: 'rpm' | 'tpm' | 'budget' | 'unavailable'; message: string; retryAfterSeconds: number | null };

export interface Limiter {
  admit(key: KeyEntry, est: Estimate, nowMs: number): Admission | Refusal | Promise<Admission | Refusal>;
  /** The request finished: replace its reservation by what it used. */
  settle(a: Admission, actual: Estimate): void | Promise<void>;
  /** A new snapshot: budgets and spend as the control plane knows them. */
  sync?(keys: readonly { id: string; spentUsd: number }[]): void;
  close?(): Promise<void>;
}

interface Window {
  minute: number;
  current: number;
  previous: number;
}

interface KeyState {
  requests: Window;
  tokens: Window;
  spentUsd: number;
  reservedUsd: number;
}

function roll(w: Window, minute: number): void {
  if (w.minute === minute) return;
  w.previous = w.minute === minute - 1 ? w.current : 0;
  w.current = 0;
  w.minute = minute;
}

/** The window's count at `nowMs`: this minute's, plus the part of the previous minute still inside the last 60 s. */
function windowed(w: Window, nowMs: number): number {
  const into = (nowMs % 60_000) / 60_000;
  return w.current + w.previous * (1 - into);
}

export function createMemoryLimiter(): Limiter {
  const state = new Map<string, KeyState>();
  const stateOf = (key: KeyEntry): KeyState => {
    let s = state.get(key.id);
    if (!s) {
      s = { requests: { minute: 0, current: 0, previous: 0 }, tokens: { minute: 0, current: 0, previous: 0 }, spentUsd: key.spentUsd, reservedUsd: 0 };
      state.set(key.id, s);
    }
    return s;
  };
  return {
    admit(key, est, nowMs) {
      if (key.rpm === null && key.tpm === null && key.budgetUsd === null) return { ok: true, key: key.id, reserved: est, minute: 0 };
      const s = stateOf(key);
      const minute = Math.floor(nowMs / 60_000);
      roll(s.requests, minute);
      roll(s.tokens, minute);
      const retry = Math.ceil((60_000 - (nowMs % 60_000)) / 1000);
      if (key.rpm !== null && windowed(s.requests, nowMs) + 1 > key.rpm) {
        return { ok: false, limit: 'rpm', message: `Rate limit reached for this key: ${key.rpm} requests per minute.`, retryAfterSeconds: retry };
      }
      if (key.tpm !== null && windowed(s.tokens, nowMs) + est.tokens > key.tpm) {
        return { ok: false, limit: 'tpm', message: `Rate limit reached for this key: ${key.tpm} tokens per minute (this request may use up to ${est.tokens}; lower max_tokens or wait).`, retryAfterSeconds: retry };
      }
      if (key.budgetUsd !== null && s.spentUsd + s.reservedUsd + est.costUsd > key.budgetUsd) {
        return {
          ok: false,
          limit: 'budget',
          message: `This key's budget of $${key.budgetUsd} is used up (spent $${s.spentUsd.toFixed(6)}, $${s.reservedUsd.toFixed(6)} reserved by requests in flight; this one may cost up to $${est.costUsd.toFixed(6)}).`,
          retryAfterSeconds: null,
        };
      }
      s.requests.current += 1;
      s.tokens.current += est.tokens;
      s.reservedUsd += est.costUsd;
      return { ok: true, key: key.id, reserved: est, minute };
    },
    settle(a, actual) {
      const s = state.get(a.key);
      if (!s) return;
      s.reservedUsd = Math.max(0, s.reservedUsd - a.reserved.costUsd);
      s.spentUsd += actual.costUsd;
      // Tokens: the reservation becomes what was used, in the minute it was admitted (if still current).
      if (s.tokens.minute === a.minute) s.tokens.current = Math.max(0, s.tokens.current - a.reserved.tokens + actual.tokens);
    },
    sync(keys) {
      for (const k of keys) {
        const s = state.get(k.id);
        if (s && k.spentUsd > s.spentUsd) s.spentUsd = k.spentUsd;
      }
    },
  };
}

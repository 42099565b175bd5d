/**
 * Retries of calls to an OpenAI-compatible upstream: transient failures (see OpenAIError) are
 * tried again after exponential backoff with jitter, or after exactly what the upstream's
 * `Retry-After` asked for; a final failure, or the last transient one, ends the attempts and is
 * returned, not thrown, so a caller can record it against its own unit of work. Only an abort of
 * `signal` throws.
 */
import { OpenAIError } from './openai-errors.js';

/** A backoff never waits longer than this between two attempts. */
const MAX_BACKOFF_MS = 8_000;

/** Delay before retry number `attempt` (1-based): base × 2^(attempt-1), ±50% jitter, capped. */
export function backoffMs(attempt: number, baseMs: number, random = Math.random): number {
  const exp = Math.min(baseMs * 2 ** (attempt - 1), MAX_BACKOFF_MS);
  return Math.round(exp * (0.5 + random()));
}

export interface AttemptOutcome<T> {
  result?: T;
  error?: OpenAIError;
  attempts: number;
}

/** Runs `fn` until it succeeds, fails permanently, or `retries` retries are spent. */
export async function withRetries<T>(fn: () => Promise<T>, opts: { retries: number; baseMs: number; signal: AbortSignal }): Promise<AttemptOutcome<T>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { result: await fn(), attempts: attempt };
    } catch (err) {
      if (opts.signal.aborted) throw err;
      const e = err instanceof OpenAIError ? err : new OpenAIError((err as Error).message ?? String(err), { kind: 'internal', transient: false, cause: err });
      if (!e.transient || attempt > opts.retries) {
        const tail = attempt > 1 ? ` (after ${attempt} attempts)` : '';
        const error = tail ? new OpenAIError(`${e.message}${tail}`, { kind: e.kind, transient: e.transient, status: e.status, upstreamMessage: e.upstreamMessage, retryAfterMs: e.retryAfterMs, cause: e }) : e;
        return { error, attempts: attempt };
      }
      const wait = e.retryAfterMs ?? backoffMs(attempt, opts.baseMs);
      if (wait > 0) await sleep(wait, opts.signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

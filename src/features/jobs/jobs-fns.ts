/** Pure helpers of the job runner: retry delays and the admin view of a row. */
import type { JobResponse, JobState } from '../../contracts/jobs.js';
import type { JobRow } from './jobs-repo.js';

/** Longest error text kept on a job: enough for a message and a cause, not a dump. */
const MAX_ERROR_CHARS = 2000;

/**
 * Delay before the retry that follows failed attempt `attempt` (1-based): base × 2^(attempt-1),
 * capped at `maxMs`, then drawn from its upper half ("equal jitter"), so replicas that failed
 * together do not retry together and no retry comes sooner than half its step.
 */
export function backoffMs(attempt: number, backoff: { baseMs: number; maxMs: number }, random: () => number = Math.random): number {
  const step = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + (random() * step) / 2);
}

export function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message || err.name : String(err);
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}…` : text;
}

export function jobView(r: JobRow): JobResponse {
  return {
    id: r.id,
    kind: r.kind,
    key: r.key,
    payload: JSON.parse(r.payload) as unknown,
    state: r.state as JobState,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    runAfter: r.run_after,
    leaseOwner: r.lease_owner,
    leaseExpiresAt: r.lease_expires_at,
    lastError: r.last_error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
  };
}

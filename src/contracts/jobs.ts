/**
 * Contracts of the job runner's admin listing: one job (kind, state, attempts, lease) and a
 * page of them. Payloads are shown as stored: a job kind never puts a secret in its payload.
 */
import { z } from 'zod';
import { Cursor, Limit, Timestamp } from './common.js';

export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export const JobState = z.enum(JOB_STATES);
export type JobState = z.infer<typeof JobState>;

export const JobResponse = z
  .object({
    id: z.string(),
    kind: z.string().describe('what the job does, e.g. eval.run'),
    key: z.string().nullable().describe('deduplication key: at most one queued or running job holds it'),
    payload: z.unknown(),
    state: JobState,
    attempts: z.number().int().describe('executions started, including one lost with its replica'),
    maxAttempts: z.number().int(),
    runAfter: Timestamp.describe('not claimed before this time (first run, or the next retry)'),
    leaseOwner: z.string().nullable().describe('the execution holding the job while it runs'),
    leaseExpiresAt: Timestamp.nullable().describe('another replica takes the job over after this time'),
    lastError: z.string().nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    finishedAt: Timestamp.nullable(),
  })
  .strict();
export type JobResponse = z.infer<typeof JobResponse>;

export const ListJobsQuery = z
  .object({
    kind: z.string().min(1).max(128).optional(),
    state: JobState.optional(),
    limit: Limit,
    cursor: Cursor,
  })
  .strict();

export const JobParams = z.object({ id: z.string().min(1).max(64) }).strict();

export const JobPage = z.object({ items: z.array(JobResponse), nextCursor: z.string().nullable() }).strict();

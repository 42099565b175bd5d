/** Contracts of the audit feature: the hash-chained event log, its listing and verification. */
import { z } from 'zod';
import { Cursor, Limit, Timestamp } from './common.js';

export const AuditEvent = z
  .object({
    seq: z.number().int().describe('position in the chain, from 1, without gaps'),
    at: Timestamp,
    actor: z.string(),
    tokenId: z.string().nullable(),
    action: z.string().describe('e.g. version.create, alias.set, token.revoke'),
    target: z.string().describe('what changed, e.g. model:acme/bot@1.0.0'),
    requestId: z.string().nullable(),
    clientAddress: z.string().nullable(),
    changeDigest: z.string().describe('sha256 of the canonical JSON of the change'),
    change: z.record(z.string(), z.unknown()),
    prevHash: z.string(),
    hash: z.string(),
  })
  .strict();
export type AuditEvent = z.infer<typeof AuditEvent>;

export const ListAuditQuery = z
  .object({
    actor: z.string().max(128).optional(),
    action: z.string().max(64).optional().describe('exact action, or a prefix with a trailing "*" (e.g. "model.alias.*")'),
    target: z.string().max(300).optional().describe('exact target, or a prefix with a trailing "*" (e.g. "model:acme/bot*")'),
    since: Timestamp.optional(),
    until: Timestamp.optional(),
    order: z.enum(['asc', 'desc']).default('desc'),
    limit: Limit,
    cursor: Cursor,
  })
  .strict();

export const AuditPage = z.object({ items: z.array(AuditEvent), nextCursor: z.string().nullable() }).strict();

export const AuditVerifyResponse = z
  .object({
    ok: z.boolean(),
    events: z.number().int().describe('events checked'),
    head: z.string().nullable().describe('hash of the last event'),
    firstBad: z
      .object({ seq: z.number().int(), problem: z.string() })
      .strict()
      .nullable()
      .describe('the first event that breaks the chain, and how'),
    checkpoint: z
      .object({
        seq: z.number().int().describe('events the checkpoint vouches for'),
        at: Timestamp,
        keyId: z.string().describe('the signing key: first 16 hex digits of the sha256 of its public key'),
        location: z.string().describe('where the checkpoints are kept (file: or s3://)'),
      })
      .strict()
      .nullable()
      .describe('the latest signed checkpoint the chain was compared with; null when none exists yet (a log rewound or wiped is then not detected)'),
    ms: z.number(),
  })
  .strict();
export type AuditVerifyResponse = z.infer<typeof AuditVerifyResponse>;

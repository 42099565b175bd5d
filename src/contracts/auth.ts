/** Contracts of the auth feature: roles, API tokens. */
import { z } from 'zod';
import { Timestamp } from './common.js';

export const ROLES = ['viewer', 'developer', 'approver', 'admin'] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

/** `30d`, `12h`, `90m`, `3600s`: a token's lifetime. */
export const Duration = z
  .string()
  .regex(/^\d+[smhdw]$/, 'durations look like 90m, 12h, 30d or 2w')
  .transform((v) => Number(v.slice(0, -1)) * { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[v.slice(-1) as 's']);

export const CreateTokenBody = z
  .object({
    name: z.string().min(1).max(64).regex(/^[A-Za-z0-9._@-]+$/, 'token names hold letters, digits, ".", "_", "@" and "-"'),
    role: Role,
    namespaces: z.array(z.string().min(1).max(64)).max(100).optional().describe('limit the token to these namespaces'),
    expiresIn: Duration.optional(),
  })
  .strict();

export const TokenResponse = z
  .object({
    id: z.string(),
    name: z.string(),
    role: Role,
    namespaces: z.array(z.string()).nullable(),
    prefix: z.string().describe('first characters of the secret, to recognise it'),
    createdAt: Timestamp,
    createdBy: z.string().nullable(),
    expiresAt: Timestamp.nullable(),
    revokedAt: Timestamp.nullable(),
    lastUsedAt: Timestamp.nullable(),
  })
  .strict();
export type TokenResponse = z.infer<typeof TokenResponse>;

export const CreatedTokenResponse = TokenResponse.extend({ token: z.string().describe('the secret: shown once, never again') }).strict();
export const TokenList = z.object({ items: z.array(TokenResponse) }).strict();
export const WhoAmI = z.object({ name: z.string(), role: z.string(), namespaces: z.array(z.string()).nullable(), tokenId: z.string().nullable() }).strict();

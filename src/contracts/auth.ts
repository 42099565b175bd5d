/** Contracts of the auth feature: roles, API tokens. */
import { z } from 'zod';
import { Timestamp } from './common.js';

/** `gateway`: a data-plane replica's token (reads the route-table snapshot, reports usage; nothing else). */
export const ROLES = ['viewer', 'developer', 'approver', 'admin', 'gateway'] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 } as const;
/** The longest lifetime a token may be given as a duration (ten years); beyond it, say `never`. */
export const MAX_TOKEN_LIFETIME_SECONDS = 3650 * 86400;
/** What a token lives when its creator names no lifetime: a forgotten token does not live forever. */
export const DEFAULT_TOKEN_LIFETIME = '90d';

/**
 * A token's lifetime: `90m`, `12h`, `30d`, `2w` (to seconds), or `never` (null). A lifetime of
 * zero or past ten years is refused rather than read as "no expiry": that must be asked for.
 */
export const TokenLifetime = z
  .string()
  .regex(/^(never|\d{1,15}[smhdw])$/, 'lifetimes look like 90m, 12h, 30d or 2w, or "never" for a token that does not expire')
  .transform((v, ctx) => {
    if (v === 'never') return null;
    const seconds = Number(v.slice(0, -1)) * UNIT_SECONDS[v.slice(-1) as keyof typeof UNIT_SECONDS];
    if (seconds > 0 && seconds <= MAX_TOKEN_LIFETIME_SECONDS) return seconds;
    ctx.addIssue({
      code: 'custom',
      message: `${seconds <= 0 ? 'a lifetime must be longer than zero' : 'a lifetime is at most 3650d (ten years)'}; for a token that does not expire, say "never"`,
    });
    return z.NEVER;
  });

export const CreateTokenBody = z
  .object({
    name: z.string().min(1).max(64).regex(/^[A-Za-z0-9._@-]+$/, 'token names hold letters, digits, ".", "_", "@" and "-"'),
    role: Role,
    namespaces: z.array(z.string().min(1).max(64)).max(100).optional().describe('limit the token to these namespaces'),
    expiresIn: TokenLifetime.prefault(DEFAULT_TOKEN_LIFETIME).describe(`lifetime: 90m, 12h, 30d, 2w, or "never" (default ${DEFAULT_TOKEN_LIFETIME})`),
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
export const WhoAmI = z
  .object({
    name: z.string(),
    role: z.string(),
    namespaces: z.array(z.string()).nullable(),
    tokenId: z.string().nullable(),
    permissions: z.array(z.string()).describe("what the role allows (the endpoints' `permission`): a client hides what the token cannot do"),
  })
  .strict();

/**
 * Pure rules of auth: which role holds which permission, how secrets look and are hashed.
 * Secrets are 32 random bytes; only their sha256 is stored (a fast hash is right for
 * high-entropy secrets: there is nothing to brute-force).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role } from '../../contracts/auth.js';
import type { Permission } from '../../platform/http/http-route.js';

export const ROLE_PERMISSIONS: Record<Role, ReadonlySet<Permission>> = {
  viewer: new Set(['authenticated', 'asset:read']),
  developer: new Set(['authenticated', 'asset:read', 'asset:write']),
  approver: new Set(['authenticated', 'asset:read', 'audit:read', 'promotion:approve']),
  admin: new Set(['authenticated', 'asset:read', 'asset:write', 'asset:admin', 'promotion:approve', 'token:admin', 'audit:read', 'system:admin', 'gateway:sync']),
  gateway: new Set(['authenticated', 'gateway:sync']),
};

export function roleAllows(role: string, permission: Permission): boolean {
  if (permission === 'public') return true;
  return ROLE_PERMISSIONS[role as Role]?.has(permission) ?? false;
}

export const TOKEN_PREFIX = 'stw_';

export function newSecret(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Constant-time comparison of two hex digests of equal length. */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The bearer secret of an Authorization header, or an explanation of what is wrong with it. */
export function parseAuthorization(header: string | undefined): { secret: string } | { problem: string } {
  if (!header) return { problem: 'missing Authorization header: send "Authorization: Bearer <token>" (steward token create makes one)' };
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return { problem: 'malformed Authorization header: expected "Bearer <token>"' };
  const secret = m[1]!;
  if (!secret.startsWith(TOKEN_PREFIX) || secret.length < 40 || secret.length > 100) return { problem: 'invalid token' };
  return { secret };
}

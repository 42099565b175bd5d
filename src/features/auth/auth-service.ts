/**
 * API tokens and the checks every request passes: who is calling (authenticate) and may
 * they do this (authorize). Secrets are shown once at creation and stored only as a hash.
 * Lookups are cached for a few seconds so authentication costs no query on the hot path;
 * a revocation in this process takes effect at once, elsewhere within the cache TTL.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Kysely, Selectable } from 'kysely';
import type { z } from 'zod';
import type { CreateTokenBody, Role, TokenResponse } from '../../contracts/auth.js';
import { addSeconds, iso, type Clock } from '../../platform/clock.js';
import { AppError, errors } from '../../platform/errors.js';
import type { Actor, Permission } from '../../platform/http/http-route.js';
import type { Logger } from '../../platform/log.js';
import type { AnyDb, Dialect } from '../../platform/sql/sql-db.js';
import type { AuditService } from '../audit/audit-service.js';
import { SYSTEM_ACTOR } from '../audit/audit-service.js';
import { hashSecret, newSecret, parseAuthorization, roleAllows, sameDigest } from './auth-fns.js';

interface ApiTokensTable {
  id: string;
  name: string;
  role: string;
  namespaces: string | null;
  secret_hash: string;
  prefix: string;
  created_at: string;
  created_by: string | null;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}
type TokenRow = Selectable<ApiTokensTable>;

/** Cached lookups live this long: bounds how stale a revocation seen by another replica can be. */
const CACHE_TTL_MS = 5_000;
/** last_used_at is written at most this often per token, so reads do not become writes. */
const TOUCH_EVERY_MS = 60_000;
/** Failed authentications are counted per client address over this window (see Config.authFailuresPerMinute). */
const FAILURE_WINDOW_MS = 60_000;

export function createAuthService(deps: { db: AnyDb; dialect: Dialect; clock: Clock; log: Logger; audit: Pick<AuditService, 'inTransaction'>; failuresPerMinute: number }) {
  const db = deps.db as unknown as Kysely<{ api_tokens: ApiTokensTable }>;
  const cache = new Map<string, { row: TokenRow; at: number }>();
  const touched = new Map<string, number>();
  const failures = new Map<string, { count: number; since: number }>();

  function throttled(address: string, now: number): number | null {
    const f = failures.get(address);
    if (!f) return null;
    if (now - f.since >= FAILURE_WINDOW_MS) {
      failures.delete(address);
      return null;
    }
    return f.count >= deps.failuresPerMinute ? Math.ceil((f.since + FAILURE_WINDOW_MS - now) / 1000) : null;
  }

  /**
   * A refused credential: counted against its address, and answered 429 instead of 401 once
   * the address is over the limit (so a misbehaving client is told to back off).
   */
  function refuse(address: string, err: AppError): AppError {
    const now = Date.now();
    const wait = throttled(address, now);
    if (wait !== null) return new AppError('rate_limited', `too many failed authentications from ${address}; retry in ${wait} s`, { retryAfterSeconds: wait });
    const f = failures.get(address);
    if (!f || now - f.since >= FAILURE_WINDOW_MS) failures.set(address, { count: 1, since: now });
    else f.count++;
    // Bounded memory under a flood of addresses: forget the oldest entries.
    if (failures.size > 10_000) failures.delete(failures.keys().next().value as string);
    return err;
  }

  const view = (r: TokenRow): TokenResponse => ({
    id: r.id,
    name: r.name,
    role: r.role as Role,
    namespaces: r.namespaces ? (JSON.parse(r.namespaces) as string[]) : null,
    prefix: r.prefix,
    createdAt: r.created_at,
    createdBy: r.created_by,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    lastUsedAt: r.last_used_at,
  });

  async function lookup(hash: string): Promise<TokenRow | null> {
    const now = Date.now();
    const hit = cache.get(hash);
    if (hit && now - hit.at < CACHE_TTL_MS) return hit.row;
    const row = (await db.selectFrom('api_tokens').selectAll().where('secret_hash', '=', hash).executeTakeFirst()) ?? null;
    // Only tokens that exist are cached: guesses would otherwise grow the cache without bound.
    if (row) {
      cache.set(hash, { row, at: now });
      if (cache.size > 10_000) cache.delete(cache.keys().next().value as string);
    }
    return row;
  }

  async function insertToken(body: z.output<typeof CreateTokenBody>, actor: Actor, action = 'token.create') {
    const secret = newSecret();
    const now = deps.clock.now();
    const row: TokenRow = {
      id: randomUUID(),
      name: body.name,
      role: body.role,
      namespaces: body.namespaces ? JSON.stringify(body.namespaces) : null,
      secret_hash: hashSecret(secret),
      prefix: secret.slice(0, 10),
      created_at: iso(now),
      created_by: actor.tokenId === null && actor.name === SYSTEM_ACTOR.name ? null : actor.name,
      expires_at: body.expiresIn === null ? null : iso(addSeconds(now, body.expiresIn)),
      revoked_at: null,
      last_used_at: null,
    };
    // The audit event names the token, its role and scope, never its secret or hash.
    await deps.audit.inTransaction(
      actor,
      (tx) => (tx as unknown as typeof db).insertInto('api_tokens').values(row).execute(),
      () => ({ action, target: `token:${row.id}`, change: { name: row.name, role: row.role, namespaces: body.namespaces ?? null, expiresAt: row.expires_at } }),
    );
    return { ...view(row), token: secret };
  }

  return {
    async authenticate(header: string | undefined, clientAddress: string, requestId: string): Promise<Actor> {
      const parsed = parseAuthorization(header);
      // No header is no guess: only presented credentials count towards the limit.
      if ('problem' in parsed) throw header ? refuse(clientAddress, errors.unauthenticated(parsed.problem)) : errors.unauthenticated(parsed.problem);
      // The token is verified before the failure limit is consulted: a valid token is never
      // refused because others behind the same address (a NAT, a proxy, a CI host) failed.
      const hash = hashSecret(parsed.secret);
      const row = await lookup(hash);
      if (!row || !sameDigest(row.secret_hash, hash)) throw refuse(clientAddress, errors.unauthenticated('invalid token'));
      const now = deps.clock.now();
      if (row.revoked_at) throw refuse(clientAddress, errors.unauthenticated('token revoked'));
      if (row.expires_at && row.expires_at <= iso(now)) throw refuse(clientAddress, errors.unauthenticated('token expired'));
      const last = touched.get(row.id) ?? 0;
      if (now.getTime() - last > TOUCH_EVERY_MS) {
        touched.set(row.id, now.getTime());
        db.updateTable('api_tokens')
          .set({ last_used_at: iso(now) })
          .where('id', '=', row.id)
          .execute()
          .catch((err: unknown) => deps.log.warn({ err, tokenId: row.id }, 'could not record token use'));
      }
      return {
        tokenId: row.id,
        name: row.name,
        role: row.role,
        namespaces: row.namespaces ? (JSON.parse(row.namespaces) as string[]) : null,
        clientAddress,
        requestId,
      };
    },

    authorize(actor: Actor, permission: Permission): void {
      if (!roleAllows(actor.role, permission)) {
        throw new AppError('permission_denied', `role ${actor.role} may not do this (needs ${permission})`, { permission });
      }
    },

    /**
     * What token `id` may do now, for work done later on its behalf (an evaluation run executes
     * after the request that started it): its namespaces (null: all), or null when it is revoked,
     * expired, gone, or its role no longer allows `permission`. Read from the database, not the
     * cache, so a revocation on any replica counts at once.
     */
    async grantOf(id: string, permission: Permission): Promise<{ name: string; namespaces: string[] | null } | null> {
      const row = await db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row || row.revoked_at || (row.expires_at && row.expires_at <= iso(deps.clock.now())) || !roleAllows(row.role, permission)) return null;
      return { name: row.name, namespaces: row.namespaces ? (JSON.parse(row.namespaces) as string[]) : null };
    },

    createToken: (body: z.output<typeof CreateTokenBody>, actor: Actor) => insertToken(body, actor),

    async listTokens() {
      const rows = await db.selectFrom('api_tokens').selectAll().orderBy('created_at').execute();
      return { items: rows.map(view) };
    },

    async revokeToken(id: string, actor: Actor) {
      const row = await db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) throw errors.notFound('token', id);
      if (!row.revoked_at) {
        const now = iso(deps.clock.now());
        await deps.audit.inTransaction(
          actor,
          async (tx) => {
            const t = tx as unknown as typeof db;
            if (activeAdmin(row, now)) {
              // Read under lock (PostgreSQL; SQLite has one writer): two revocations racing for
              // the last two admin tokens cannot both see the other one still active.
              const q = t.selectFrom('api_tokens').select(['id', 'role', 'namespaces', 'revoked_at', 'expires_at']).where('role', '=', 'admin').where('revoked_at', 'is', null);
              const admins = (await (deps.dialect === 'postgres' ? q.forUpdate() : q).execute()).filter((r) => activeAdmin(r, now));
              if (!admins.some((r) => r.id !== id)) {
                throw errors.conflict(
                  `token ${row.name} is the last active admin token: revoking it would leave no one able to manage tokens. Create another admin token first (steward token create --name NAME --role admin), then revoke this one`,
                  { hint: 'if every admin token is lost, `steward admin reset-token --data DIR` (or --database-url URL) creates one offline' },
                );
              }
            }
            // Only the request that flips it revokes (and is audited); a concurrent one finds it done.
            const res = await t.updateTable('api_tokens').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
            return Number(res.numUpdatedRows) === 1;
          },
          (revoked) => (revoked ? { action: 'token.revoke', target: `token:${id}`, change: { name: row.name } } : null),
        );
      }
      cache.delete(row.secret_hash);
      const after = await db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      return view(after);
    },

    /**
     * First start (no token exists): create an admin token that never expires and write it to
     * `dataDir/admin.token` (mode 0600), created exclusively: a file already there belongs to
     * another instance sharing the data dir and is never overwritten (`file` is then null and
     * the caller shows the secret once). Later starts return null.
     */
    async bootstrap(dataDir: string): Promise<{ token: string; file: string | null } | null> {
      const any = await db.selectFrom('api_tokens').select('id').limit(1).executeTakeFirst();
      if (any) return null;
      const created = await insertToken({ name: 'admin', role: 'admin', expiresIn: null }, SYSTEM_ACTOR);
      const file = path.join(dataDir, ADMIN_TOKEN_FILE);
      return { token: created.token, file: writeSecretFile(file, created.token, 'exclusive') ? file : null };
    },

    /**
     * Recovery when no admin token is left (`steward admin reset-token`, run with access to the
     * database, no server needed): a new admin token that never expires, audited as
     * `token.recover`, written over `dataDir/admin.token` when a dir is given.
     */
    async recoverAdmin(actor: Actor, dataDir: string | null) {
      const created = await insertToken({ name: 'admin-recovery', role: 'admin', expiresIn: null }, actor, 'token.recover');
      const file = dataDir === null ? null : path.join(dataDir, ADMIN_TOKEN_FILE);
      if (file) writeSecretFile(file, created.token, 'replace');
      return { ...created, file };
    },
  };
}

/** Where the first start (and a recovery) leaves the admin token in the data dir. */
export const ADMIN_TOKEN_FILE = 'admin.token';

/** An unrevoked, unexpired admin token without namespace limit: one that can manage tokens. */
function activeAdmin(r: Pick<TokenRow, 'role' | 'namespaces' | 'revoked_at' | 'expires_at'>, now: string): boolean {
  return r.role === 'admin' && r.namespaces === null && r.revoked_at === null && (r.expires_at === null || r.expires_at > now);
}

/**
 * Writes a secret to a file only its owner can read. `exclusive` never touches an existing
 * file (answers false); `replace` swaps the file atomically, so no reader sees half a token.
 */
function writeSecretFile(file: string, secret: string, how: 'exclusive' | 'replace'): boolean {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const target = how === 'exclusive' ? file : `${file}.${randomUUID()}.tmp`;
  try {
    fs.writeFileSync(target, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if (how === 'exclusive' && (err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  // The mode given at creation is narrowed by the umask, never widened: 0600 exactly.
  fs.chmodSync(target, 0o600);
  if (how === 'replace') fs.renameSync(target, file);
  return true;
}

export type AuthService = ReturnType<typeof createAuthService>;

/**
 * Limits shared by several gateways through Redis (`STEWARD_GATEWAY_REDIS_URL`): the same rules
 * as the in-memory limiter (gateway-limits.ts), each admission and settlement one Lua script, so
 * it is atomic across gateways: N gateways × M concurrent requests still cannot overspend a
 * budget or pass a minute limit.
 *
 * Keys per gateway key K (all under `stw:gw:{K}:`, one hash slot): `spent` (USD, initialised
 * from the control plane's figure), `reserved` (USD held by requests in flight), `res` (a
 * sorted set of reservation ids scored by when they lapse) and `amt` (their amounts), and
 * `r:MINUTE` / `t:MINUTE` counters for requests and tokens. A reservation lapses after
 * `reservationTtlMs` (a gateway that died mid-request does not hold a budget forever).
 * Redis is not the record of spend: the control plane is (from metering); Redis only
 * coordinates gateways, and a Redis restarted empty starts again from the control plane's figures.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createMemoryLimiter, type Admission, type Estimate, type Limiter, type Refusal } from './gateway-limits.js';
import type { KeyEntry } from './gateway-table.js';

// KEYS: 1 spent, 2 reserved, 3 res (zset), 4 amt (hash), 5 r:minute, 6 r:previous, 7 t:minute, 8 t:previous
// ARGV: 1 now ms, 2 rpm (-1 none), 3 tpm (-1 none), 4 budget (-1 none), 5 initial spent,
//       6 est tokens, 7 est cost, 8 reservation id, 9 lapse ms, 10 fraction of previous minute still in window
const ADMIT = `
redis.call('SET', KEYS[1], ARGV[5], 'NX')
local now = tonumber(ARGV[1])
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
for _, id in ipairs(lapsed) do
  local a = tonumber(redis.call('HGET', KEYS[4], id) or '0')
  redis.call('INCRBYFLOAT', KEYS[2], -a)
  redis.call('HDEL', KEYS[4], id)
  redis.call('ZREM', KEYS[3], id)
end
local frac = tonumber(ARGV[10])
local rpm = tonumber(ARGV[2])
if rpm >= 0 then
  local n = tonumber(redis.call('GET', KEYS[5]) or '0') + tonumber(redis.call('GET', KEYS[6]) or '0') * frac
  if n + 1 > rpm then return {'rpm'} end
end
local tpm = tonumber(ARGV[3])
local est = tonumber(ARGV[6])
if tpm >= 0 then
  local n = tonumber(redis.call('GET', KEYS[7]) or '0') + tonumber(redis.call('GET', KEYS[8]) or '0') * frac
  if n + est > tpm then return {'tpm'} end
end
local budget = tonumber(ARGV[4])
local cost = tonumber(ARGV[7])
if budget >= 0 then
  local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
  local reserved = tonumber(redis.call('GET', KEYS[2]) or '0')
  if spent + reserved + cost > budget then return {'budget', tostring(spent), tostring(reserved)} end
end
redis.call('INCR', KEYS[5]); redis.call('PEXPIRE', KEYS[5], 130000)
redis.call('INCRBY', KEYS[7], est); redis.call('PEXPIRE', KEYS[7], 130000)
if cost > 0 then
  redis.call('INCRBYFLOAT', KEYS[2], cost)
  redis.call('HSET', KEYS[4], ARGV[8], cost)
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[9]), ARGV[8])
end
return {'ok'}
`;

// KEYS: 1 spent, 2 reserved, 3 res, 4 amt, 5 t:minute (of admission)
// ARGV: 1 reservation id, 2 actual cost, 3 token correction (actual - estimated)
const SETTLE = `
local a = redis.call('HGET', KEYS[4], ARGV[1])
if a then
  redis.call('INCRBYFLOAT', KEYS[2], -tonumber(a))
  redis.call('HDEL', KEYS[4], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
end
local c = tonumber(ARGV[2])
if c > 0 then redis.call('INCRBYFLOAT', KEYS[1], c) end
local d = tonumber(ARGV[3])
if d ~= 0 and redis.call('EXISTS', KEYS[5]) == 1 then redis.call('INCRBY', KEYS[5], d) end
return 1
`;

type RedisAdmission = Admission & { reservation: string };

/**
 * While Redis cannot be reached, minute limits fall back to this gateway's own limiter (they then
 * hold per gateway, not across them) rather than refusing every request, logged once; a key with
 * a budget is refused (503) instead, since a budget held per gateway could be spent N times.
 */
export function createRedisLimiter(opts: { url: string; reservationTtlMs?: number; onFallback?: (err: Error) => void }): Limiter {
  const redis = new Redis(opts.url, { maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 2000 });
  redis.on('error', () => undefined); // reported through onFallback when a command fails
  const local = createMemoryLimiter();
  let degraded = false;
  redis.defineCommand('stwAdmit', { numberOfKeys: 8, lua: ADMIT });
  redis.defineCommand('stwSettle', { numberOfKeys: 5, lua: SETTLE });
  const lapse = opts.reservationTtlMs ?? 15 * 60_000;
  const k = (key: string, part: string) => `stw:gw:{${key}}:${part}`;
  const call = redis as unknown as {
    stwAdmit(...args: (string | number)[]): Promise<string[]>;
    stwSettle(...args: (string | number)[]): Promise<number>;
  };
  return {
    async admit(key: KeyEntry, est: Estimate, nowMs: number): Promise<Admission | Refusal> {
      if (key.rpm === null && key.tpm === null && key.budgetUsd === null) return { ok: true, key: key.id, reserved: est, minute: 0 };
      const minute = Math.floor(nowMs / 60_000);
      const frac = 1 - (nowMs % 60_000) / 60_000;
      const id = randomUUID();
      let r: string[];
      try {
        r = await call.stwAdmit(
        k(key.id, 'spent'), k(key.id, 'reserved'), k(key.id, 'res'), k(key.id, 'amt'),
        k(key.id, `r:${minute}`), k(key.id, `r:${minute - 1}`), k(key.id, `t:${minute}`), k(key.id, `t:${minute - 1}`),
        nowMs, key.rpm ?? -1, key.tpm ?? -1, key.budgetUsd ?? -1, key.spentUsd, est.tokens, est.costUsd, id, lapse, frac,
        );
        degraded = false;
      } catch (err) {
        if (!degraded) opts.onFallback?.(err as Error);
        degraded = true;
        // A budget is never held per gateway: N gateways would spend it N times.
        if (key.budgetUsd !== null) return { ok: false, limit: 'unavailable', message: "This key's budget is held in the gateways' shared store, which cannot be reached; try again shortly.", retryAfterSeconds: 1 };
        return local.admit(key, est, nowMs);
      }
      const retry = Math.ceil((60_000 - (nowMs % 60_000)) / 1000);
      if (r[0] === 'rpm') return { ok: false, limit: 'rpm', message: `Rate limit reached for this key: ${key.rpm} requests per minute.`, retryAfterSeconds: retry };
      if (r[0] === 'tpm') return { ok: false, limit: 'tpm', message: `Rate limit reached for this key: ${key.tpm} tokens per minute (this request may use up to ${est.tokens}; lower max_tokens or wait).`, retryAfterSeconds: retry };
      if (r[0] === 'budget') {
        return {
          ok: false,
          limit: 'budget',
          message: `This key's budget of $${key.budgetUsd} is used up (spent $${Number(r[1]).toFixed(6)}, $${Number(r[2]).toFixed(6)} reserved by requests in flight; this one may cost up to $${est.costUsd.toFixed(6)}).`,
          retryAfterSeconds: null,
        };
      }
      const a: RedisAdmission = { ok: true, key: key.id, reserved: est, minute, reservation: id };
      return a;
    },
    async settle(a: Admission, actual: Estimate): Promise<void> {
      const reservation = (a as RedisAdmission).reservation;
      if (!reservation) return local.settle(a, actual);
      await call.stwSettle(k(a.key, 'spent'), k(a.key, 'reserved'), k(a.key, 'res'), k(a.key, 'amt'), k(a.key, `t:${a.minute}`), reservation, actual.costUsd, actual.tokens - a.reserved.tokens);
    },
    sync(keys) {
      local.sync?.(keys);
      // Spend the control plane knows of that Redis does not (Redis restarted, or spend it never saw).
      for (const key of keys) {
        if (key.spentUsd > 0) void redis.eval("local s = tonumber(redis.call('GET', KEYS[1]) or '0') if tonumber(ARGV[1]) > s then redis.call('SET', KEYS[1], ARGV[1]) end return 1", 1, k(key.id, 'spent'), key.spentUsd).catch(() => undefined);
      }
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * The gateway's control-plane state: API keys (the secret shown once, its sha256 kept), traffic
 * splits between deployments, and per-model settings. Every change is audited and emits a
 * `gateway.*` event in its transaction, so gateways following the snapshot see it.
 */
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { NAME_RE, namespaceOf } from '../../contracts/asset-names.js';
import type { CreateKeyBody, GatewayModelBody, KeyResponse, ListKeysQuery, TrafficBody } from '../../contracts/gateway.js';
import { addSeconds, iso, type Clock } from '../../platform/clock.js';
import { decodeCursor, encodeCursor } from '../../platform/cursor.js';
import { AppError, errors } from '../../platform/errors.js';
import type { Actor } from '../../platform/http/http-route.js';
import type { AnyDb } from '../../platform/sql/sql-db.js';
import type { AuditService } from '../audit/audit-service.js';
import type { DeploymentsService } from '../deployments/deployments-service.js';
import type { EventsService } from '../events/events-service.js';
import type { PromotionsService } from '../promotions/promotions-service.js';
import { keyView, newKeySecret } from './gateway-fns.js';
import type { GatewayRepo, KeyRow, TrafficRow } from './gateway-repo.js';

const trafficTarget = (model: string, environment: string) => `traffic:${model}:${environment}`;

export function createGatewayService(deps: {
  repo: GatewayRepo;
  audit: Pick<AuditService, 'record'>;
  events: Pick<EventsService, 'emit'>;
  promotions: Pick<PromotionsService, 'environmentNames'>;
  deployments: Pick<DeploymentsService, 'get'>;
  clock: Clock;
}) {
  const { repo, clock } = deps;

  /** An environment that exists, or a 400 listing those that do. */
  async function requireEnvironment(env: string, what: string): Promise<void> {
    const known = await deps.promotions.environmentNames();
    if (!known.includes(env)) throw errors.invalid(`${what} ${JSON.stringify(env)} is not an environment; known: ${known.join(', ')}`, { environment: env, known });
  }

  function requireModelName(name: string): void {
    if (!NAME_RE.test(name)) throw errors.invalid(`${JSON.stringify(name)} is not a model name (name or namespace/name)`, { model: name });
  }

  /** The key, or a 404 when it does not exist or lies outside the caller's namespaces (no difference shown). */
  async function keyFor(id: string, actor: Actor): Promise<KeyRow> {
    const k = await repo.key(id);
    if (!k || (actor.namespaces && (k.namespace === null || !actor.namespaces.includes(k.namespace)))) {
      throw new AppError('not_found', `gateway key ${JSON.stringify(id)} not found; list them with steward keys ls`, { key: id });
    }
    return k;
  }

  function trafficView(r: TrafficRow) {
    return { ...(JSON.parse(r.body) as TrafficBody), model: r.model, environment: r.environment, updatedAt: r.updated_at, updatedBy: r.updated_by };
  }

  /** Every deployment a split names exists, serves this model, and is not stopped: else 412 naming it. */
  async function checkArms(model: string, body: TrafficBody, actor: Actor): Promise<void> {
    const ids = [...body.arms.map((a) => a.deployment), ...(body.shadow ? [body.shadow.deployment] : [])];
    for (const id of new Set(ids)) {
      let d;
      try {
        d = await deps.deployments.get(id, actor);
      } catch (err) {
        if (err instanceof AppError && err.code === 'not_found') throw errors.precondition(`deployment ${id} does not exist; list them with steward deployments ls --model ${model}`, { deployment: id });
        throw err;
      }
      if (d.model.name !== model) throw errors.precondition(`deployment ${id} serves ${d.model.name}, not ${model}`, { deployment: id, model: d.model.name });
      if (d.state === 'stopped' || d.state === 'failed') throw errors.precondition(`deployment ${id} is ${d.state}; it cannot take traffic`, { deployment: id, state: d.state });
    }
  }

  const service = {
    async createKey(body: CreateKeyBody, actor: Actor) {
      await requireEnvironment(body.defaultEnvironment, 'defaultEnvironment');
      const { secret, hash, prefix } = newKeySecret();
      const now = clock.now();
      const row: KeyRow = {
        id: `key_${randomBytes(9).toString('base64url')}`,
        name: body.name,
        namespace: body.namespace,
        models: body.models ? JSON.stringify(body.models) : null,
        default_environment: body.defaultEnvironment,
        rpm: body.rpm,
        tpm: body.tpm,
        budget_usd: body.budgetUsd,
        spent_usd: 0,
        hash,
        prefix,
        created_at: iso(now),
        created_by: actor.name,
        expires_at: body.expiresIn === null ? null : iso(addSeconds(now, body.expiresIn)),
        revoked_at: null,
      };
      await repo.transaction(async (r, trx) => {
        const tx = trx as unknown as AnyDb;
        await r.insertKey(row);
        // The secret and its hash stay out of the audit log.
        const { hash: _h, prefix: _p, spent_usd: _s, ...change } = row;
        await deps.audit.record(tx, actor, { action: 'gateway.key.create', target: `gateway-key:${row.id}`, change: { ...change, models: body.models } });
        await deps.events.emit(tx, { type: 'gateway.key.changed', subject: `gateway-key:${row.id}`, namespace: row.namespace, data: { id: row.id, namespace: row.namespace, revoked: false } });
      });
      return { ...keyView(row), key: secret };
    },

    async getKey(id: string, actor: Actor): Promise<KeyResponse> {
      return keyView(await keyFor(id, actor));
    },

    async listKeys(q: z.output<typeof ListKeysQuery>, actor: Actor) {
      const after = q.cursor ? (decodeCursor(q.cursor, 2) as [string, string]) : undefined;
      const rows = await repo.listKeys({
        ...(q.namespace ? { namespace: q.namespace } : {}),
        ...(q.revoked ? { revoked: q.revoked === 'true' } : {}),
        namespaces: actor.namespaces,
        ...(after ? { after } : {}),
        limit: q.limit + 1,
      });
      const items = rows.slice(0, q.limit);
      const last = items[items.length - 1];
      return { items: items.map(keyView), nextCursor: rows.length > q.limit && last ? encodeCursor([last.created_at, last.id]) : null };
    },

    async revokeKey(id: string, actor: Actor): Promise<KeyResponse> {
      const k = await keyFor(id, actor);
      const conflict = (at: string | null) => errors.conflict(`gateway key ${k.name} (${id}) was revoked already${at ? ` at ${at}` : ''}`, { key: id, revokedAt: at });
      if (k.revoked_at) throw conflict(k.revoked_at);
      const at = iso(clock.now());
      await repo.transaction(async (r, trx) => {
        const tx = trx as unknown as AnyDb;
        // Conditional update: of two revocations racing, one wins and the other is a 409.
        if (!(await r.revokeKey(id, at))) throw conflict(null);
        await deps.audit.record(tx, actor, { action: 'gateway.key.revoke', target: `gateway-key:${id}`, change: { name: k.name, namespace: k.namespace } });
        await deps.events.emit(tx, { type: 'gateway.key.changed', subject: `gateway-key:${id}`, namespace: k.namespace, data: { id, namespace: k.namespace, revoked: true } });
      });
      return keyView({ ...k, revoked_at: at });
    },

    async getTraffic(model: string, environment: string) {
      requireModelName(model);
      const r = await repo.traffic(model, environment);
      if (!r) throw new AppError('not_found', `${model} has no traffic split in ${environment}: its traffic goes to the environment's deployments`, { model, environment });
      return trafficView(r);
    },

    /** Checks a split as `putTraffic` does (400 / 412), writing nothing: callers that write it in their own transaction check first. */
    async checkTraffic(model: string, environment: string, body: TrafficBody, actor: Actor): Promise<void> {
      requireModelName(model);
      if (body.arms.every((a) => a.weight === 0)) throw errors.invalid('every arm has weight 0: at least one must take traffic', { arms: body.arms });
      const seen = new Set<string>();
      for (const a of body.arms) {
        if (seen.has(a.deployment)) throw errors.invalid(`deployment ${a.deployment} is named by two arms; give it one arm with their weights added`, { deployment: a.deployment });
        seen.add(a.deployment);
      }
      await requireEnvironment(environment, 'environment');
      await checkArms(model, body, actor);
    },

    /**
     * Writes a checked split in the caller's transaction, audited and emitted there: a rollout moves
     * traffic and records its step in one commit, so neither is ever seen without the other.
     */
    async setTrafficIn(tx: AnyDb, model: string, environment: string, body: TrafficBody, actor: Actor) {
      const r = repo.on(tx);
      const row: TrafficRow = { model, environment, body: JSON.stringify(body), updated_at: iso(clock.now()), updated_by: actor.name };
      const before = await r.traffic(model, environment);
      await r.putTraffic(row);
      await deps.audit.record(tx, actor, { action: 'gateway.traffic.set', target: trafficTarget(model, environment), change: { ...body, ...(before ? { previous: JSON.parse(before.body) as unknown } : {}) } });
      await deps.events.emit(tx, { type: 'gateway.traffic.changed', subject: trafficTarget(model, environment), namespace: namespaceOf(model), data: { model, environment } });
      return trafficView(row);
    },

    /** Clears a split in the caller's transaction (false: there was none). */
    async clearTrafficIn(tx: AnyDb, model: string, environment: string, actor: Actor): Promise<boolean> {
      const r = repo.on(tx);
      const before = await r.traffic(model, environment);
      if (!before || !(await r.deleteTraffic(model, environment))) return false;
      await deps.audit.record(tx, actor, { action: 'gateway.traffic.clear', target: trafficTarget(model, environment), change: { previous: JSON.parse(before.body) as unknown } });
      await deps.events.emit(tx, { type: 'gateway.traffic.changed', subject: trafficTarget(model, environment), namespace: namespaceOf(model), data: { model, environment } });
      return true;
    },

    async putTraffic(model: string, environment: string, body: TrafficBody, actor: Actor) {
      await service.checkTraffic(model, environment, body, actor);
      return repo.transaction((_r, trx) => service.setTrafficIn(trx as unknown as AnyDb, model, environment, body, actor));
    },

    async deleteTraffic(model: string, environment: string, actor: Actor): Promise<void> {
      requireModelName(model);
      const cleared = await repo.transaction((_r, trx) => service.clearTrafficIn(trx as unknown as AnyDb, model, environment, actor));
      if (!cleared) throw new AppError('not_found', `${model} has no traffic split in ${environment}`, { model, environment });
    },

    async putModelSettings(model: string, body: z.output<typeof GatewayModelBody>, actor: Actor) {
      requireModelName(model);
      const row = { model, cache: body.cache ? JSON.stringify(body.cache) : null, updated_at: iso(clock.now()), updated_by: actor.name };
      await repo.transaction(async (r, trx) => {
        const tx = trx as unknown as AnyDb;
        await r.putModelSettings(row);
        await deps.audit.record(tx, actor, { action: 'gateway.model.set', target: `model:${model}`, change: { cache: body.cache } });
        await deps.events.emit(tx, { type: 'gateway.model.changed', subject: `model:${model}`, namespace: namespaceOf(model), data: { model } });
      });
      return { model, cache: body.cache, updatedAt: row.updated_at, updatedBy: row.updated_by };
    },
  };
  return service;
}

export type GatewayService = ReturnType<typeof createGatewayService>;

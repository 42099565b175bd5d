/**
 * Environments and promotions. A model version enters an environment only through a promotion
 * request (every gate of the target policy evaluated and stored with its evidence, then the
 * approvals the policy asks for) or leaves it through a rollback; each move of the pointer is
 * recorded with what it replaced, audited and emitted (`environment.moved`) in one transaction.
 *
 * A request is first recorded as `checking` (claiming the one open slot of its model and
 * environment), its gates are evaluated outside any transaction (SQLite has one writer), then it
 * is decided. A `promotion.check` job enqueued with it finishes the decision if the server died
 * in between; a `promotion.expire` job ends a request that waits for approval past its timeout.
 */
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { namespaceOf, parseAssetRef } from '../../contracts/asset-names.js';
import { parseGate, type Gate } from '../../contracts/evals.js';
import {
  type CreatePromotionBody,
  type EnvironmentPolicy,
  type EnvironmentResponse,
  type ListPromotionsQuery,
  type PointerMove,
  type PromotionGateResult,
  type PromotionResponse,
  type RollbackBody,
  type VersionEnvironments,
} from '../../contracts/promotions.js';
import { addSeconds, iso, type Clock } from '../../platform/clock.js';
import { decodeCursor, encodeCursor } from '../../platform/cursor.js';
import { AppError, errors } from '../../platform/errors.js';
import type { Actor } from '../../platform/http/http-route.js';
import type { AnyDb } from '../../platform/sql/sql-db.js';
import { isUniqueViolation } from '../../platform/sql/sql-db.js';
import type { AssetsFeature } from '../assets/assets-wiring.js';
import type { AuditService } from '../audit/audit-service.js';
import { SYSTEM_ACTOR } from '../audit/audit-service.js';
import type { EvalsFeature } from '../evals/evals-wiring.js';
import type { EventsService } from '../events/events-service.js';
import type { JobsService } from '../jobs/jobs-service.js';
import { judgeValidation, lastKnownGood, moveView, parsePolicy, policyRowFor, promotionView, verdict } from './promotions-fns.js';
import type { PromotionRow, PromotionsRepo, PromotionsTxRepo } from './promotions-repo.js';

export const PROMOTION_CHECK_JOB = 'promotion.check';
export const PROMOTION_EXPIRE_JOB = 'promotion.expire';
/** A request interrupted while its gates were evaluated is finished by its check job after this. */
const CHECK_GRACE_SECONDS = 60;

export interface PromotionsDeps {
  repo: PromotionsRepo;
  assets: Pick<AssetsFeature, 'getVersion' | 'versionInTx'>;
  evals: Pick<EvalsFeature, 'latestSummaries' | 'gates'>;
  audit: Pick<AuditService, 'record'>;
  events: Pick<EventsService, 'emit'>;
  jobs: Pick<JobsService, 'enqueue' | 'cancel' | 'poke'>;
  clock: Clock;
}

const tx_ = (trx: unknown) => trx as AnyDb;
const target_ = (model: string) => `model:${model}`;

/** What the live gate judges: the version being promoted, where it ran (the policy's required source), the policy's criteria. */
export interface LiveGateInput {
  model: string;
  version: string;
  namespace: string | null;
  source: string | null;
  criteria: readonly string[];
  required: boolean;
}
/** Judges a policy's live criteria from what the version did in production-like traffic (monitoring implements it). */
export type LiveGate = (input: LiveGateInput) => Promise<PromotionGateResult>;

export function createPromotionsService(deps: PromotionsDeps) {
  const { repo, assets, evals, audit, events, jobs, clock } = deps;
  let liveGate: LiveGate | null = null;

  function envView(row: { namespace: string; name: string; policy: string; updated_at: string; updated_by: string }): EnvironmentResponse {
    return { name: row.name, namespace: row.namespace || null, policy: parsePolicy(row), updatedAt: row.updated_at, updatedBy: row.updated_by };
  }

  /** The policy of `env` for a model of `namespace`, or a 404 naming the environments there are. */
  async function policyFor(namespace: string | null, env: string, r: PromotionsTxRepo = repo): Promise<EnvironmentPolicy> {
    const rows = await r.environments(namespace === null ? [] : [namespace]);
    const row = policyRowFor(rows, namespace, env);
    if (!row) {
      const known = [...new Set(rows.map((x) => x.name))];
      throw new AppError('not_found', `environment ${JSON.stringify(env)} does not exist; known: ${known.join(', ') || 'none'} (steward env ls)`, { environment: env, known });
    }
    return parsePolicy(row);
  }

  function modelName(text: string): string {
    const ref = parseAssetRef(text.trim());
    if (typeof ref === 'string') throw errors.invalid(ref);
    if (ref.ref !== null) throw errors.invalid(`name the model without a version: ${ref.name}`);
    return ref.name;
  }

  /** The environments of a model's namespace that take every ready version by themselves. */
  async function autoPromoting(r: PromotionsTxRepo, model: string): Promise<Set<string>> {
    const ns = namespaceOf(model);
    const rows = await r.environments(ns === null ? [] : [ns]);
    return new Set([...new Set(rows.map((x) => x.name))].filter((n) => parsePolicy(policyRowFor(rows, ns, n)!).autoPromote));
  }

  /**
   * Takes a version out of the autoPromote environments it is in (it was deleted or archived): the
   * pointer goes, with a `removal` move, its audit event and `environment.moved` (version null).
   */
  async function leaveAutoEnvironments(tx: AnyDb, model: string, version: string, actor: Actor, reason: string): Promise<number> {
    const r = repo.on(tx);
    const auto = await autoPromoting(r, model);
    let n = 0;
    for (const p of await r.pointersAt(model, version)) {
      if (!auto.has(p.environment)) continue; // the registry's guard or hold refused already
      await r.deletePointer(p.model, p.environment);
      const row = { model: p.model, environment: p.environment, namespace: p.namespace, version: null, previous: version, kind: 'removal', promotion_id: null, reason, at: iso(clock.now()), moved_by: actor.name };
      await r.insertMove(row);
      await audit.record(tx, actor, { action: 'model.environment.removal', target: target_(p.model), change: { environment: p.environment, version: null, previous: version, reason } });
      await events.emit(tx, {
        type: 'environment.moved',
        subject: target_(p.model),
        namespace: p.namespace,
        data: { model: p.model, environment: p.environment, version: null, previous: version, kind: 'removal', promotion: null, reason },
      });
      n++;
    }
    return n;
  }

  function canSee(actor: Actor, namespace: string | null): boolean {
    return actor.namespaces === null || (namespace !== null && actor.namespaces.includes(namespace));
  }

  async function record(tx: AnyDb, actor: Actor, p: PromotionRow, action: string, change: Record<string, unknown> = {}) {
    await audit.record(tx, actor, { action: `promotion.${action}`, target: `promotion:${p.id}`, change: { model: `${p.model}:${p.version}`, to: p.to_env, state: p.state, ...change } });
    await events.emit(tx, { type: 'promotion.changed', subject: `promotion:${p.id}`, namespace: p.namespace, data: { id: p.id, model: { name: p.model, version: p.version }, to: p.to_env, state: p.state as 'pending' } });
  }

  /** Moves a pointer, recording what it replaced; the caller's transaction holds the lock. */
  async function movePointer(
    r: PromotionsTxRepo,
    tx: AnyDb,
    actor: Actor,
    m: { model: string; namespace: string | null; environment: string; version: string; kind: 'promotion' | 'rollback' | 'rollout'; promotion: string | null; reason: string | null },
  ): Promise<PointerMove> {
    const prev = await r.pointerForUpdate(m.model, m.environment);
    const at = iso(clock.now());
    await r.setPointer({ model: m.model, environment: m.environment, namespace: m.namespace, version: m.version, since: at, moved_by: actor.name, promotion_id: m.promotion });
    const row = { model: m.model, environment: m.environment, namespace: m.namespace, version: m.version, previous: prev?.version ?? null, kind: m.kind, promotion_id: m.promotion, reason: m.reason, at, moved_by: actor.name };
    const seq = await r.insertMove(row);
    await audit.record(tx, actor, {
      action: `model.environment.${m.kind}`,
      target: target_(m.model),
      change: { environment: m.environment, version: m.version, previous: row.previous, promotion: m.promotion, ...(m.reason ? { reason: m.reason } : {}) },
    });
    await events.emit(tx, {
      type: 'environment.moved',
      subject: target_(m.model),
      namespace: m.namespace,
      data: { model: m.model, environment: m.environment, version: m.version, previous: row.previous, kind: m.kind, promotion: m.promotion, reason: m.reason },
    });
    return moveView({ ...row, seq });
  }

  /** Completes an approved (or approval-free) request inside `tx`: the version must still be usable. */
  async function complete(r: PromotionsTxRepo, tx: AnyDb, p: PromotionRow, actor: Actor): Promise<void> {
    const v = await assets.versionInTx(tx, 'model', p.model, p.version);
    const now = iso(clock.now());
    if (v.state !== 'ready') {
      const reason = `${p.model}:${p.version} became ${v.state} before the promotion completed`;
      await r.updatePromotion(p.id, ['checking', 'pending'], { state: 'failed', reason, decided_at: now });
      await record(tx, SYSTEM_ACTOR, { ...p, state: 'failed' }, 'fail', { reason });
      return;
    }
    // The policy asks for a rollout, and there is a stable version to roll from: the pointer
    // stays until the rollout succeeds (rollouts react to `promotion.changed` → rolling_out).
    const policy = await policyFor(p.namespace, p.to_env, r);
    const current = await r.pointerForUpdate(p.model, p.to_env);
    if (policy.rollout.strategy !== 'rolling' && current && current.version !== p.version) {
      await r.updatePromotion(p.id, ['checking', 'pending'], { state: 'rolling_out', reason: null, decided_at: now });
      await record(tx, actor, { ...p, state: 'rolling_out' }, 'rollout', { strategy: policy.rollout.strategy, from: current.version });
      return;
    }
    await movePointer(r, tx, actor, { model: p.model, namespace: p.namespace, environment: p.to_env, version: p.version, kind: 'promotion', promotion: p.id, reason: null });
    await r.updatePromotion(p.id, ['checking', 'pending'], { state: 'completed', reason: null, decided_at: now });
    await record(tx, actor, { ...p, state: 'completed' }, 'complete');
  }

  /** Every gate of the policy for the version, with its evidence; a gate that throws is an `error` result (fails closed). */
  async function evaluateGates(p: PromotionRow, policy: EnvironmentPolicy): Promise<PromotionGateResult[]> {
    const model = `${p.model}:${p.version}`;
    const results: PromotionGateResult[] = [];
    const guard = async (name: string, fn: () => Promise<PromotionGateResult | PromotionGateResult[] | null>) => {
      try {
        const out = await fn();
        if (out) results.push(...(Array.isArray(out) ? out : [out]));
      } catch (err) {
        results.push({ name, status: 'error', reason: err instanceof Error ? err.message : String(err), evidence: {} });
      }
    };
    await guard('validation', async () => judgeValidation(policy.validation, model, await evals.latestSummaries(p.model, p.version)));
    if (policy.gates.length) {
      await guard('gate', async () => {
        const gates = policy.gates.map((line) => {
          const g = parseGate(line);
          if (!g.ok) throw new Error(g.message);
          return g.gate as Gate;
        });
        // A misspelt environment is an error, never "nothing to regress against".
        for (const g of gates) if (g.type === 'no_regression') await policyFor(p.namespace, g.environment);
        const out = await evals.gates.evaluate({ model, gates });
        return out.results.map((r, i) => ({
          name: `gate: ${policy.gates[i]}`,
          status: r.passed ? 'passed' : 'failed',
          reason: r.reason,
          evidence: { ...r.evidence },
        }));
      });
    }
    if (policy.minTimeInSource !== null && policy.requiredSource) {
      await guard('min-time-in-source', async () => {
        const [ptr] = await repo.pointers(p.model, policy.requiredSource!);
        const since = ptr?.version === p.version ? new Date(ptr.since) : null;
        const spent = since ? (clock.now().getTime() - since.getTime()) / 1000 : 0;
        const ok = spent >= policy.minTimeInSource!;
        return {
          name: 'min-time-in-source',
          status: ok ? 'passed' : 'failed',
          reason: `${model} has been in ${policy.requiredSource} for ${Math.floor(spent)} s; ${policy.minTimeInSource} s required`,
          evidence: { since: ptr?.since ?? null, seconds: Math.floor(spent), required: policy.minTimeInSource },
        };
      });
    }
    if (liveGate && (policy.live.required || policy.live.criteria.length)) {
      const gate = liveGate;
      await guard('live', () => gate({ model: p.model, version: p.version, namespace: p.namespace, source: policy.requiredSource, criteria: policy.live.criteria, required: policy.live.required }));
    } else if (policy.live.required || policy.live.criteria.length) {
      results.push({
        name: 'live',
        status: 'inconclusive',
        reason: `live criteria (${policy.live.criteria.join(', ') || 'none named'}) need monitoring, which has no figures for ${model} yet${policy.live.required ? '; the policy requires them' : ''}`,
        evidence: { criteria: policy.live.criteria, required: policy.live.required },
      });
    }
    return results;
  }

  /** Decides a `checking` request from its gate results (no-op when another execution did it). */
  async function decide(id: string, policy: EnvironmentPolicy, results: PromotionGateResult[], actor: Actor): Promise<void> {
    await repo.transaction(async (r, trx) => {
      const p = await r.promotionForUpdate(id);
      if (!p || p.state !== 'checking') return;
      const gates = JSON.stringify(results);
      const v = verdict(results, (g) => g.name !== 'live' || policy.live.required);
      const now = clock.now();
      if (v.state !== 'ok') {
        await r.updatePromotion(id, ['checking'], { state: v.state, reason: v.reason, gates, decided_at: iso(now) });
        await record(tx_(trx), SYSTEM_ACTOR, { ...p, state: v.state }, v.state === 'failed' ? 'fail' : 'reject', { reason: v.reason });
        return;
      }
      if (p.approvals_required > 0) {
        const expires = addSeconds(now, policy.approvalTimeout);
        await r.updatePromotion(id, ['checking'], { state: 'pending', gates, expires_at: iso(expires) });
        await jobs.enqueue(tx_(trx), { kind: PROMOTION_EXPIRE_JOB, key: `promotion.expire:${id}`, payload: { id }, runAfter: expires });
        await record(tx_(trx), SYSTEM_ACTOR, { ...p, state: 'pending' }, 'await', { approvals: p.approvals_required });
        return;
      }
      await r.updatePromotion(id, ['checking'], { gates });
      await complete(r, tx_(trx), { ...p, gates }, actor);
    });
    jobs.poke();
  }

  async function view(id: string): Promise<PromotionResponse> {
    const p = await repo.promotion(id);
    if (!p) throw new AppError('not_found', `promotion ${JSON.stringify(id)} not found; list them with steward promotions ls`, { promotion: id });
    return promotionView(p, await repo.decisions([id]));
  }

  /** The promotion, for an actor acting on it: 404 when unknown, 403 outside its namespaces. */
  async function forActor(r: PromotionsTxRepo, id: string, actor: Actor): Promise<PromotionRow> {
    const p = await r.promotionForUpdate(id);
    if (!p) throw new AppError('not_found', `promotion ${JSON.stringify(id)} not found; list them with steward promotions ls`, { promotion: id });
    if (!canSee(actor, p.namespace)) throw errors.forbidden(`promotion ${id} is of namespace ${p.namespace ?? '(none)'}; this token is limited to ${actor.namespaces!.join(', ')}`);
    return p;
  }

  function requireOpen(p: PromotionRow, what: string): void {
    if (p.state === 'checking') throw errors.conflict(`promotion ${p.id} is still checking its gates; ${what} it once it waits for approval`, { state: p.state });
    if (p.state !== 'pending') throw errors.conflict(`promotion ${p.id} is ${p.state}; only a pending request can be ${what === 'approve' ? 'approved' : what === 'reject' ? 'rejected' : 'cancelled'}`, { state: p.state });
    if (p.expires_at && p.expires_at <= iso(clock.now())) throw errors.conflict(`promotion ${p.id} expired at ${p.expires_at}; request it again`, { state: 'expired' });
  }

  return {
    /** Monitoring registers the judge of live criteria while it is set up; without one they stay inconclusive. */
    registerLiveGate(fn: LiveGate): void {
      if (liveGate) throw new Error('a live gate is registered already');
      liveGate = fn;
    },

    async listEnvironments(actor: Actor): Promise<{ items: EnvironmentResponse[] }> {
      const rows = await repo.environments(actor.namespaces);
      const items = rows.map(envView);
      items.sort((a, b) => a.policy.order - b.policy.order || a.name.localeCompare(b.name) || (a.namespace ?? '').localeCompare(b.namespace ?? ''));
      return { items };
    },

    async getEnvironment(env: string, namespace: string | undefined): Promise<EnvironmentResponse> {
      const row = await repo.environment(namespace ?? '', env);
      if (!row) {
        const known = [...new Set((await repo.environments(namespace ? [namespace] : [])).map((x) => x.name))];
        throw new AppError('not_found', `environment ${JSON.stringify(env)}${namespace ? ` has no policy of namespace ${namespace}` : ' does not exist'}; known: ${known.join(', ') || 'none'}`, { environment: env, known });
      }
      return envView(row);
    },

    async putEnvironment(env: string, namespace: string | undefined, policy: EnvironmentPolicy, actor: Actor): Promise<EnvironmentResponse> {
      const ns = namespace ?? '';
      await repo.transaction(async (r, trx) => {
        if (policy.requiredSource !== null) {
          if (policy.requiredSource === env) throw errors.invalid(`environment ${env} cannot require itself as its source`);
          const rows = await r.environments(ns ? [ns] : []);
          if (!policyRowFor(rows, ns || null, policy.requiredSource)) {
            throw errors.invalid(`requiredSource ${policy.requiredSource} is not an environment; create it first (steward env set ${policy.requiredSource})`);
          }
        }
        const before = await r.environment(ns, env);
        const now = iso(clock.now());
        await r.putEnvironment({ namespace: ns, name: env, policy: JSON.stringify(policy), updated_at: now, updated_by: actor.name });
        await audit.record(tx_(trx), actor, {
          action: before ? 'environment.update' : 'environment.create',
          target: `environment:${ns ? `${ns}/` : ''}${env}`,
          change: { policy, ...(before ? { previous: JSON.parse(before.policy) as unknown } : {}) },
        });
      });
      return this.getEnvironment(env, namespace);
    },

    /** One model's pointers, or (model undefined) every model's, optionally in one environment. */
    async pointers(model: string | undefined, environment: string | undefined) {
      const rows = model === undefined ? await repo.allPointers(environment) : await repo.pointers(modelName(model), environment);
      return { items: rows.map((p) => ({ model: p.model, environment: p.environment, version: p.version, since: p.since, by: p.moved_by, promotion: p.promotion_id })) };
    },

    /** Every model's environment pointers, for the gateway's route table. */
    async allPointers(): Promise<{ model: string; environment: string; version: string }[]> {
      return (await repo.allPointers()).map((p) => ({ model: p.model, environment: p.environment, version: p.version }));
    },

    async history(model: string, environment: string | undefined, limit: number) {
      return { items: (await repo.moves(modelName(model), environment, limit)).map(moveView) };
    },

    async request(body: z.output<typeof CreatePromotionBody>, actor: Actor): Promise<PromotionResponse> {
      const ref = parseAssetRef(body.model.trim(), { requireRef: true });
      if (typeof ref === 'string') throw errors.invalid(`${ref}: name the version to promote`);
      const v = await assets.getVersion('model', ref.name, ref.ref!);
      const label = `${v.name}:${v.version}`;
      if (v.state === 'pending') throw errors.precondition(`${label} is still pending; finish its push before promoting it`, { state: v.state });
      if (v.state === 'archived') throw errors.precondition(`${label} is archived and cannot be promoted`, { state: v.state });
      if (v.state === 'deprecated') throw errors.precondition(`${label} is deprecated; restore it (steward version state ${label} ready) before promoting it`, { state: v.state });
      const namespace = namespaceOf(v.name);
      const policy = await policyFor(namespace, body.to);
      const current = (await repo.pointers(v.name, body.to))[0];
      if (current?.version === v.version) throw errors.conflict(`${label} is already in ${body.to}`, { environment: body.to });
      let from: string | null = null;
      if (policy.requiredSource) {
        const [src] = await repo.pointers(v.name, policy.requiredSource);
        if (src?.version !== v.version) {
          throw errors.precondition(
            `${body.to} takes versions from ${policy.requiredSource}, and ${label} is not in ${policy.requiredSource}` +
              `${src ? ` (it runs ${src.version})` : ''}; promote it there first: steward promote ${label} --to ${policy.requiredSource}`,
            { requiredSource: policy.requiredSource },
          );
        }
        from = policy.requiredSource;
      }
      const now = clock.now();
      const p: PromotionRow = {
        id: `prm_${randomBytes(9).toString('base64url')}`,
        model: v.name,
        namespace,
        version: v.version,
        from_env: from,
        to_env: body.to,
        state: 'checking',
        reason: null,
        comment: body.comment,
        gates: '[]',
        approvals_required: policy.approvals.count,
        approval_role: policy.approvals.role,
        requested_by: actor.name,
        requested_at: iso(now),
        decided_at: null,
        expires_at: null,
      };
      try {
        await repo.transaction(async (r, trx) => {
          await r.insertPromotion(p);
          await jobs.enqueue(tx_(trx), { kind: PROMOTION_CHECK_JOB, key: `promotion.check:${p.id}`, payload: { id: p.id }, runAfter: addSeconds(now, CHECK_GRACE_SECONDS) });
          await record(tx_(trx), actor, p, 'request', body.comment ? { comment: body.comment } : {});
        });
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        const open = await repo.openPromotion(v.name, body.to);
        throw errors.conflict(
          `a promotion of ${v.name} to ${body.to} is already open${open ? ` (${open.id}: ${open.model}:${open.version}, ${open.state})` : ''}; approve, reject or cancel it first`,
          { open: open?.id ?? null },
        );
      }
      const results = await evaluateGates(p, policy);
      await decide(p.id, policy, results, actor);
      return view(p.id);
    },

    /** Job `promotion.check`: decides a request its creator could not (the server stopped meanwhile). */
    async finishCheck(id: string): Promise<void> {
      const p = await repo.promotion(id);
      if (!p || p.state !== 'checking') return;
      const policy = await policyFor(p.namespace, p.to_env);
      await decide(id, policy, await evaluateGates(p, policy), { ...SYSTEM_ACTOR, name: p.requested_by });
    },

    /** Job `promotion.expire`. */
    async expire(id: string): Promise<void> {
      await repo.transaction(async (r, trx) => {
        const p = await r.promotionForUpdate(id);
        if (!p || p.state !== 'pending') return;
        const reason = `no decision before ${p.expires_at}`;
        await r.updatePromotion(id, ['pending'], { state: 'expired', reason, decided_at: iso(clock.now()) });
        await record(tx_(trx), SYSTEM_ACTOR, { ...p, state: 'expired' }, 'expire', { reason });
      });
    },

    get: view,

    async getFor(id: string, actor: Actor): Promise<PromotionResponse> {
      const out = await view(id);
      if (!canSee(actor, namespaceOf(out.model.name))) throw new AppError('not_found', `promotion ${JSON.stringify(id)} not found; list them with steward promotions ls`, { promotion: id });
      return out;
    },

    async list(q: z.output<typeof ListPromotionsQuery>, actor: Actor) {
      const after = q.cursor ? (decodeCursor(q.cursor, 2) as [string, string]) : undefined;
      const rows = await repo.listPromotions({
        ...(q.model ? { model: modelName(q.model) } : {}),
        ...(q.environment ? { environment: q.environment } : {}),
        ...(q.state ? { state: q.state } : {}),
        namespaces: actor.namespaces,
        ...(after ? { after } : {}),
        limit: q.limit + 1,
      });
      const items = rows.slice(0, q.limit);
      const decisions = await repo.decisions(items.map((p) => p.id));
      const last = items[items.length - 1];
      return { items: items.map((p) => promotionView(p, decisions)), nextCursor: rows.length > q.limit && last ? encodeCursor([last.requested_at, last.id]) : null };
    },

    async approve(id: string, comment: string, actor: Actor): Promise<PromotionResponse> {
      await repo.transaction(async (r, trx) => {
        const p = await forActor(r, id, actor);
        requireOpen(p, 'approve');
        if (p.requested_by === actor.name) throw errors.forbidden(`you requested promotion ${id}; another approver must approve it`);
        if (p.approval_role === 'admin' && actor.role !== 'admin') throw errors.forbidden(`promotions to ${p.to_env} need an admin's approval`);
        const decided = (await r.decisions([id])).filter((d) => d.decision === 'approve');
        if (decided.some((d) => d.decided_by === actor.name)) throw errors.conflict(`you approved promotion ${id} already; it needs ${p.approvals_required - decided.length} more approval(s) from others`);
        await r.insertDecision({ promotion_id: id, decided_by: actor.name, decision: 'approve', comment, at: iso(clock.now()) });
        await record(tx_(trx), actor, p, 'approve', { comment, approvals: decided.length + 1, required: p.approvals_required });
        if (decided.length + 1 >= p.approvals_required) {
          await jobs.cancel(tx_(trx), { key: `promotion.expire:${id}` });
          await complete(r, tx_(trx), p, actor);
        }
      });
      jobs.poke();
      return view(id);
    },

    async reject(id: string, comment: string, actor: Actor): Promise<PromotionResponse> {
      await repo.transaction(async (r, trx) => {
        const p = await forActor(r, id, actor);
        requireOpen(p, 'reject');
        const now = iso(clock.now());
        await r.insertDecision({ promotion_id: id, decided_by: actor.name, decision: 'reject', comment, at: now });
        await r.updatePromotion(id, ['pending'], { state: 'rejected', reason: `rejected by ${actor.name}: ${comment}`, decided_at: now });
        await jobs.cancel(tx_(trx), { key: `promotion.expire:${id}` });
        await record(tx_(trx), actor, { ...p, state: 'rejected' }, 'reject', { comment });
      });
      jobs.poke();
      return view(id);
    },

    async cancel(id: string, actor: Actor): Promise<PromotionResponse> {
      await repo.transaction(async (r, trx) => {
        const p = await forActor(r, id, actor);
        if (p.requested_by !== actor.name && actor.role !== 'admin') throw errors.forbidden(`only ${p.requested_by}, who requested promotion ${id}, or an admin can cancel it`);
        requireOpen(p, 'cancel');
        await r.updatePromotion(id, ['pending'], { state: 'cancelled', reason: `cancelled by ${actor.name}`, decided_at: iso(clock.now()) });
        await jobs.cancel(tx_(trx), { key: `promotion.expire:${id}` });
        await record(tx_(trx), actor, { ...p, state: 'cancelled' }, 'cancel');
      });
      jobs.poke();
      return view(id);
    },

    async rollback(environment: string, body: z.output<typeof RollbackBody>, actor: Actor): Promise<PointerMove> {
      const model = modelName(body.model);
      const namespace = namespaceOf(model);
      await policyFor(namespace, environment);
      // Resolved before the transaction: on SQLite a read outside it would wait for it.
      const named = body.to ? (await assets.getVersion('model', model, body.to)).version : null;
      return repo.transaction(async (r, trx) => {
        const cur = await r.pointerForUpdate(model, environment);
        if (!cur) throw errors.precondition(`${model} runs no version in ${environment}: there is nothing to roll back`, { environment });
        const moves = await r.moves(model, environment, 10_000);
        let to: string;
        if (named) {
          to = named;
          if (to === cur.version) throw errors.conflict(`${model}:${to} is what ${environment} runs now`);
          if (!moves.some((m) => m.version === to)) throw errors.precondition(`${model}:${to} was never in ${environment}; a rollback returns to an earlier version (promote it instead)`, { environment });
        } else {
          const good = lastKnownGood(moves, cur.version);
          if (!good) throw errors.precondition(`${environment} has no earlier known-good version of ${model}; name one with --to VERSION`, { environment });
          to = good;
        }
        const v = await assets.versionInTx(tx_(trx), 'model', model, to);
        if (v.state === 'archived' || v.state === 'pending') throw errors.precondition(`${model}:${to} is ${v.state} and cannot serve; name another with --to`, { state: v.state });
        return movePointer(r, tx_(trx), actor, { model, namespace, environment, version: to, kind: 'rollback', promotion: null, reason: body.reason || null });
      });
    },

    /** The rollout an environment's policy asks for, for a model (its team's override first). */
    async rolloutPolicy(model: string, environment: string): Promise<EnvironmentPolicy['rollout']> {
      return (await policyFor(namespaceOf(model), environment)).rollout;
    },

    /**
     * A rollout succeeded (in the caller's transaction): the pointer moves to the candidate (a
     * `rollout` move: the deployments do not roll in place, the rollout's own deployment serves
     * it) and its promotion, if it came from one, completes.
     */
    async finishRollout(tx: AnyDb, m: { model: string; environment: string; version: string; promotion: string | null; rollout: string }, actor: Actor): Promise<PointerMove> {
      const r = repo.on(tx);
      const move = await movePointer(r, tx, actor, { model: m.model, namespace: namespaceOf(m.model), environment: m.environment, version: m.version, kind: 'rollout', promotion: m.promotion, reason: `rollout ${m.rollout} succeeded` });
      if (m.promotion) {
        const p = await r.promotionForUpdate(m.promotion);
        if (p && (await r.updatePromotion(p.id, ['rolling_out'], { state: 'completed', reason: null, decided_at: iso(clock.now()) }))) {
          await record(tx, actor, { ...p, state: 'completed' }, 'complete', { rollout: m.rollout });
        }
      }
      return move;
    },

    /** A rollout of a promotion aborted or failed (in the caller's transaction): the promotion fails, its evidence kept as a `rollout` gate result. */
    async failRollout(tx: AnyDb, promotionId: string, reason: string, evidence: Record<string, unknown>): Promise<void> {
      const r = repo.on(tx);
      const p = await r.promotionForUpdate(promotionId);
      if (!p || p.state !== 'rolling_out') return;
      const gates = [...(JSON.parse(p.gates) as PromotionGateResult[]), { name: 'rollout', status: 'failed' as const, reason, evidence }];
      await r.updatePromotion(p.id, ['rolling_out'], { state: 'failed', reason, gates: JSON.stringify(gates), decided_at: iso(clock.now()) });
      await record(tx, SYSTEM_ACTOR, { ...p, state: 'failed' }, 'fail', { reason, ...evidence });
    },

    /** A promotion that waits for its rollout, or null. */
    async rollingOut(id: string): Promise<{ id: string; model: string; version: string; to: string; requestedBy: string } | null> {
      const p = await repo.promotion(id);
      return p && p.state === 'rolling_out' ? { id: p.id, model: p.model, version: p.version, to: p.to_env, requestedBy: p.requested_by } : null;
    },

    async versionEnvironments(name: string, version: string): Promise<VersionEnvironments> {
      const [current, pending] = await Promise.all([repo.pointersAt(name, version), repo.pendingOf(name, version)]);
      return {
        current: current.map((p) => ({ environment: p.environment, since: p.since })),
        pending: pending.map((p) => ({ id: p.id, to: p.to_env, requestedAt: p.requested_at })),
      };
    },

    /**
     * Version hold for the registry: a version an environment points at cannot be archived,
     * unless the environment takes every ready version by itself (development): archiving it
     * takes it out of there (`releaseArchived`).
     */
    async holdsOf(tx: AnyDb, ref: { kind: string; name: string; version: string }): Promise<string[]> {
      if (ref.kind !== 'model') return [];
      const r = repo.on(tx);
      const auto = await autoPromoting(r, ref.name);
      return (await r.pointersAt(ref.name, ref.version)).filter((p) => !auto.has(p.environment)).map((p) => `environment ${p.environment}`);
    },

    async releaseArchived(tx: AnyDb, ref: { kind: string; name: string; version: string }, actor: Actor): Promise<void> {
      if (ref.kind === 'model') await leaveAutoEnvironments(tx, ref.name, ref.version, actor, 'version archived');
    },

    /**
     * Delete guard for the registry: a version an environment points at, or one a request waits
     * to promote, stays. An environment every ready version enters by itself (`autoPromote`,
     * development) does not hold it: the deletion removes it from there (`removeDeleted`).
     */
    async deletionBlockers(tx: AnyDb, target: { kind: string; name: string; versions: readonly { version: string }[] }) {
      if (target.kind !== 'model') return [];
      const r = repo.on(tx);
      const auto = await autoPromoting(r, target.name);
      const out: { version: string; reason: string; refs: string[]; message: string }[] = [];
      for (const { version } of target.versions) {
        const envs = (await r.pointersAt(target.name, version)).map((p) => p.environment).filter((e) => !auto.has(e));
        if (envs.length) {
          out.push({ version, reason: 'environment', refs: envs, message: `environment ${envs.join(', ')} runs it (steward rollback ${target.name} --env ${envs[0]}, or promote another version, first)` });
        }
        const open = (await r.pendingOf(target.name, version)).map((p) => p.id);
        if (open.length) out.push({ version, reason: 'promotion', refs: open, message: `promotion ${open.join(', ')} waits to move it (steward promotions cancel ${open[0]} first)` });
      }
      return out;
    },

    /** With a deletion (a registry contribution's `remove`): the deleted versions leave the autoPromote environments they were in. */
    async removeDeleted(tx: AnyDb, target: { kind: string; name: string; versions: readonly { version: string }[] }, actor: Actor): Promise<number> {
      if (target.kind !== 'model') return 0;
      let n = 0;
      for (const { version } of target.versions) n += await leaveAutoEnvironments(tx, target.name, version, actor, 'version deleted');
      return n;
    },

    /** Alias guard for the registry: an environment's name is not an alias of a model. */
    async aliasRefusal(tx: AnyDb, kind: string, name: string, alias: string): Promise<string | null> {
      if (kind !== 'model') return null;
      const ns = namespaceOf(name);
      const rows = await repo.on(tx).environments(ns === null ? [] : [ns]);
      if (!policyRowFor(rows, ns, alias)) return null;
      return `${alias} is an environment, moved only by promotions and rollbacks: steward promote ${name}:VERSION --to ${alias}`;
    },

    /** Every environment's name (global or a team's). */
    async environmentNames(): Promise<string[]> {
      return [...new Set((await repo.environments(null)).map((r) => r.name))].sort();
    },

    /** What gates read as "the version in environment E": its pointer; an unknown environment is an error. */
    async versionIn(model: string, environment: string): Promise<string | null> {
      await policyFor(namespaceOf(model), environment);
      return (await repo.pointers(model, environment))[0]?.version ?? null;
    },

    /** Environments a new ready version enters by itself (policy `autoPromote`, no required source). */
    async autoEnvironments(model: string): Promise<string[]> {
      const ns = namespaceOf(model);
      const rows = await repo.environments(ns === null ? [] : [ns]);
      const names = [...new Set(rows.map((r) => r.name))];
      return names.filter((n) => {
        const p = parsePolicy(policyRowFor(rows, ns, n)!);
        return p.autoPromote && p.requiredSource === null;
      });
    },
  };
}

export type PromotionsService = ReturnType<typeof createPromotionsService>;

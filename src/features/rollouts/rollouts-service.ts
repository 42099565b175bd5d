/**
 * Rollouts: moving an environment from its stable version to a candidate through steps of
 * traffic (canary, blue-green, A/B, shadow), each analysed from the gateway's usage, with an
 * automatic rollback when an analysis fails or the candidate degrades.
 *
 * Invariant: traffic and the rollout's record move together. Every transition (a step, a pause,
 * an abort, the success) locks the rollout's row, checks the state it expects, writes the
 * gateway's split, the row, the timeline entry, the audit event and the domain event in ONE
 * transaction. So an abort racing a step transition either comes first (the step sees the
 * abort and does nothing) or second (it puts the traffic back); and a control plane that dies
 * mid-rollout leaves traffic exactly where its record says, which the rollout's job (taken over
 * after the restart) carries on from.
 */
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { namespaceOf, parseAssetRef } from '../../contracts/asset-names.js';
import type { DeploymentResponse } from '../../contracts/deployments.js';
import type { TrafficBody } from '../../contracts/gateway.js';
import {
  RolloutSpec,
  type AnalysisResult,
  type ExperimentReport,
  type ListRolloutsQuery,
  type RolloutDetail,
  type RolloutResponse,
  type RolloutState,
  type RolloutStep,
  type StartRolloutBody,
} from '../../contracts/rollouts.js';
import { iso, type Clock } from '../../platform/clock.js';
import { decodeCursor, encodeCursor } from '../../platform/cursor.js';
import { AppError, errors } from '../../platform/errors.js';
import type { Actor } from '../../platform/http/http-route.js';
import type { AnyDb } from '../../platform/sql/sql-db.js';
import { isUniqueViolation } from '../../platform/sql/sql-db.js';
import type { AssetsFeature } from '../assets/assets-wiring.js';
import type { AuditService } from '../audit/audit-service.js';
import { SYSTEM_ACTOR } from '../audit/audit-service.js';
import type { DeploymentsService } from '../deployments/deployments-service.js';
import type { EventsService } from '../events/events-service.js';
import type { GatewayFeature } from '../gateway/gateway-wiring.js';
import type { JobsService } from '../jobs/jobs-service.js';
import type { PromotionsService } from '../promotions/promotions-service.js';
import { planSteps, stableTraffic, stepTraffic } from './rollouts-fns.js';
import type { RolloutRow, RolloutsRepo, RolloutsTxRepo } from './rollouts-repo.js';

export const ROLLOUT_RUN_JOB = 'rollout.run';
export const runKey = (id: string) => `rollout.run:${id}`;
const OPEN: readonly string[] = ['pending', 'running', 'paused'];

export interface RolloutsDeps {
  repo: RolloutsRepo;
  assets: Pick<AssetsFeature, 'getVersion'>;
  promotions: Pick<PromotionsService, 'versionIn' | 'rolloutPolicy' | 'finishRollout' | 'failRollout' | 'environmentNames'>;
  deployments: Pick<DeploymentsService, 'get' | 'list' | 'cloneFor' | 'stopIn'>;
  gateway: Pick<GatewayFeature, 'checkTraffic' | 'setTrafficIn' | 'clearTrafficIn' | 'getTraffic' | 'usageWindow'>;
  audit: Pick<AuditService, 'record'>;
  events: Pick<EventsService, 'emit'>;
  jobs: Pick<JobsService, 'enqueue' | 'poke'>;
  clock: Clock;
}

const tx_ = (trx: unknown) => trx as AnyDb;
const parseJson = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

export function rolloutView(r: RolloutRow): RolloutResponse {
  return {
    id: r.id,
    model: r.model,
    environment: r.environment,
    strategy: r.strategy as RolloutResponse['strategy'],
    state: r.state as RolloutState,
    reason: r.reason,
    stable: { version: r.stable_version, deployment: r.stable_deployment },
    candidate: { version: r.candidate_version, deployment: r.candidate_deployment, created: r.candidate_created === 1 },
    promotion: r.promotion_id,
    spec: JSON.parse(r.spec) as Record<string, unknown>,
    steps: JSON.parse(r.steps) as RolloutStep[],
    step: r.step,
    stepStartedAt: r.step_started_at,
    lastAnalysis: parseJson<AnalysisResult>(r.last_analysis),
    report: parseJson<ExperimentReport>(r.report),
    createdBy: r.created_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
  };
}

export function createRolloutsService(deps: RolloutsDeps) {
  const { repo, clock } = deps;

  /** Appends to the rollout's timeline (the caller holds the row). */
  async function note(r: RolloutsTxRepo, row: RolloutRow, kind: 'state' | 'step' | 'analysis' | 'report', message: string, detail: Record<string, unknown> = {}): Promise<void> {
    row.log_seq += 1;
    await r.insertLog({ rollout_id: row.id, seq: row.log_seq, at: iso(clock.now()), kind, step: row.step >= 0 ? row.step : null, message, detail: JSON.stringify(detail) });
    await r.update(row.id, { log_seq: row.log_seq });
  }

  async function emit(tx: AnyDb, type: 'rollout.started' | 'rollout.paused' | 'rollout.resumed' | 'rollout.succeeded' | 'rollout.aborted', row: RolloutRow): Promise<void> {
    await deps.events.emit(tx, { type, subject: `rollout:${row.id}`, namespace: row.namespace, data: eventData(row) });
  }
  function eventData(row: RolloutRow) {
    return { id: row.id, model: row.model, environment: row.environment, strategy: row.strategy as RolloutResponse['strategy'], state: row.state as RolloutState, stable: row.stable_version, candidate: row.candidate_version, reason: row.reason };
  }

  async function audit(tx: AnyDb, actor: Actor, row: RolloutRow, action: string, change: Record<string, unknown> = {}): Promise<void> {
    await deps.audit.record(tx, actor, { action: `rollout.${action}`, target: `rollout:${row.id}`, change: { model: `${row.model}:${row.candidate_version}`, environment: row.environment, from: row.stable_version, strategy: row.strategy, state: row.state, ...change } });
  }

  /** The rollout for an actor: 404 when unknown or outside its namespaces (no difference shown). */
  async function forActor(id: string, actor: Actor): Promise<RolloutRow> {
    const row = await repo.get(id);
    if (!row || (actor.namespaces && (row.namespace === null || !actor.namespaces.includes(row.namespace)))) {
      throw new AppError('not_found', `rollout ${JSON.stringify(id)} not found; list them with steward rollout status`, { rollout: id });
    }
    return row;
  }

  /**
   * Runs `fn` on the locked row in one transaction when the rollout is in one of `states`
   * (else: null, or a 409 when `refuse` names the action). What `fn` writes commits with the row.
   */
  async function transition<T>(id: string, states: readonly string[], fn: (row: RolloutRow, r: RolloutsTxRepo, tx: AnyDb) => Promise<T>, refuse?: string): Promise<T | null> {
    const out = await repo.transaction(async (r, trx) => {
      const row = await r.getForUpdate(id);
      if (!row) throw new AppError('not_found', `rollout ${JSON.stringify(id)} not found`, { rollout: id });
      if (!states.includes(row.state)) {
        if (refuse) throw errors.conflict(`rollout ${id} is ${row.state}; it cannot be ${refuse}${row.reason ? ` (${row.reason})` : ''}`, { rollout: id, state: row.state });
        return null;
      }
      return fn(row, r, tx_(trx));
    });
    deps.jobs.poke();
    return out;
  }

  const fallbacksOf = (row: RolloutRow) => parseJson<TrafficBody>(row.previous_traffic)?.fallbacks ?? [];

  /**
   * Puts all traffic back on the stable version and ends the rollout (`aborted` by an operator or
   * an analysis, `failed` when it could not go on), in one transaction; a candidate the rollout
   * made is stopped, and its promotion fails with the evidence.
   */
  async function rollBack(id: string, actor: Actor, end: { state: 'aborted' | 'failed'; reason: string; evidence: Record<string, unknown> }, refuse?: string): Promise<RolloutRow | null> {
    return transition(id, OPEN, (row, r, tx) => rollBackIn(r, tx, row, actor, end), refuse);
  }

  /** The body of a rollback, in the caller's transaction, on a row it has locked. */
  async function rollBackIn(r: RolloutsTxRepo, tx: AnyDb, row: RolloutRow, actor: Actor, end: { state: 'aborted' | 'failed'; reason: string; evidence: Record<string, unknown> }): Promise<RolloutRow> {
    const now = iso(clock.now());
    await deps.gateway.setTrafficIn(tx, row.model, row.environment, stableTraffic(row.stable_deployment, fallbacksOf(row)), actor);
    if (row.candidate_created && row.candidate_deployment) await deps.deployments.stopIn(tx, row.candidate_deployment, actor, `rollout ${row.id} ${end.state}`);
    const next = { ...row, state: end.state, reason: end.reason, updated_at: now, finished_at: now };
    await r.update(row.id, { state: end.state, reason: end.reason, updated_at: now, finished_at: now });
    await note(r, next, 'state', `${end.state}: ${end.reason}; traffic is on ${row.model}:${row.stable_version} (${row.stable_deployment})`, end.evidence);
    await audit(tx, actor, next, end.state === 'failed' ? 'fail' : 'abort', { reason: end.reason, ...end.evidence });
    await emit(tx, 'rollout.aborted', next);
    if (row.promotion_id) await deps.promotions.failRollout(tx, row.promotion_id, `rollout ${row.id} ${end.state}: ${end.reason}`, { rollout: row.id, ...end.evidence });
    return next;
  }

  /** The candidate takes everything, the pointer moves, the stable deployment is retired (one transaction). */
  async function succeed(id: string, actor: Actor, states: readonly string[], refuse?: string): Promise<RolloutRow | null> {
    return transition(
      id,
      states,
      async (row, r, tx) => {
        if (!row.candidate_deployment) throw errors.precondition(`rollout ${row.id} has no candidate deployment yet; wait for it to start, or abort`, { rollout: row.id });
        const now = iso(clock.now());
        await deps.promotions.finishRollout(tx, { model: row.model, environment: row.environment, version: row.candidate_version, promotion: row.promotion_id, rollout: row.id }, actor);
        await deps.deployments.stopIn(tx, row.stable_deployment, actor, `rollout ${row.id} succeeded: ${row.model}:${row.candidate_version} serves ${row.environment}`);
        // Without a split the environment's deployments serve it: the candidate, now the stable one.
        // An operator's split before the rollout kept its fallbacks: they stay, on the new arm.
        if (row.previous_traffic) await deps.gateway.setTrafficIn(tx, row.model, row.environment, stableTraffic(row.candidate_deployment, fallbacksOf(row)), actor);
        else await deps.gateway.clearTrafficIn(tx, row.model, row.environment, actor);
        const next = { ...row, state: 'succeeded', reason: null, updated_at: now, finished_at: now };
        await r.update(row.id, { state: 'succeeded', reason: null, updated_at: now, finished_at: now });
        await note(r, next, 'state', `succeeded: ${row.environment} runs ${row.model}:${row.candidate_version} (${row.candidate_deployment}); ${row.stable_deployment} is stopped`);
        await audit(tx, actor, next, 'succeed');
        await emit(tx, 'rollout.succeeded', next);
        return next;
      },
      refuse,
    );
  }

  /** Moves traffic to step `to` (from `from`), when the rollout is still running there. */
  async function applyStep(id: string, from: number, to: number, actor: Actor): Promise<RolloutRow | null> {
    return transition(id, ['pending', 'running'], async (row, r, tx) => {
      if (row.step !== from || !row.candidate_deployment) return null;
      const steps = JSON.parse(row.steps) as RolloutStep[];
      const s = steps[to]!;
      const spec = JSON.parse(row.spec) as RolloutSpec;
      const now = iso(clock.now());
      await deps.gateway.setTrafficIn(tx, row.model, row.environment, stepTraffic(s, { stable: row.stable_deployment, candidate: row.candidate_deployment }, spec.sticky, fallbacksOf(row)), actor);
      const next = { ...row, state: 'running', step: to, step_started_at: now, updated_at: now };
      await r.update(row.id, { state: 'running', step: to, step_started_at: now, updated_at: now });
      const what = s.kind === 'shadow' ? `${s.shadowPercent}% of requests mirrored to the candidate` : `${s.weight}% of traffic on the candidate`;
      await note(r, next, 'step', `step ${to + 1}/${steps.length} (${s.kind}): ${what}, held ${s.holdSeconds} s`, { ...s });
      await deps.events.emit(tx, { type: 'rollout.step', subject: `rollout:${row.id}`, namespace: row.namespace, data: { ...eventData(next), step: to, weight: s.weight } });
      return next;
    });
  }

  const service = {
    transition,
    note,
    rollBack,
    succeed,
    applyStep,
    emit,
    audit,

    async start(body: StartRolloutBody, actor: Actor, promotion: string | null = null): Promise<RolloutResponse> {
      const ref = parseAssetRef(body.model.trim(), { requireRef: true });
      if (typeof ref === 'string') throw errors.invalid(`${ref}: name the candidate version (NAME:VERSION)`);
      const v = await deps.assets.getVersion('model', ref.name, ref.ref!);
      const model = v.name;
      const label = `${model}:${v.version}`;
      if (v.state !== 'ready') throw errors.precondition(`${label} is ${v.state}; only a ready version can be rolled out`, { state: v.state });
      const known = await deps.promotions.environmentNames();
      if (!known.includes(body.environment)) throw errors.invalid(`environment ${JSON.stringify(body.environment)} does not exist; known: ${known.join(', ')}`, { environment: body.environment, known });
      const stableVersion = await deps.promotions.versionIn(model, body.environment);
      if (!stableVersion) throw errors.precondition(`${body.environment} runs no version of ${model}: there is nothing to roll from; promote it (steward promote ${label} --to ${body.environment})`, { environment: body.environment });
      if (stableVersion === v.version) throw errors.conflict(`${body.environment} runs ${label} already`, { environment: body.environment });

      // The spec: the environment's policy, with the request's fields over it (analysis field by field).
      const policy = await deps.promotions.rolloutPolicy(model, body.environment);
      const over = body.spec ?? {};
      const parsed = RolloutSpec.safeParse({ ...policy, ...over, analysis: { ...policy.analysis, ...((over.analysis as object | undefined) ?? {}) } });
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw errors.invalid(`rollout spec: ${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`, { issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
      }
      const spec = parsed.data;
      if (spec.strategy === 'rolling') throw errors.invalid('a rolling update is what a promotion does in place (steward promote); a rollout is canary, blue-green, ab or shadow', { strategy: spec.strategy });
      const steps = planSteps(spec);

      const previous = await deps.gateway.getTraffic(model, body.environment).catch((err: unknown) => {
        if (err instanceof AppError && err.code === 'not_found') return null;
        throw err;
      });
      const stable = await stableDeployment(model, body.environment, stableVersion, previous);
      let candidate: DeploymentResponse | null = null;
      if (body.candidateDeployment) {
        candidate = await deps.deployments.get(body.candidateDeployment, actor).catch((err: unknown) => {
          if (err instanceof AppError && err.code === 'not_found') throw errors.precondition(`deployment ${body.candidateDeployment} does not exist`, { deployment: body.candidateDeployment });
          throw err;
        });
        if (candidate.model.name !== model || candidate.model.version !== v.version) throw errors.precondition(`deployment ${candidate.id} serves ${candidate.model.name}:${candidate.model.version}, not ${label}`, { deployment: candidate.id });
        if (candidate.environment !== body.environment) throw errors.precondition(`deployment ${candidate.id} is in ${candidate.environment}; a candidate runs in the environment it will serve (${body.environment})`, { deployment: candidate.id });
        if (candidate.state === 'stopped' || candidate.state === 'failed') throw errors.precondition(`deployment ${candidate.id} is ${candidate.state}`, { deployment: candidate.id, state: candidate.state });
      } else {
        // A deployment of the candidate already in the environment (an operator's, e.g. external) is the candidate.
        candidate = (await deps.deployments.list({ model, environment: body.environment, limit: 100 }, SYSTEM_ACTOR)).items.find((d) => d.model.version === v.version && d.state !== 'stopped' && d.state !== 'failed') ?? null;
      }
      if (!candidate && stable.driver !== 'local') {
        throw errors.precondition(`the stable deployment ${stable.id} uses driver ${stable.driver}: deploy ${label} in ${body.environment} yourself and name it with candidateDeployment (--candidate-deployment)`, { deployment: stable.id, driver: stable.driver });
      }
      // Traffic pinned to the stable arm before the candidate exists: a new deployment in the
      // environment would otherwise take its share of the environment's traffic as soon as it is ready.
      const pinned = stableTraffic(stable.id, previous?.fallbacks ?? []);
      await deps.gateway.checkTraffic(model, body.environment, pinned, actor);

      const now = iso(clock.now());
      const row: RolloutRow = {
        id: `ro_${randomBytes(9).toString('base64url')}`,
        model,
        namespace: namespaceOf(model),
        environment: body.environment,
        strategy: spec.strategy,
        state: 'pending',
        reason: null,
        stable_version: stableVersion,
        stable_deployment: stable.id,
        candidate_version: v.version,
        candidate_deployment: candidate?.id ?? null,
        candidate_created: 0,
        promotion_id: promotion,
        spec: JSON.stringify(spec),
        steps: JSON.stringify(steps),
        step: -1,
        step_started_at: null,
        last_analysis: null,
        report: null,
        previous_traffic: previous ? JSON.stringify({ arms: previous.arms, sticky: previous.sticky, shadow: previous.shadow, fallbacks: previous.fallbacks }) : null,
        log_seq: 0,
        created_by: actor.name,
        created_at: now,
        updated_at: now,
        finished_at: null,
      };
      try {
        await repo.transaction(async (r, trx) => {
          const tx = tx_(trx);
          const open = await r.open(model, body.environment);
          if (open) throw overlapping(open);
          await r.insert(row);
          await deps.gateway.setTrafficIn(tx, model, body.environment, pinned, actor);
          await note(r, row, 'state', `started: ${spec.strategy} from ${model}:${stableVersion} (${stable.id}) to ${label}${body.reason ? ` — ${body.reason}` : ''}`, { steps, promotion });
          await audit(tx, actor, row, 'start', { steps, spec: { ...spec }, promotion, reason: body.reason });
          await emit(tx, 'rollout.started', row);
          await deps.jobs.enqueue(tx, { kind: ROLLOUT_RUN_JOB, key: runKey(row.id), payload: { id: row.id } });
        });
      } catch (err) {
        if (isUniqueViolation(err)) {
          const open = await repo.open(model, body.environment);
          if (open) throw overlapping(open);
        }
        throw err;
      }
      deps.jobs.poke();
      return rolloutView((await repo.get(row.id))!);
    },

    /**
     * The environment's pointer moved under an unfinished rollout, by something else than it (a
     * rollback, a removal): the rollout ends in that event's transaction, traffic back on its stable arm.
     */
    async pointerMoved(tx: AnyDb, move: { model: string; environment: string; version: string | null; kind: string }): Promise<void> {
      if (move.kind === 'rollout') return;
      const r = repo.on(tx);
      const open = await r.open(move.model, move.environment);
      if (!open) return;
      const row = await r.getForUpdate(open.id);
      if (!row || !OPEN.includes(row.state)) return;
      const reason = `${move.environment} was moved to ${move.version ?? 'no version'} by a ${move.kind} during the rollout`;
      await rollBackIn(r, tx, row, SYSTEM_ACTOR, { state: 'aborted', reason, evidence: { move } });
    },

    /**
     * A promotion completed into an environment whose policy rolls out: the rollout starts (once:
     * a second execution finds it); a refusal fails the promotion with the reason.
     */
    async startForPromotion(p: { id: string; model: string; version: string; to: string }): Promise<void> {
      if (await repo.byPromotion(p.id)) return;
      try {
        await service.start({ model: `${p.model}:${p.version}`, environment: p.to, reason: `promotion ${p.id}` }, SYSTEM_ACTOR, p.id);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        await repo.transaction(async (_r, trx) => deps.promotions.failRollout(tx_(trx), p.id, `the rollout could not start: ${err.message}`, { error: err.code }));
      }
    },

    async get(id: string, actor: Actor): Promise<RolloutDetail> {
      const row = await forActor(id, actor);
      const log = await repo.log(id);
      return { ...rolloutView(row), timeline: log.map((l) => ({ seq: l.seq, at: l.at, kind: l.kind as 'state', step: l.step, message: l.message, detail: JSON.parse(l.detail) as Record<string, unknown> })) };
    },

    async list(q: z.output<typeof ListRolloutsQuery>, actor: Actor) {
      const after = q.cursor ? (decodeCursor(q.cursor, 2) as [string, string]) : undefined;
      const rows = await repo.list({ ...(q.model ? { model: q.model } : {}), ...(q.environment ? { environment: q.environment } : {}), ...(q.state ? { state: q.state } : {}), namespaces: actor.namespaces, ...(after ? { after } : {}), limit: q.limit + 1 });
      const items = rows.slice(0, q.limit);
      const last = items[items.length - 1];
      return { items: items.map(rolloutView), nextCursor: rows.length > q.limit && last ? encodeCursor([last.created_at, last.id]) : null };
    },

    async pause(id: string, reason: string, actor: Actor): Promise<RolloutResponse> {
      await forActor(id, actor);
      const row = await transition(
        id,
        ['pending', 'running'],
        async (row, r, tx) => {
          const why = reason || `paused by ${actor.name}`;
          const next = { ...row, state: 'paused', reason: why, updated_at: iso(clock.now()) };
          await r.update(id, { state: 'paused', reason: why, updated_at: next.updated_at });
          await note(r, next, 'state', `paused: ${why}; traffic stays as it is`);
          await audit(tx, actor, next, 'pause', { reason: why });
          await emit(tx, 'rollout.paused', next);
          return next;
        },
        'paused',
      );
      return rolloutView(row!);
    },

    async resume(id: string, actor: Actor): Promise<RolloutResponse> {
      const cur = await forActor(id, actor);
      if (cur.state === 'paused' && cur.report) throw errors.conflict(`rollout ${id} has finished its experiment; promote the candidate or abort`, { rollout: id, state: cur.state });
      const row = await transition(
        id,
        ['paused'],
        async (row, r, tx) => {
          const now = iso(clock.now());
          // The step starts again: its hold and its analysis window restart from now.
          const next = { ...row, state: row.step >= 0 ? 'running' : 'pending', reason: null, step_started_at: row.step >= 0 ? now : null, updated_at: now };
          await r.update(id, { state: next.state, reason: null, step_started_at: next.step_started_at, updated_at: now });
          await note(r, next, 'state', `resumed by ${actor.name}`);
          await audit(tx, actor, next, 'resume');
          await emit(tx, 'rollout.resumed', next);
          await deps.jobs.enqueue(tx, { kind: ROLLOUT_RUN_JOB, key: runKey(id), payload: { id } });
          return next;
        },
        'resumed',
      );
      return rolloutView(row!);
    },

    /** Skips the remaining steps and analyses: the candidate takes all the traffic now. */
    async promote(id: string, actor: Actor): Promise<RolloutResponse> {
      const row = await forActor(id, actor);
      // Never switch to a candidate that does not serve: the stable deployment stops with the switch.
      const cand = row.candidate_deployment ? await deps.deployments.get(row.candidate_deployment, SYSTEM_ACTOR) : null;
      if (OPEN.includes(row.state) && (!cand || (cand.state !== 'ready' && cand.state !== 'degraded'))) {
        throw errors.precondition(`rollout ${id}'s candidate ${cand ? `deployment ${cand.id} is ${cand.state}` : 'deployment is being made'}; promote it once it serves, or abort`, { rollout: id, state: cand?.state ?? null });
      }
      return rolloutView((await succeed(id, actor, ['pending', 'running', 'paused'], 'promoted'))!);
    },

    async abort(id: string, reason: string, actor: Actor): Promise<RolloutResponse> {
      await forActor(id, actor);
      const why = reason || `aborted by ${actor.name}`;
      return rolloutView((await rollBack(id, actor, { state: 'aborted', reason: why, evidence: { by: actor.name } }, 'aborted'))!);
    },
  };
  return service;

  function overlapping(open: RolloutRow): AppError {
    return errors.conflict(`rollout ${open.id} (${open.strategy} to ${open.model}:${open.candidate_version}) is ${open.state} in ${open.environment}; finish or abort it first`, { rollout: open.id, state: open.state });
  }

  /** The deployment serving the stable version in the environment: the previous split's main arm, else the first ready one. */
  async function stableDeployment(model: string, environment: string, version: string, previous: TrafficBody | null): Promise<DeploymentResponse> {
    const page = await deps.deployments.list({ model, environment, limit: 100 }, SYSTEM_ACTOR);
    const serving = page.items.filter((d) => d.model.version === version && d.state !== 'stopped' && d.state !== 'failed');
    const main = previous ? [...previous.arms].sort((a, b) => b.weight - a.weight).map((a) => serving.find((d) => d.id === a.deployment)).find(Boolean) : undefined;
    const pick = main ?? serving.find((d) => d.state === 'ready') ?? serving[0];
    if (!pick) throw errors.precondition(`no deployment serves ${model}:${version} in ${environment}; deploy it first (steward deploy ${model}:${version} --env ${environment})`, { environment });
    return pick;
  }
}

export type RolloutsService = ReturnType<typeof createRolloutsService>;

/**
 * Service-level objectives per model and environment, read from the rollups: the SLI and error
 * budget over the SLO's window, burn rates over the alert windows, and the alert each SLO fires.
 * Evaluation (`evaluate`, a periodic job) compares what fires with what fired before and records
 * the change with its event (`slo.alert.firing` / `slo.alert.resolved`) in one transaction, so
 * an alert starts and ends exactly once. Also the judge of promotions' live criteria.
 */
import type { z } from 'zod';
import { namespaceOf, NAME_RE } from '../../contracts/asset-names.js';
import { durationSeconds, type ListSlosQuery, type SloBody, type SloKind, type SloResponse, type SloStatus } from '../../contracts/monitoring.js';
import type { PromotionGateResult } from '../../contracts/promotions.js';
import { addSeconds, iso, type Clock } from '../../platform/clock.js';
import { AppError, errors } from '../../platform/errors.js';
import type { Actor } from '../../platform/http/http-route.js';
import type { AnyDb } from '../../platform/sql/sql-db.js';
import type { AuditService } from '../audit/audit-service.js';
import type { EventsService } from '../events/events-service.js';
import type { LiveGateInput, PromotionsService } from '../promotions/promotions-service.js';
import { availabilityCounts, latencySloCounts } from './monitoring-fns.js';
import type { MonitoringRepo, SloRow } from './monitoring-repo.js';
import { throughNow, type MonitoringService } from './monitoring-service.js';
import { budgetRemaining, BURN_WINDOWS, evaluateBurn, parseCriterion, sli, type Counts } from './monitoring-slo-fns.js';

const target = (model: string, env: string) => `slo:${model}:${env}`;
const fmt = (n: number | null) => (n === null ? 'none' : String(Number(n.toPrecision(4))));

export function createSloService(deps: {
  repo: MonitoringRepo;
  rollups: Pick<MonitoringService, 'sum' | 'window'>;
  audit: Pick<AuditService, 'record'>;
  events: Pick<EventsService, 'emit'>;
  promotions: Pick<PromotionsService, 'environmentNames'>;
  clock: Clock;
  minRequests: number;
}) {
  const { repo, rollups, clock } = deps;

  const bodyOf = (row: SloRow) => JSON.parse(row.body) as SloBody;

  /** Counters and histograms of the model in the environment over the last `seconds`. */
  async function valuesOver(model: string, environment: string, seconds: number, version?: string): Promise<Float64Array> {
    const now = clock.now();
    return rollups.sum({ model, environment, ...(version !== undefined ? { version } : {}), shadow: false, since: iso(addSeconds(now, -seconds)), until: iso(throughNow(now)) });
  }

  /** Each objective of an SLO: its SLI and budget over the SLO's window, burn rates over the alert windows. */
  async function statusOf(row: SloRow, version?: string, windowSeconds?: number): Promise<SloStatus[]> {
    const body = bodyOf(row);
    const windows = new Map<string, Float64Array>();
    const sloWindow = windowSeconds ?? durationSeconds(body.window)!;
    windows.set('slo', await valuesOver(row.model, row.environment, sloWindow, version));
    if (windowSeconds === undefined) for (const [w, s] of BURN_WINDOWS) windows.set(w, await valuesOver(row.model, row.environment, s, version));
    const objectives: { slo: SloKind; objective: number; counts: (v: Float64Array) => Counts }[] = [];
    if (body.availability !== null) objectives.push({ slo: 'availability', objective: body.availability, counts: availabilityCounts });
    if (body.latency !== null) {
      const { thresholdMs, percent } = body.latency;
      objectives.push({ slo: 'latency', objective: percent / 100, counts: (v) => latencySloCounts(v, thresholdMs) });
    }
    return objectives.map((o) => {
      const c = o.counts(windows.get('slo')!);
      const burn = windowSeconds === undefined ? evaluateBurn((w) => o.counts(windows.get(w)!), o.objective) : { burnRates: [], alert: null };
      const round = (n: number | null) => (n === null ? null : Number(n.toFixed(6)));
      return { slo: o.slo, objective: o.objective, sli: round(sli(c)), requests: c.valid, budgetRemaining: round(budgetRemaining(c, o.objective)), burnRates: burn.burnRates, alert: burn.alert };
    });
  }

  async function view(row: SloRow): Promise<SloResponse> {
    const body = bodyOf(row);
    return { model: row.model, environment: row.environment, availability: body.availability, latency: body.latency, window: body.window, updatedAt: row.updated_at, updatedBy: row.updated_by, status: await statusOf(row) };
  }

  async function rowFor(model: string, env: string): Promise<SloRow> {
    const row = await repo.slo(model, env);
    if (!row) throw new AppError('not_found', `no SLO for ${model} in ${env}; set one with steward slo set ${model} --env ${env} --availability 0.995`, { model, environment: env });
    return row;
  }

  /** Records a change of an SLO's alert with its event; `next` null resolves. */
  async function transition(tx: AnyDb, row: SloRow, s: SloStatus, previous: string | null, next: 'page' | 'ticket' | null): Promise<void> {
    const body = bodyOf(row);
    const data = (severity: 'page' | 'ticket') => ({ model: row.model, environment: row.environment, slo: s.slo, severity, objective: s.objective, window: body.window, budgetRemaining: s.budgetRemaining, burnRates: s.burnRates });
    const ns = namespaceOf(row.model);
    if (previous) await deps.events.emit(tx, { type: 'slo.alert.resolved', subject: target(row.model, row.environment), namespace: ns, data: data(previous as 'page') });
    if (next) {
      await repo.setAlert(tx, { model: row.model, environment: row.environment, slo: s.slo, severity: next, since: iso(clock.now()) });
      await deps.events.emit(tx, { type: 'slo.alert.firing', subject: target(row.model, row.environment), namespace: ns, data: data(next) });
    } else await repo.clearAlert(tx, row.model, row.environment, s.slo);
  }

  return {
    async put(model: string, env: string, body: SloBody, actor: Actor): Promise<SloResponse> {
      if (!NAME_RE.test(model)) throw errors.invalid(`${JSON.stringify(model)} is not a model name (name or namespace/name)`, { model });
      const known = await deps.promotions.environmentNames();
      if (!known.includes(env)) throw errors.invalid(`environment ${JSON.stringify(env)} does not exist; known: ${known.join(', ')}`, { environment: env, known });
      const now = iso(clock.now());
      await repo.transaction(async (tx) => {
        const created = await repo.putSlo(tx, { model, environment: env, namespace: namespaceOf(model), body: JSON.stringify(body), updated_at: now, updated_by: actor.name });
        await deps.audit.record(tx, actor, { action: created ? 'slo.create' : 'slo.update', target: target(model, env), change: { ...body } });
      });
      return view(await rowFor(model, env));
    },

    async get(model: string, env: string): Promise<SloResponse> {
      return view(await rowFor(model, env));
    },

    async list(q: z.output<typeof ListSlosQuery>, actor: Actor): Promise<{ items: SloResponse[] }> {
      const rows = await repo.slos({ ...(q.model ? { model: q.model } : {}), namespaces: actor.namespaces });
      return { items: await Promise.all(rows.map(view)) };
    },

    /** Removes an SLO; its firing alerts resolve with it. */
    async remove(model: string, env: string, actor: Actor): Promise<void> {
      const row = await rowFor(model, env);
      const status = await statusOf(row);
      await repo.transaction(async (tx) => {
        await repo.sloForUpdate(tx, model, env);
        if (!(await repo.deleteSlo(tx, model, env))) throw new AppError('not_found', `no SLO for ${model} in ${env}`, { model, environment: env });
        for (const a of await repo.alerts(tx, model, env)) {
          const s = status.find((x) => x.slo === a.slo);
          if (s) await transition(tx, row, s, a.severity, null);
          else await repo.clearAlert(tx, model, env, a.slo);
        }
        await deps.audit.record(tx, actor, { action: 'slo.delete', target: target(model, env), change: { ...bodyOf(row) } });
      });
    },

    /** Evaluates every SLO now: alerts that start fire, alerts that stop resolve (each once). */
    async evaluate(): Promise<{ slos: number; changes: number }> {
      const rows = await repo.slos({ namespaces: null });
      let changes = 0;
      for (const row of rows) {
        const status = await statusOf(row);
        await repo.transaction(async (tx) => {
          // Removed meanwhile: its alerts were resolved with it.
          if (!(await repo.sloForUpdate(tx, row.model, row.environment))) return;
          const firing = new Map((await repo.alerts(tx, row.model, row.environment)).map((a) => [a.slo, a.severity]));
          for (const s of status) {
            const before = firing.get(s.slo) ?? null;
            if (before === s.alert) continue;
            await transition(tx, row, s, before, s.alert);
            changes++;
          }
        });
      }
      return { slos: rows.length, changes };
    },

    /** Promotions' live gate: the version's figures in the source environment against the policy's criteria. */
    async liveGate(input: LiveGateInput): Promise<PromotionGateResult> {
      const model = `${input.model}:${input.version}`;
      const parsed = input.criteria.map(parseCriterion);
      const bad = parsed.filter((p): p is string => typeof p === 'string');
      if (bad.length) return { name: 'live', status: 'error', reason: bad.join('; '), evidence: { criteria: [...input.criteria] } };
      const criteria = parsed as Exclude<(typeof parsed)[number], string>[];
      const min = criteria.find((c) => c.kind === 'min-requests')?.count ?? deps.minRequests;
      const where = input.source ? `in ${input.source}` : 'in any environment';
      const results: { criterion: string; status: 'passed' | 'failed' | 'inconclusive'; reason: string }[] = [];
      for (const c of criteria) {
        if (c.kind === 'min-requests') continue;
        if (c.kind === 'slo-met') {
          if (!input.source) {
            results.push({ criterion: c.text, status: 'inconclusive', reason: 'the policy names no required source environment to read SLOs in' });
            continue;
          }
          const row = await repo.slo(input.model, input.source);
          if (!row) {
            results.push({ criterion: c.text, status: 'inconclusive', reason: `${input.model} has no SLO in ${input.source} (steward slo set)` });
            continue;
          }
          for (const s of await statusOf(row, input.version, c.seconds)) {
            if (s.requests < min) results.push({ criterion: c.text, status: 'inconclusive', reason: `${s.slo}: ${s.requests} requests of ${model} ${where}, ${min} needed` });
            else {
              const met = s.sli !== null && s.sli >= s.objective;
              results.push({ criterion: c.text, status: met ? 'passed' : 'failed', reason: `${s.slo} SLI ${fmt(s.sli)} ${met ? '≥' : '<'} objective ${s.objective} over ${s.requests} requests` });
            }
          }
          continue;
        }
        const w = await rollups.window({ model: input.model, version: input.version, ...(input.source ? { environment: input.source } : {}), since: addSeconds(clock.now(), -c.seconds) });
        if (w.requests < min) {
          results.push({ criterion: c.text, status: 'inconclusive', reason: `${w.requests} requests of ${model} ${where}, ${min} needed` });
          continue;
        }
        const value = c.kind === 'error-rate' ? w.errorRate : c.kind === 'p95' ? w.p95LatencyMs : w.p95TtftMs;
        if (value === null) results.push({ criterion: c.text, status: 'inconclusive', reason: `no ${c.kind} figure for ${model} ${where}` });
        else results.push({ criterion: c.text, status: value < c.below ? 'passed' : 'failed', reason: `${c.kind} ${fmt(value)} ${value < c.below ? '<' : '≥'} ${c.below} over ${w.requests} requests` });
      }
      const status = results.some((r) => r.status === 'failed') ? 'failed' : results.some((r) => r.status === 'inconclusive') || !results.length ? 'inconclusive' : 'passed';
      const reason = results.length ? results.map((r) => `${r.criterion}: ${r.reason}`).join('; ') : 'the policy names no live criterion to judge';
      return { name: 'live', status, reason, evidence: { source: input.source, minRequests: min, results } };
    },
  };
}
export type SloService = ReturnType<typeof createSloService>;

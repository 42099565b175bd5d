/**
 * Drift and feedback. Drift compares the distribution of input lengths, output lengths and
 * refusals of a recent window with a baseline (by default the first day of traffic of the model
 * in the environment) by population stability index; a periodic check records each model and
 * environment's level and emits `monitoring.drift.detected` when it rises to warn or alert (once
 * per rise, not on every check). Feedback links a rating to the request the gateway answered
 * (by its x-request-id) and so to the model version that answered it.
 */
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { namespaceOf } from '../../contracts/asset-names.js';
import { durationSeconds, type DriftLevel, type DriftQuery, type DriftResponse, type FeedbackBody } from '../../contracts/monitoring.js';
import { addSeconds, iso, type Clock } from '../../platform/clock.js';
import { AppError, errors } from '../../platform/errors.js';
import type { Actor } from '../../platform/http/http-route.js';
import type { AuditService } from '../audit/audit-service.js';
import type { EventsService } from '../events/events-service.js';
import type { GatewayFeature } from '../gateway/gateway-wiring.js';
import { histogramMean, inputLengthCounts, outputLengthCounts, psi, refusalCounts, requestsOf, TOKEN_BOUNDS } from './monitoring-fns.js';
import type { FeedbackRow, MonitoringRepo } from './monitoring-repo.js';
import { throughNow, type MonitoringService } from './monitoring-service.js';

const RANK: Record<DriftLevel, number> = { insufficient: 0, ok: 1, warn: 2, alert: 3 };

export interface DriftSettings {
  warn: number;
  alert: number;
  minRequests: number;
}

/** `SINCE/UNTIL` (RFC 3339) as dates, or null. */
function interval(text: string): { since: Date; until: Date } | null {
  const [a, b, ...rest] = text.split('/');
  if (!a || !b || rest.length) return null;
  const since = Date.parse(a);
  const until = Date.parse(b);
  return Number.isFinite(since) && Number.isFinite(until) && since < until ? { since: new Date(since), until: new Date(until) } : null;
}

export function createDriftService(deps: {
  repo: MonitoringRepo;
  rollups: Pick<MonitoringService, 'sum'>;
  gateway: Pick<GatewayFeature, 'usageByRequest'>;
  audit: Pick<AuditService, 'record'>;
  events: Pick<EventsService, 'emit'>;
  clock: Clock;
  settings: DriftSettings;
}) {
  const { repo, rollups, clock, settings } = deps;

  const levelOf = (value: number | null, n: number): DriftLevel =>
    value === null || n < settings.minRequests ? 'insufficient' : value >= settings.alert ? 'alert' : value >= settings.warn ? 'warn' : 'ok';

  async function drift(q: z.output<typeof DriftQuery>): Promise<DriftResponse> {
    const now = clock.now();
    const ws = durationSeconds(q.window);
    const win = ws !== null ? { since: addSeconds(now, -ws), until: throughNow(now) } : interval(q.window);
    if (!win) throw errors.invalid(`window ${JSON.stringify(q.window)} is a duration back from now (24h) or SINCE/UNTIL (RFC 3339)`, { window: q.window });
    let base: { since: Date; until: Date } | null;
    const first = /^first:(.+)$/.exec(q.baseline);
    if (first) {
      const len = durationSeconds(first[1]!);
      if (len === null) throw errors.invalid(`baseline ${JSON.stringify(q.baseline)}: first:DURATION, e.g. first:24h`, { baseline: q.baseline });
      const start = await repo.firstBucket(q.model, q.environment, q.version);
      base = start ? { since: new Date(start), until: addSeconds(new Date(start), len) } : { since: now, until: now };
    } else base = interval(q.baseline);
    if (!base) throw errors.invalid(`baseline ${JSON.stringify(q.baseline)} is first:DURATION (first:24h) or SINCE/UNTIL (RFC 3339)`, { baseline: q.baseline });

    const read = (r: { since: Date; until: Date }) =>
      rollups.sum({ model: q.model, environment: q.environment, ...(q.version !== undefined ? { version: q.version } : {}), shadow: false, since: iso(r.since), until: iso(r.until) });
    const [b, w] = base.since < base.until ? await Promise.all([read(base), read(win)]) : [null, await read(win)];
    const nb = b ? requestsOf(b) : 0;
    const nw = requestsOf(w);
    const round = (n: number | null) => (n === null ? null : Number(n.toFixed(4)));
    const metric = (name: DriftResponse['metrics'][number]['name'], pb: ArrayLike<number> | null, pw: ArrayLike<number>, n: [number, number], mean: (c: ArrayLike<number>) => number | null) => {
      const value = pb ? psi(pb, pw) : null;
      return { name, psi: round(value), level: levelOf(value, Math.min(...n)), baseline: pb ? round(mean(pb)) : null, window: round(mean(pw)) };
    };
    const refusals = (v: Float64Array) => {
      const r = refusalCounts(v);
      return [r.known - r.refused, r.refused];
    };
    const rate = (c: ArrayLike<number>) => (c[0]! + c[1]! ? c[1]! / (c[0]! + c[1]!) : null);
    const bRef = b ? refusalCounts(b).known : 0;
    const metrics = [
      metric('input_tokens', b ? inputLengthCounts(b) : null, inputLengthCounts(w), [nb, nw], (c) => histogramMean(TOKEN_BOUNDS, c)),
      metric('output_tokens', b ? outputLengthCounts(b) : null, outputLengthCounts(w), [nb, nw], (c) => histogramMean(TOKEN_BOUNDS, c)),
      metric('refusal_rate', b ? refusals(b) : null, refusals(w), [bRef, refusalCounts(w).known], rate),
    ];
    const judged = metrics.filter((m) => m.level !== 'insufficient');
    const level = judged.length ? judged.reduce<DriftLevel>((worst, m) => (RANK[m.level] > RANK[worst] ? m.level : worst), 'ok') : 'insufficient';
    return {
      model: q.model,
      environment: q.environment,
      version: q.version ?? null,
      baseline: { since: iso(base.since), until: iso(base.until), requests: nb },
      window: { since: iso(win.since), until: iso(win.until), requests: nw },
      thresholds: { warn: settings.warn, alert: settings.alert, minRequests: settings.minRequests },
      level,
      metrics,
    };
  }

  function feedbackView(r: FeedbackRow) {
    return {
      id: r.id,
      requestId: r.request_id,
      model: r.model,
      version: r.version,
      environment: r.environment,
      thumbs: r.thumbs as 'up' | 'down' | null,
      score: r.score === null ? null : Number(r.score),
      comment: r.comment,
      createdAt: r.created_at,
      createdBy: r.created_by,
    };
  }

  return {
    drift,

    /** Checks every model and environment with traffic in the last day; emits when a level rises to warn or alert. */
    async check(): Promise<{ checked: number; detected: number }> {
      const pairs = await repo.activePairs(iso(addSeconds(clock.now(), -86_400)));
      let detected = 0;
      for (const p of pairs) {
        const d = await drift({ model: p.model, environment: p.environment, baseline: 'first:24h', window: '24h' });
        await repo.transaction(async (tx) => {
          const before = ((await repo.driftLevel(tx, p.model, p.environment)) ?? 'insufficient') as DriftLevel;
          await repo.setDriftLevel(tx, { model: p.model, environment: p.environment, level: d.level, checked_at: iso(clock.now()) });
          if ((d.level === 'warn' || d.level === 'alert') && RANK[d.level] > RANK[before]) {
            detected++;
            await deps.events.emit(tx, {
              type: 'monitoring.drift.detected',
              subject: `model:${p.model}`,
              namespace: namespaceOf(p.model),
              data: {
                model: p.model,
                environment: p.environment,
                level: d.level,
                metrics: d.metrics.map((m) => ({ name: m.name, psi: m.psi, level: m.level })),
                baseline: { since: d.baseline.since, until: d.baseline.until },
                window: { since: d.window.since, until: d.window.until },
              },
            });
          }
        });
      }
      return { checked: pairs.length, detected };
    },

    async createFeedback(body: z.output<typeof FeedbackBody>, actor: Actor) {
      const usage = await deps.gateway.usageByRequest(body.requestId);
      const ns = usage ? namespaceOf(usage.model) : null;
      // Outside the caller's namespaces reads as unknown: a 403 would say the request exists.
      if (!usage || (actor.namespaces && (ns === null || !actor.namespaces.includes(ns)))) {
        throw new AppError('not_found', `no request ${JSON.stringify(body.requestId)} is known: feedback names the x-request-id a gateway answered with and its usage record is still kept`, { requestId: body.requestId });
      }
      const row: FeedbackRow = {
        id: `fb_${randomBytes(12).toString('base64url')}`,
        request_id: body.requestId,
        model: usage.model,
        version: usage.version,
        environment: usage.environment,
        namespace: ns,
        thumbs: body.thumbs ?? null,
        score: body.score ?? null,
        comment: body.comment ?? null,
        created_at: iso(clock.now()),
        created_by: actor.name,
      };
      await repo.transaction(async (tx) => {
        await repo.insertFeedback(tx, row);
        await deps.audit.record(tx, actor, {
          action: 'feedback.create',
          target: `request:${body.requestId}`,
          change: { id: row.id, model: row.model, version: row.version, thumbs: row.thumbs, score: row.score, comment: row.comment !== null },
        });
      });
      return feedbackView(row);
    },

    async feedbackSummary(model: string, version?: string) {
      const rows = await repo.feedbackSummary(model, version);
      return {
        model,
        items: rows.map((r) => ({
          version: r.version,
          count: Number(r.count),
          up: Number(r.up ?? 0),
          down: Number(r.down ?? 0),
          scored: Number(r.scored),
          scoreAvg: r.score_avg === null ? null : Number(Number(r.score_avg).toFixed(4)),
          comments: Number(r.comments),
        })),
      };
    },
  };
}
export type DriftService = ReturnType<typeof createDriftService>;

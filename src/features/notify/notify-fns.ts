/**
 * Pure rules of notifications: which events a webhook's patterns take, how a body is signed,
 * how an event reads in words (the Slack format and the `summary` of the JSON format), whether
 * a trigger's conditions hold, and when a scheduled trigger fires next.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Cron } from 'croner';
import type { DomainEvent } from '../../contracts/events.js';
import type { TriggerCondition, TriggerOn, WebhookPayload } from '../../contracts/notify.js';

/** Whether `type` matches one of `patterns` (exact, `prefix.*`, or `*`). */
export function matchesPatterns(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => p === '*' || p === type || (p.endsWith('.*') && type.startsWith(p.slice(0, -1))));
}

/**
 * Why `pattern` can match no event this server knows, or null. A prefix is accepted when a known
 * type starts with it, or when its first segment is a family of events other features emit
 * (`slo`, `rollout`, `monitoring`): a webhook may be set up before the feature that emits them.
 */
export function unknownPattern(pattern: string, known: readonly string[], families: readonly string[]): string | null {
  if (pattern === '*') return null;
  if (!pattern.endsWith('.*')) return known.includes(pattern) || families.some((f) => pattern.startsWith(`${f}.`)) ? null : `${pattern} is not an event type`;
  const prefix = pattern.slice(0, -1);
  if (known.some((t) => t.startsWith(prefix)) || families.some((f) => prefix.startsWith(`${f}.`))) return null;
  return `no event type starts with ${prefix}`;
}

/** Path segments and query values this long are taken for tokens (a Slack webhook URL's last segment). */
const TOKEN_LENGTH = 16;

/**
 * A webhook URL as listings and the audit trail show it: tokens in the path or the query (16+
 * characters, such as the secret part of a Slack incoming-webhook URL) cut to their first four
 * characters. The full URL is only ever used to send.
 */
export function shownUrl(url: string): string {
  const u = new URL(url);
  const cut = (x: string) => (x.length >= TOKEN_LENGTH ? `${x.slice(0, 4)}…` : x);
  const path = u.pathname
    .split('/')
    .map((seg) => cut(seg))
    .join('/');
  const query = [...u.searchParams.entries()].map(([k, v]) => `${k}=${cut(v)}`).join('&');
  return `${u.origin}${path}${query ? `?${query}` : ''}`;
}

/** Families of events emitted by features that may not be composed yet (monitoring, rollouts). */
export const EVENT_FAMILIES = ['slo', 'monitoring', 'rollout'] as const;

/** Tolerance a receiver should allow between the signed timestamp and its clock. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/**
 * The signature header of a body sent at `timestamp` (Unix seconds): HMAC-SHA256 with the
 * webhook's secret over `TIMESTAMP.BODY`, hex. Binding the timestamp lets a receiver refuse a
 * replay of an old delivery (one older than the tolerance).
 */
export function sign(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does: recompute, compare in constant time, and check the timestamp is recent. */
export function verifySignature(secret: string, header: string, timestamp: number, body: string, nowSeconds: number): boolean {
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > SIGNATURE_TOLERANCE_SECONDS) return false;
  const want = Buffer.from(sign(secret, timestamp, body));
  const got = Buffer.from(header);
  return want.length === got.length && timingSafeEqual(want, got);
}

/** What a delivery carries, whether it came from the event log, a trigger or a test. */
export interface Notice {
  type: string;
  seq: number | null;
  at: string;
  subject: string;
  namespace: string | null;
  data: Record<string, unknown>;
}

export const noticeOf = (e: DomainEvent): Notice => ({ type: e.type, seq: e.seq, at: e.at, subject: e.subject, namespace: e.namespace, data: e.data });

/** A value at a dotted path of `data`, or undefined. */
export function fieldOf(data: unknown, path: string): unknown {
  let v: unknown = data;
  for (const k of path.split('.')) {
    if (v === null || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(v, k)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** Every value at a dotted path, through arrays (`metrics.psi`: the psi of each metric). */
export function valuesAt(data: unknown, path: string): unknown[] {
  let vs: unknown[] = [data];
  for (const k of path.split('.')) {
    vs = vs
      .flatMap((v) => (Array.isArray(v) ? v : [v]))
      .flatMap((v) => (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, k) ? [(v as Record<string, unknown>)[k]] : []));
  }
  return vs.flatMap((v) => (Array.isArray(v) ? v : [v]));
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const usd = (n: number) => `$${n.toFixed(2)}`;

/** The model an event is about: `data.model` as a name, or `data.model.name`. */
export function modelOf(data: Record<string, unknown>): string | null {
  return str(data.model) ?? str(fieldOf(data, 'model.name'));
}

/** The event in one line of words, with an emoji for its severity (Slack's `text`). */
export function summarise(n: Notice): string {
  const d = n.data;
  const model = modelOf(d) ?? n.subject;
  const env = str(d.environment);
  const where = `${model}${env ? ` in ${env}` : ''}`;
  switch (n.type) {
    case 'slo.alert.firing':
    case 'slo.alert.resolved': {
      // The burn rate that fired (the fastest window first), or the fastest one when resolved.
      const rates = (Array.isArray(d.burnRates) ? d.burnRates : []) as { long?: unknown; factor?: unknown; longBurn?: unknown; firing?: unknown }[];
      const rate = [...rates].sort((a, b) => (num(b.factor) ?? 0) - (num(a.factor) ?? 0)).find((r) => r.firing === true || n.type === 'slo.alert.resolved');
      const burn = rate ? num(rate.longBurn) : null;
      const window = rate ? str(rate.long) : null;
      const severity = str(d.severity);
      const slo = str(d.slo);
      const detail = [burn !== null ? `burn rate ${burn.toFixed(1)}×${window ? ` over ${window}` : ''}` : null, severity ? `(${severity})` : null].filter(Boolean).join(' ');
      const head = n.type === 'slo.alert.firing' ? '🔴 SLO alert firing' : '🟢 SLO alert resolved';
      return `${head}: ${where}${slo ? ` [${slo}]` : ''}${detail ? ` — ${detail}` : ''}`;
    }
    case 'monitoring.drift.detected': {
      const metrics = (Array.isArray(d.metrics) ? d.metrics : []) as { name?: unknown; psi?: unknown; level?: unknown }[];
      const drifted = metrics
        .filter((m) => m.level !== 'ok' && num(m.psi) !== null)
        .map((m) => `${str(m.name) ?? '?'} PSI ${num(m.psi)!.toFixed(2)}`)
        .join(', ');
      return `${d.level === 'alert' ? '🔴' : '🟠'} Drift ${str(d.level) ?? 'detected'}: ${where}${drifted ? ` — ${drifted}` : ''}`;
    }
    case 'gateway.budget.threshold': {
      const t = num(d.threshold) ?? 0;
      const key = str(fieldOf(d, 'key.name')) ?? n.subject;
      return `${t >= 1 ? '🔴' : '🟠'} Budget: key ${key}${n.namespace ? ` (${n.namespace})` : ''} has spent ${usd(num(d.spentUsd) ?? 0)} of ${usd(num(d.budgetUsd) ?? 0)} (${Math.round(t * 100)} %)`;
    }
    case 'eval.run.finished':
      return `${d.passed === false ? '🔴' : '✅'} Evaluation ${str(fieldOf(d, 'suite.name')) ?? ''} of ${model}@${str(fieldOf(d, 'model.version')) ?? '?'} ${str(d.state) ?? 'finished'}${d.passed === null || d.passed === undefined ? '' : d.passed ? ', passed' : ', failed its thresholds'}`;
    case 'trigger.fired':
      return `🔁 Retraining trigger ${str(fieldOf(d, 'trigger.name')) ?? ''} fired for ${str(fieldOf(d, 'trigger.model')) ?? model}${str(fieldOf(d, 'evidence.type')) ? ` on ${str(fieldOf(d, 'evidence.type'))}` : ' on its schedule'}`;
    case 'rollout.started':
    case 'rollout.step':
    case 'rollout.paused':
    case 'rollout.resumed':
    case 'rollout.succeeded':
    case 'rollout.aborted': {
      const what = n.type.slice('rollout.'.length);
      const icon = what === 'aborted' ? '🔴' : what === 'succeeded' ? '✅' : what === 'paused' ? '⏸️' : '🚀';
      const versions = str(d.candidate) ? ` ${str(d.stable) ?? '?'} → ${str(d.candidate)}` : '';
      const step = what === 'step' && num(d.weight) !== null ? `, candidate at ${num(d.weight)} %` : '';
      const reason = str(d.reason) ? ` — ${str(d.reason)}` : '';
      return `${icon} Rollout ${what === 'step' ? 'stepped' : what}: ${where}${versions}${step}${reason}`;
    }
    case 'webhook.test':
      return '👋 Test delivery from Steward';
    default: {
      const state = str(d.to) ?? str(d.state);
      const icon = /abort|fail|firing|rollback/.test(`${n.type} ${state ?? ''}`) ? '🔴 ' : '';
      return `${icon}${n.type}: ${n.subject}${state ? ` → ${state}` : ''}`;
    }
  }
}

/** The body of a `json` webhook. */
export function jsonBody(deliveryId: string, n: Notice): WebhookPayload {
  return { id: deliveryId, type: n.type, seq: n.seq, at: n.at, subject: n.subject, namespace: n.namespace, data: n.data, summary: summarise(n) };
}

/** The body of a `slack` webhook: Slack's incoming-webhook shape, `text` for notifications and `blocks` for the message. */
export function slackBody(deliveryId: string, n: Notice): { text: string; blocks: unknown[] } {
  const text = summarise(n);
  const fields = Object.entries(n.data)
    .filter(([, v]) => v !== null && typeof v !== 'object')
    .slice(0, 10)
    .map(([k, v]) => ({ type: 'mrkdwn', text: `*${k}*\n${String(v).slice(0, 200)}` }));
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      ...(fields.length ? [{ type: 'section', fields }] : []),
      { type: 'context', elements: [{ type: 'mrkdwn', text: `${n.type} · ${n.subject} · ${n.at}${n.seq !== null ? ` · event ${n.seq}` : ''} · delivery ${deliveryId}` }] },
    ],
  };
}

/**
 * Whether every condition holds on `data`: numbers compare as numbers; a missing field fails; a
 * path through an array holds when any element's value does (`metrics.psi > 0.3`: some metric).
 */
export function conditionsHold(conditions: readonly TriggerCondition[], data: Record<string, unknown>): boolean {
  return conditions.every((c) => valuesAt(data, c.field).some((v) => holds(c, v)));
}

function holds(c: TriggerCondition, v: unknown): boolean {
  switch (c.op) {
    case 'eq':
      return v === c.value;
    case 'ne':
      return v !== c.value;
    default: {
      if (typeof v !== 'number' || typeof c.value !== 'number') return false;
      return c.op === 'lt' ? v < c.value : c.op === 'lte' ? v <= c.value : c.op === 'gt' ? v > c.value : v >= c.value;
    }
  }
}

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** Milliseconds of an interval such as `6h`. */
export function intervalMs(every: string): number {
  const m = /^([1-9][0-9]{0,5})([mhdw])$/.exec(every);
  if (!m) throw new Error(`${JSON.stringify(every)} is not an interval such as 30m, 6h or 1d`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** Why a cron expression cannot be used, or null: five fields (minute hour day month weekday), UTC. */
export function cronProblem(expr: string): string | null {
  if (expr.trim().split(/\s+/).length !== 5) return `${JSON.stringify(expr)} is not a cron expression of five fields (minute hour day-of-month month day-of-week), e.g. "0 3 * * 1"`;
  try {
    const c = new Cron(expr, { paused: true, timezone: 'UTC' });
    if (!c.nextRun(new Date())) return `${JSON.stringify(expr)} never fires`;
    return null;
  } catch (err) {
    return `${JSON.stringify(expr)} is not a cron expression: ${(err as Error).message}`;
  }
}

/** When a scheduled trigger fires next after `after` (null for an event trigger). */
export function nextFiring(on: TriggerOn, after: Date): Date | null {
  if (on.every !== undefined) return new Date(after.getTime() + intervalMs(on.every));
  if (on.schedule !== undefined) return new Cron(on.schedule, { paused: true, timezone: 'UTC' }).nextRun(after);
  return null;
}

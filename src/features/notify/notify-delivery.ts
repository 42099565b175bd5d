/**
 * Deliveries: one row per (webhook, source), enqueued as a `webhook.deliver` job in the
 * transaction that decided it (the event subscriber's, a trigger's), so it exists exactly when
 * that decision commits and an event delivered again to the subscriber is sent once. Each job
 * makes one attempt: a 2xx succeeds; no answer, 408, 429 or 5xx is retried by the job runner
 * with backoff until the attempts run out, then the delivery is recorded `failed`; any other
 * answer (a 4xx, a 3xx: redirects are not followed) fails at once: retrying would not change it. Every delivery is
 * its own job, so an endpoint that is down or slow holds only its own deliveries: never the
 * event stream, never another webhook's.
 */
import { randomBytes } from 'node:crypto';
import type { DeliveryResponse } from '../../contracts/notify.js';
import { iso, type Clock } from '../../platform/clock.js';
import type { EndpointPolicy } from '../../platform/http/http-endpoint-policy.js';
import type { AnyDb } from '../../platform/sql/sql-db.js';
import { finalError, type JobKind, type JobsService } from '../jobs/jobs-service.js';
import { jsonBody, sign, slackBody, type Notice } from './notify-fns.js';
import type { DeliveryRow, NotifyRepo, WebhookRow } from './notify-repo.js';
import { postJson, retryable, type SendResult } from './notify-send.js';

export const DELIVER_JOB = 'webhook.deliver';

export interface DeliverySettings {
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  /** Deliveries in flight at once on one replica. */
  concurrency: number;
}

export function deliveryView(r: DeliveryRow): DeliveryResponse {
  return {
    id: r.id,
    webhookId: r.webhook_id,
    source: r.source,
    eventType: r.event_type,
    state: r.state as DeliveryResponse['state'],
    attempts: r.attempts,
    responseStatus: r.response_status,
    lastError: r.last_error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    deliveredAt: r.delivered_at,
  };
}

export function createDeliveries(deps: { repo: NotifyRepo; jobs: Pick<JobsService, 'enqueue' | 'register' | 'poke'>; clock: Clock; policy: Pick<EndpointPolicy, 'lookup'>; settings: DeliverySettings }) {
  const { repo, jobs, clock, settings } = deps;

  /** The body and headers of one attempt: signed at the time of sending (the timestamp is fresh on every retry). */
  function request(hook: WebhookRow, d: DeliveryRow) {
    const notice = JSON.parse(d.notice) as Notice;
    const body = JSON.stringify(hook.format === 'slack' ? slackBody(d.id, notice) : jsonBody(d.id, notice));
    const ts = Math.floor(clock.now().getTime() / 1000);
    return {
      body,
      headers: {
        'x-steward-delivery': d.id,
        'x-steward-event': d.event_type,
        'x-steward-timestamp': String(ts),
        'x-steward-signature': sign(hook.secret, ts, body),
      },
    };
  }

  async function attempt(hook: WebhookRow, d: DeliveryRow): Promise<SendResult> {
    const { body, headers } = request(hook, d);
    return postJson(hook.url, body, headers, { timeoutMs: settings.timeoutMs, lookup: deps.policy.lookup });
  }

  /** Records what an attempt gave; `final` settles a failure. */
  async function record(d: DeliveryRow, n: number, r: SendResult, final: boolean): Promise<DeliveryRow> {
    const now = iso(clock.now());
    const ok = r.error === null;
    const set = {
      attempts: n,
      response_status: r.status,
      last_error: r.error,
      updated_at: now,
      state: ok ? 'succeeded' : final ? 'failed' : 'pending',
      delivered_at: ok ? now : null,
    };
    await repo.updateDelivery(d.id, set);
    return { ...d, ...set };
  }

  const job: JobKind<{ delivery: string }> = {
    kind: DELIVER_JOB,
    concurrency: settings.concurrency,
    maxAttempts: settings.maxAttempts,
    // The lease outlives one attempt (its timeout) by a margin, so a slow endpoint never looks like a dead replica.
    leaseSeconds: Math.max(30, Math.ceil((settings.timeoutMs * 3) / 1000)),
    backoff: { baseMs: settings.retryBaseMs, maxMs: 10 * 60 * 1000 },
    async run(ctx) {
      const d = await repo.delivery(ctx.payload.delivery);
      // Deleted with its webhook, or settled by an earlier execution whose end was not recorded.
      if (!d || d.state !== 'pending') return;
      const hook = await repo.webhook(d.webhook_id);
      if (!hook) return;
      const r = await attempt(hook, d);
      if (r.error === null) {
        await record(d, ctx.attempt, r, false);
        return;
      }
      const last = !retryable(r) || ctx.attempt >= settings.maxAttempts;
      await record(d, ctx.attempt, r, last);
      if (last) throw finalError(`delivery ${d.id} to ${hook.url} failed after ${ctx.attempt} attempt(s): ${r.error}`);
      throw new Error(r.error);
    },
  };

  return {
    job,

    /**
     * Records a delivery of `notice` to `hook` and enqueues its job, in `tx`; nothing when this
     * (webhook, source) was recorded before. Call `jobs.poke()` after the commit.
     */
    async enqueue(tx: AnyDb, hook: Pick<WebhookRow, 'id'>, source: string, notice: Notice): Promise<boolean> {
      const now = iso(clock.now());
      const row: DeliveryRow = {
        id: `dlv_${randomBytes(12).toString('base64url')}`,
        webhook_id: hook.id,
        source,
        event_type: notice.type,
        notice: JSON.stringify(notice),
        state: 'pending',
        attempts: 0,
        response_status: null,
        last_error: null,
        created_at: now,
        updated_at: now,
        delivered_at: null,
      };
      if (!(await repo.on(tx).insertDelivery(row))) return false;
      await jobs.enqueue(tx, { kind: DELIVER_JOB, payload: { delivery: row.id }, key: `webhook-delivery:${row.id}` });
      return true;
    },

    /** One attempt now, recorded, never retried: `POST /webhooks/{id}/test`. */
    async sendNow(hook: WebhookRow, notice: Notice): Promise<DeliveryResponse> {
      const now = iso(clock.now());
      const row: DeliveryRow = {
        id: `dlv_${randomBytes(12).toString('base64url')}`,
        webhook_id: hook.id,
        source: `test:${randomBytes(6).toString('base64url')}`,
        event_type: notice.type,
        notice: JSON.stringify(notice),
        state: 'pending',
        attempts: 0,
        response_status: null,
        last_error: null,
        created_at: now,
        updated_at: now,
        delivered_at: null,
      };
      await repo.insertDelivery(row);
      return deliveryView(await record(row, 1, await attempt(hook, row), true));
    },

    /** Runs enqueued deliveries soon (after the enqueuing transaction commits). */
    poke(): void {
      setTimeout(() => jobs.poke(), 0).unref();
    },
  };
}
export type Deliveries = ReturnType<typeof createDeliveries>;

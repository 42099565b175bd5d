/**
 * Retraining triggers: a rule about one model that fires a webhook, with the evidence in the
 * payload (`trigger.fired`). An event trigger fires when an event of its type about its model
 * arrives and its conditions hold on the event's data (drift score over a threshold, an
 * evaluation that did not pass); it is checked by the same subscriber as webhooks, in the
 * event's transaction. A scheduled trigger (cron, UTC, or an interval) is a chain of
 * `trigger.schedule` jobs: each firing enqueues the delivery and the next firing in one
 * transaction, so a restart neither loses nor repeats one.
 */
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { NAME_RE, namespaceOf } from '../../contracts/asset-names.js';
import { EVENT_TYPES, type DomainEvent } from '../../contracts/events.js';
import type { CreateTriggerBody, ListTriggersQuery, TriggerOn, TriggerResponse } from '../../contracts/notify.js';
import { iso, type Clock } from '../../platform/clock.js';
import { decodeCursor, encodeCursor } from '../../platform/cursor.js';
import { AppError, errors } from '../../platform/errors.js';
import type { Actor } from '../../platform/http/http-route.js';
import type { AnyDb } from '../../platform/sql/sql-db.js';
import type { AuditService } from '../audit/audit-service.js';
import type { JobKind, JobsService } from '../jobs/jobs-service.js';
import type { Deliveries } from './notify-delivery.js';
import { conditionsHold, cronProblem, EVENT_FAMILIES, modelOf, nextFiring, noticeOf, unknownPattern, type Notice } from './notify-fns.js';
import type { NotifyRepo, TriggerRow } from './notify-repo.js';

export const SCHEDULE_JOB = 'trigger.schedule';
const scheduleKey = (id: string, at: string) => `trigger:${id}:${at}`;

export function triggerView(r: TriggerRow): TriggerResponse {
  return { id: r.id, name: r.name, model: r.model, on: JSON.parse(r.on_spec) as TriggerOn, webhook: r.webhook_id, nextAt: r.next_at, lastFiredAt: r.last_fired_at, createdAt: r.created_at, createdBy: r.created_by };
}

/** The notice a firing sends: the trigger, and the event that fired it (null on a schedule). */
function firedNotice(t: TriggerRow, at: string, evidence: DomainEvent | null): Notice {
  return {
    type: 'trigger.fired',
    seq: evidence?.seq ?? null,
    at,
    subject: `trigger:${t.id}`,
    namespace: t.namespace,
    data: { trigger: { id: t.id, name: t.name, model: t.model, on: JSON.parse(t.on_spec) as unknown }, evidence: evidence ? noticeOf(evidence) : null, ...(evidence ? {} : { scheduledAt: at }) },
  };
}

export function createTriggersService(deps: {
  repo: NotifyRepo;
  deliveries: Deliveries;
  jobs: Pick<JobsService, 'enqueue' | 'cancel' | 'poke'>;
  audit: Pick<AuditService, 'record'>;
  hookFor: (id: string, actor: Actor) => Promise<{ id: string; namespace: string | null }>;
  clock: Clock;
}) {
  const { repo, deliveries, jobs, clock } = deps;

  async function triggerFor(id: string, actor: Actor): Promise<TriggerRow> {
    const t = await repo.trigger(id);
    if (!t || (actor.namespaces && (t.namespace === null || !actor.namespaces.includes(t.namespace)))) {
      throw new AppError('not_found', `trigger ${JSON.stringify(id)} not found; list them with steward triggers ls`, { trigger: id });
    }
    return t;
  }

  /** Fires a scheduled trigger for the slot `at` and schedules the next one, in one transaction. */
  async function fireScheduled(id: string, at: string): Promise<void> {
    let fired = false;
    await repo.transaction(async (r, tx) => {
      const t = await r.trigger(id);
      // Deleted, or a stale job of a slot that is no longer the next one.
      if (!t || t.next_at !== at) return;
      const next = nextFiring(JSON.parse(t.on_spec) as TriggerOn, new Date(Math.max(Date.parse(at), clock.now().getTime())));
      const nextAt = next ? iso(next) : null;
      await deliveries.enqueue(tx, { id: t.webhook_id }, `schedule:${t.id}:${at}`, firedNotice(t, at, null));
      await r.setTriggerTimes(t.id, { next_at: nextAt, last_fired_at: iso(clock.now()) });
      if (next && nextAt) await jobs.enqueue(tx, { kind: SCHEDULE_JOB, payload: { trigger: t.id, at: nextAt }, key: scheduleKey(t.id, nextAt), runAfter: next });
      fired = true;
    });
    if (fired) deliveries.poke();
  }

  const job: JobKind<{ trigger: string; at: string }> = {
    kind: SCHEDULE_JOB,
    async run(ctx) {
      await fireScheduled(ctx.payload.trigger, ctx.payload.at);
    },
  };

  return {
    job,

    async create(body: CreateTriggerBody, actor: Actor): Promise<TriggerResponse> {
      if (!NAME_RE.test(body.model)) throw errors.invalid(`model ${JSON.stringify(body.model)} is not a model name (name or namespace/name)`, { model: body.model });
      const on = body.on;
      if (on.event !== undefined) {
        const why = unknownPattern(on.event, EVENT_TYPES, EVENT_FAMILIES);
        if (why) throw errors.invalid(`on.event: ${why}; known types: ${EVENT_TYPES.join(', ')}`, { event: on.event });
      }
      if (on.schedule !== undefined) {
        const why = cronProblem(on.schedule);
        if (why) throw errors.invalid(`on.schedule: ${why}`, { schedule: on.schedule });
      }
      let hook;
      try {
        hook = await deps.hookFor(body.webhook, actor);
      } catch (err) {
        if (err instanceof AppError && err.code === 'not_found') throw errors.precondition(`webhook ${body.webhook} does not exist; create one with steward webhooks create`, { webhook: body.webhook });
        throw err;
      }
      const namespace = namespaceOf(body.model);
      if (hook.namespace !== null && hook.namespace !== namespace) {
        throw errors.invalid(`webhook ${hook.id} takes events of namespace ${hook.namespace} only; ${body.model} is ${namespace === null ? 'in no namespace' : `in ${namespace}`}`, { webhook: hook.id });
      }
      const now = clock.now();
      const next = nextFiring(on, now);
      const row: TriggerRow = {
        id: `trg_${randomBytes(9).toString('base64url')}`,
        name: body.name,
        model: body.model,
        namespace,
        on_spec: JSON.stringify(on),
        event_type: on.event ?? null,
        webhook_id: hook.id,
        next_at: next ? iso(next) : null,
        last_fired_at: null,
        created_at: iso(now),
        created_by: actor.name,
      };
      await repo.transaction(async (r, tx) => {
        await r.insertTrigger(row);
        if (next && row.next_at) await jobs.enqueue(tx, { kind: SCHEDULE_JOB, payload: { trigger: row.id, at: row.next_at }, key: scheduleKey(row.id, row.next_at), runAfter: next });
        await deps.audit.record(tx, actor, { action: 'trigger.create', target: `trigger:${row.id}`, change: { name: row.name, model: row.model, on, webhook: row.webhook_id } });
      });
      return triggerView(row);
    },

    async get(id: string, actor: Actor) {
      return triggerView(await triggerFor(id, actor));
    },

    async list(q: z.output<typeof ListTriggersQuery>, actor: Actor) {
      const after = q.cursor ? (decodeCursor(q.cursor, 2) as [string, string]) : undefined;
      const rows = await repo.listTriggers({ ...(q.model ? { model: q.model } : {}), namespaces: actor.namespaces, ...(after ? { after } : {}), limit: q.limit + 1 });
      const items = rows.slice(0, q.limit);
      const last = items[items.length - 1];
      return { items: items.map(triggerView), nextCursor: rows.length > q.limit && last ? encodeCursor([last.created_at, last.id]) : null };
    },

    async remove(id: string, actor: Actor): Promise<void> {
      const t = await triggerFor(id, actor);
      await repo.transaction(async (r, tx) => {
        if (!(await r.deleteTrigger(t.id))) throw new AppError('not_found', `trigger ${JSON.stringify(id)} not found`, { trigger: id });
        if (t.next_at) await jobs.cancel(tx, { key: scheduleKey(t.id, t.next_at) });
        await deps.audit.record(tx, actor, { action: 'trigger.delete', target: `trigger:${t.id}`, change: { name: t.name, model: t.model } });
      });
      jobs.poke();
    },

    /** The subscriber's part: event triggers of this type, about this model, whose conditions hold. */
    async onEvent(event: DomainEvent, tx: AnyDb): Promise<number> {
      const r = repo.on(tx);
      const candidates = await r.triggersOn(event.type);
      if (!candidates.length) return 0;
      const model = modelOf(event.data);
      let n = 0;
      for (const t of candidates) {
        const on = JSON.parse(t.on_spec) as TriggerOn;
        if (on.event === undefined || t.model !== model || !conditionsHold(on.where ?? [], event.data)) continue;
        if (await deliveries.enqueue(tx, { id: t.webhook_id }, `trigger:${t.id}:${event.seq}`, firedNotice(t, event.at, event))) {
          await r.setTriggerTimes(t.id, { last_fired_at: iso(clock.now()) });
          n++;
        }
      }
      return n;
    },
  };
}
export type TriggersService = ReturnType<typeof createTriggersService>;

/**
 * Contracts of notifications: webhooks (which events go where, in which format), their
 * deliveries (one per webhook and event, retried as jobs), and retraining triggers (a rule on an
 * event or a schedule that fires a webhook). Event patterns are exact event types or a prefix
 * ending in `.*`; the service checks them against the event types it knows.
 */
import { z } from 'zod';
import { Cursor, Limit, Timestamp, page } from './common.js';
import { endpointUrlCredential } from './evals.js';

const Namespace = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a namespace is the first segment of an asset name');

/** `rollout.aborted`, `slo.alert.*`, or `*` (everything). */
export const EventPattern = z
  .string()
  .max(128)
  .regex(/^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$/, 'an event pattern is an event type (rollout.aborted), a prefix ending in ".*" (slo.alert.*), or "*"');

const HookUrl = z
  .url({ protocol: /^https?$/, error: 'url must be an http(s) URL such as https://hooks.example.com/steward' })
  .max(2048)
  .superRefine((url, ctx) => {
    const what = endpointUrlCredential(url);
    if (what) ctx.addIssue({ code: 'custom', message: `the URL holds a credential (${what}); URLs are shown and audited: sign with secret instead` });
  });

export const WEBHOOK_FORMATS = ['json', 'slack'] as const;
export const WebhookFormat = z.enum(WEBHOOK_FORMATS);
export type WebhookFormat = z.infer<typeof WebhookFormat>;

export const CreateWebhookBody = z
  .object({
    name: z.string().min(1).max(64).regex(/^[A-Za-z0-9._@-]+$/, 'webhook names hold letters, digits, ".", "_", "@" and "-"'),
    url: HookUrl,
    events: z.array(EventPattern).min(1).max(64),
    format: WebhookFormat.default('json'),
    /** Only events of this namespace (a limited token must name one of its own); null: every event. */
    namespace: Namespace.nullable().default(null),
    /** Signs each body (HMAC-SHA256); generated when absent. Shown once, never again. */
    secret: z.string().min(16, 'a secret has at least 16 characters').max(256).optional(),
  })
  .strict();
export type CreateWebhookBody = z.output<typeof CreateWebhookBody>;

export const WebhookResponse = z
  .object({
    id: z.string(),
    name: z.string(),
    url: z.string().describe('tokens in its path or query (16+ characters) are cut to their first four characters'),
    events: z.array(z.string()),
    format: WebhookFormat,
    namespace: z.string().nullable(),
    createdAt: Timestamp,
    createdBy: z.string(),
  })
  .strict();
export type WebhookResponse = z.infer<typeof WebhookResponse>;
export const CreatedWebhookResponse = WebhookResponse.extend({ secret: z.string().describe('the signing secret: shown once, never again') }).strict();
export const WebhookPage = page(WebhookResponse);
export const WebhookParams = z.object({ id: z.string().min(1).max(64) }).strict();
export const ListWebhooksQuery = z.object({ limit: Limit, cursor: Cursor }).strict();

export const DELIVERY_STATES = ['pending', 'succeeded', 'failed'] as const;
export const DeliveryState = z.enum(DELIVERY_STATES);

export const DeliveryResponse = z
  .object({
    id: z.string(),
    webhookId: z.string(),
    /** What it carries: `event:SEQ`, `trigger:ID:SEQ`, `schedule:ID:TIME` or `test:…`. */
    source: z.string(),
    eventType: z.string(),
    state: DeliveryState,
    attempts: z.number().int(),
    responseStatus: z.number().int().nullable().describe('HTTP status of the last attempt (null: no answer)'),
    lastError: z.string().nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    deliveredAt: Timestamp.nullable(),
  })
  .strict();
export type DeliveryResponse = z.infer<typeof DeliveryResponse>;
export const DeliveryPage = page(DeliveryResponse);
export const ListDeliveriesQuery = z.object({ state: DeliveryState.optional(), limit: Limit, cursor: Cursor }).strict();

/** A condition on the triggering event's `data`: `field` is a dotted path (`passed`, `drift.score`). */
export const TriggerCondition = z
  .object({
    field: z.string().min(1).max(128).regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, 'a field is a dotted path into the event data, e.g. score or drift.value'),
    op: z.enum(['eq', 'ne', 'lt', 'lte', 'gt', 'gte']),
    value: z.union([z.number(), z.string(), z.boolean(), z.null()]),
  })
  .strict();
export type TriggerCondition = z.infer<typeof TriggerCondition>;

/** `30m`, `6h`, `1d`: at least a minute. */
export const Interval = z.string().regex(/^[1-9][0-9]{0,5}[mhdw]$/, 'an interval is a number and a unit: 30m, 6h, 1d, 1w');

/** Exactly one of: an event type with conditions, a cron schedule (UTC), an interval. */
export const TriggerOn = z
  .object({
    event: EventPattern.refine((p) => !p.endsWith('*'), 'a trigger names one event type, not a pattern').optional(),
    where: z.array(TriggerCondition).max(16).optional().describe('event triggers: every condition must hold on the event data'),
    schedule: z.string().min(1).max(128).optional().describe('cron (5 fields, UTC) such as "0 3 * * 1"'),
    every: Interval.optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    const given = (['event', 'schedule', 'every'] as const).filter((k) => o[k] !== undefined);
    if (given.length !== 1) ctx.addIssue({ code: 'custom', message: `give exactly one of event, schedule, every (got ${given.length ? given.join(', ') : 'none'})` });
    if (o.where && o.event === undefined) ctx.addIssue({ code: 'custom', path: ['where'], message: 'where is for event triggers' });
  });
export type TriggerOn = z.infer<typeof TriggerOn>;

export const CreateTriggerBody = z
  .object({
    name: z.string().min(1).max(64).regex(/^[A-Za-z0-9._@-]+$/, 'trigger names hold letters, digits, ".", "_", "@" and "-"'),
    /** The model it watches (`NAME`): an event trigger fires only for events about it. */
    model: z.string().min(1).max(256),
    on: TriggerOn,
    webhook: z.string().min(1).max(64).describe('id of the webhook it fires'),
  })
  .strict();
export type CreateTriggerBody = z.output<typeof CreateTriggerBody>;

export const TriggerResponse = z
  .object({
    id: z.string(),
    name: z.string(),
    model: z.string(),
    on: TriggerOn,
    webhook: z.string(),
    nextAt: Timestamp.nullable().describe('next scheduled firing (schedule and interval triggers)'),
    lastFiredAt: Timestamp.nullable(),
    createdAt: Timestamp,
    createdBy: z.string(),
  })
  .strict();
export type TriggerResponse = z.infer<typeof TriggerResponse>;
export const TriggerPage = page(TriggerResponse);
export const TriggerParams = WebhookParams;
export const ListTriggersQuery = z.object({ model: z.string().max(256).optional(), limit: Limit, cursor: Cursor }).strict();

/** The JSON body a webhook of format `json` receives. */
export const WebhookPayload = z
  .object({
    id: z.string().describe('the delivery id: the same on every retry (deduplicate on it)'),
    type: z.string(),
    seq: z.number().int().nullable().describe('the event sequence (null for a test or a scheduled trigger)'),
    at: Timestamp,
    subject: z.string(),
    namespace: z.string().nullable(),
    data: z.record(z.string(), z.unknown()),
    summary: z.string().describe('the event in words'),
  })
  .strict();
export type WebhookPayload = z.infer<typeof WebhookPayload>;

export const TestDeliveryResponse = z.object({ delivery: DeliveryResponse }).strict();

/**
 * Domain events: what happened, recorded in the transaction that made it happen, readable in
 * order by in-process subscribers and by other processes through `GET /api/v1/events`. This
 * file is the one owner of every event's name and payload shape.
 */
import { z } from 'zod';
import { AssetKind, VersionState } from './assets.js';
import { DeploymentState } from './deployments.js';
import { RunState } from './evals.js';
import { PointerMove, PromotionState } from './promotions.js';
import { RolloutState, RolloutStrategy } from './rollouts.js';
import { Timestamp } from './common.js';

const SloAlert = z
  .object({
    model: z.string(),
    environment: z.string(),
    slo: z.enum(['availability', 'latency']),
    severity: z.enum(['page', 'ticket']),
    objective: z.number(),
    window: z.string().describe('the SLO compliance window'),
    budgetRemaining: z.number().nullable(),
    burnRates: z.array(
      z.object({ long: z.string(), short: z.string(), factor: z.number(), longBurn: z.number().nullable(), shortBurn: z.number().nullable(), firing: z.boolean() }).strict(),
    ),
  })
  .strict();

const VersionRef = { kind: AssetKind, name: z.string(), version: z.string() };

const RolloutEventData = z
  .object({
    id: z.string(),
    model: z.string(),
    environment: z.string(),
    strategy: RolloutStrategy,
    state: RolloutState,
    stable: z.string().describe('the stable version'),
    candidate: z.string().describe('the candidate version'),
    reason: z.string().nullable(),
  })
  .strict();

/** Payload schema of every event type, by name. */
export const EVENT_DATA = {
  'version.ready': z.object({ ...VersionRef, digest: z.string() }).strict(),
  'version.state.changed': z.object({ ...VersionRef, from: VersionState, to: VersionState }).strict(),
  'version.deleted': z.object({ ...VersionRef, state: VersionState, digest: z.string() }).strict(),
  'asset.deleted': z.object({ kind: AssetKind, name: z.string(), versions: z.array(z.string()).describe('the versions deleted with it') }).strict(),
  'alias.moved': z
    .object({
      kind: AssetKind,
      name: z.string(),
      alias: z.string(),
      version: z.string().nullable().describe('null when the alias was deleted'),
      previous: z.string().nullable(),
    })
    .strict(),
  'eval.run.finished': z
    .object({
      runId: z.string(),
      model: z.object({ name: z.string(), version: z.string() }).strict(),
      suite: z.object({ name: z.string(), version: z.string() }).strict(),
      state: RunState,
      passed: z.boolean().nullable(),
    })
    .strict(),
  /** A model's pointer in an environment moved (a promotion, a rollback, or a removal: `version` null). */
  'environment.moved': PointerMove.omit({ seq: true, at: true, by: true }),
  'promotion.changed': z
    .object({
      id: z.string(),
      model: z.object({ name: z.string(), version: z.string() }).strict(),
      to: z.string(),
      state: PromotionState,
    })
    .strict(),
  'eval.run.deleted': z
    .object({
      runId: z.string(),
      model: z.object({ name: z.string(), version: z.string() }).strict(),
      suite: z.object({ name: z.string(), version: z.string() }).strict(),
      state: RunState,
    })
    .strict(),
  'deployment.state.changed': z
    .object({
      id: z.string(),
      model: z.object({ name: z.string(), version: z.string() }).strict(),
      environment: z.string(),
      from: DeploymentState.nullable(),
      to: DeploymentState,
      error: z.string().nullable(),
    })
    .strict(),
  /** The ready replicas of a deployment (what gateways route to) changed: one ready or gone, or the version they serve. */
  'deployment.replicas.changed': z
    .object({ id: z.string(), ready: z.number().int(), versions: z.array(z.string()) })
    .strict(),
  'deployment.health.changed': z
    .object({ id: z.string(), replica: z.number().int(), healthy: z.boolean(), reason: z.string().nullable() })
    .strict(),
  /** A gateway key was created or revoked: gateways refresh their snapshot. */
  'gateway.key.changed': z.object({ id: z.string(), namespace: z.string().nullable(), revoked: z.boolean() }).strict(),
  /** A key's settled spend crossed 50, 80 or 100 % of its budget (once per threshold, on usage ingest). */
  'gateway.budget.threshold': z
    .object({
      key: z.object({ id: z.string(), name: z.string() }).strict(),
      namespace: z.string().nullable(),
      threshold: z.number().describe('the fraction of the budget crossed: 0.5, 0.8 or 1'),
      spentUsd: z.number(),
      budgetUsd: z.number(),
    })
    .strict(),
  /** A model's traffic split in an environment was set or cleared. */
  'gateway.traffic.changed': z.object({ model: z.string(), environment: z.string() }).strict(),
  /** A model's gateway settings (response cache) changed. */
  'gateway.model.changed': z.object({ model: z.string() }).strict(),
  /** A model's traffic in an environment drifted from its baseline (emitted when the level rises to warn or alert). */
  'monitoring.drift.detected': z
    .object({
      model: z.string(),
      environment: z.string(),
      level: z.enum(['warn', 'alert']),
      metrics: z.array(z.object({ name: z.string(), psi: z.number().nullable(), level: z.string() }).strict()),
      baseline: z.object({ since: Timestamp, until: Timestamp }).strict(),
      window: z.object({ since: Timestamp, until: Timestamp }).strict(),
    })
    .strict(),
  /** A burn-rate alert of an SLO started firing (multi-window, multi-burn-rate: the SRE workbook's method). */
  'slo.alert.firing': SloAlert,
  /** A burn-rate alert stopped firing (or its SLO was removed). */
  'slo.alert.resolved': SloAlert,
  /** A rollout began moving an environment from its stable version to a candidate. */
  'rollout.started': RolloutEventData,
  /** A rollout's traffic moved to its next step (`step`: its index; `weight`: the candidate's share). */
  'rollout.step': RolloutEventData.extend({ step: z.number().int(), weight: z.number().int() }).strict(),
  'rollout.paused': RolloutEventData,
  'rollout.resumed': RolloutEventData,
  /** The candidate took all the traffic and the environment's pointer moved to it. */
  'rollout.succeeded': RolloutEventData,
  /** Traffic returned to the stable version (`state`: aborted by an operator or an analysis, failed when the rollout could not proceed). */
  'rollout.aborted': RolloutEventData,
} as const;

export type EventType = keyof typeof EVENT_DATA;
export const EVENT_TYPES = Object.keys(EVENT_DATA) as EventType[];
export type EventData<T extends EventType> = z.infer<(typeof EVENT_DATA)[T]>;

/** An event as emitted: the subject names what it is about (`model:acme/bot@1.0.0`). */
export interface NewEvent<T extends EventType = EventType> {
  type: T;
  subject: string;
  /** The namespace of the subject (null for bare names): limited tokens see only theirs. */
  namespace: string | null;
  data: EventData<T>;
}

export const DomainEvent = z
  .object({
    seq: z.number().int().describe('position in the event log, from 1, without gaps'),
    at: Timestamp,
    type: z.enum(EVENT_TYPES as [EventType, ...EventType[]]),
    subject: z.string(),
    namespace: z.string().nullable(),
    data: z.record(z.string(), z.unknown()),
  })
  .strict();
export type DomainEvent = z.infer<typeof DomainEvent>;

export const ListEventsQuery = z
  .object({
    after: z.coerce.number().int().min(0).default(0).describe('the `next` of the previous answer; 0 reads from the start'),
    types: z
      .string()
      .max(512)
      .optional()
      .describe('comma-separated event types; a trailing "*" matches a prefix (e.g. "version.*")'),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    wait: z.coerce.number().int().min(0).max(60).default(0).describe('seconds to wait for an event when none is there yet (long poll)'),
  })
  .strict();

export const EventPage = z
  .object({
    items: z.array(DomainEvent),
    next: z.number().int().describe('pass as `after` to read on; it moves past events this token may not see'),
  })
  .strict();
export type EventPage = z.infer<typeof EventPage>;

/** Parses a `types` filter into exact names and prefixes; unknown names are refused. */
export function parseTypeFilter(spec: string | undefined): { exact: EventType[]; prefixes: string[] } | null {
  if (!spec) return null;
  const exact: EventType[] = [];
  const prefixes: string[] = [];
  for (const raw of spec.split(',')) {
    const t = raw.trim();
    if (!t) continue;
    if (t.endsWith('*')) prefixes.push(t.slice(0, -1));
    else if ((EVENT_TYPES as string[]).includes(t)) exact.push(t as EventType);
    else throw new Error(`unknown event type ${JSON.stringify(t)}; known: ${EVENT_TYPES.join(', ')}`);
  }
  return { exact, prefixes };
}

export function matchesTypes(filter: { exact: EventType[]; prefixes: string[] } | null, type: string): boolean {
  if (!filter) return true;
  return (filter.exact as string[]).includes(type) || filter.prefixes.some((p) => type.startsWith(p));
}

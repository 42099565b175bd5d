/**
 * Contracts of the gateway (the data plane) and of what the control plane keeps for it: gateway
 * API keys with their limits and budgets, traffic splits, usage records, and the route-table
 * snapshot the control plane compiles for gateways. The snapshot is the only thing a gateway
 * reads from the control plane: no database query per request.
 */
import { z } from 'zod';
import { TokenLifetime, DEFAULT_TOKEN_LIFETIME } from './auth.js';
import { Cursor, Limit, page, Timestamp } from './common.js';
import { EnvironmentName } from './promotions.js';

/** Gateway keys are `sk-stw-` + 32 random bytes (base64url); only their sha256 is stored. */
export const GATEWAY_KEY_PREFIX = 'sk-stw-';

const ModelPattern = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9*][A-Za-z0-9._/*-]*$/, 'model patterns are model names, optionally with "*" (team/*)');
const Namespace = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a namespace is the first segment of an asset name');

export const CreateKeyBody = z
  .object({
    name: z.string().min(1).max(64).regex(/^[A-Za-z0-9._@-]+$/, 'key names hold letters, digits, ".", "_", "@" and "-"'),
    /** The team the key belongs to: it may use that namespace's models (and bare names only when null). */
    namespace: Namespace.nullable().default(null),
    /** Allowed models (names or patterns); null = every model of the key's namespace. */
    models: z.array(ModelPattern).max(200).nullable().default(null),
    /** The environment `model: NAME` resolves in for this key. */
    defaultEnvironment: EnvironmentName.default('production'),
    rpm: z.number().int().min(1).max(10_000_000).nullable().default(null).describe('requests per minute (null: unlimited)'),
    tpm: z.number().int().min(1).max(10_000_000_000).nullable().default(null).describe('tokens per minute, input + output (null: unlimited)'),
    budgetUsd: z.number().min(0).max(1e9).nullable().default(null).describe('total spend allowed, in USD (null: unlimited)'),
    expiresIn: TokenLifetime.prefault(DEFAULT_TOKEN_LIFETIME).describe(`lifetime: 90m, 12h, 30d, 2w, or "never" (default ${DEFAULT_TOKEN_LIFETIME})`),
  })
  .strict();
export type CreateKeyBody = z.output<typeof CreateKeyBody>;

export const KeyResponse = z
  .object({
    id: z.string(),
    name: z.string(),
    namespace: z.string().nullable(),
    models: z.array(z.string()).nullable(),
    defaultEnvironment: z.string(),
    rpm: z.number().int().nullable(),
    tpm: z.number().int().nullable(),
    budgetUsd: z.number().nullable(),
    spentUsd: z.number().describe('settled spend reported by gateways'),
    prefix: z.string().describe('first characters of the secret, to recognise it'),
    createdAt: Timestamp,
    createdBy: z.string(),
    expiresAt: Timestamp.nullable(),
    revokedAt: Timestamp.nullable(),
  })
  .strict();
export type KeyResponse = z.infer<typeof KeyResponse>;
export const CreatedKeyResponse = KeyResponse.extend({ key: z.string().describe('the secret: shown once, never again') }).strict();
export const KeyPage = page(KeyResponse);
export const KeyParams = z.object({ id: z.string().min(1).max(64) }).strict();
export const ListKeysQuery = z.object({ namespace: Namespace.optional(), revoked: z.enum(['true', 'false']).optional(), limit: Limit, cursor: Cursor }).strict();

/** Prices of a deployment, per million tokens; cost = input × in + output × out. */
export const Pricing = z.object({ inputPerMTok: z.number().min(0).max(1e6), outputPerMTok: z.number().min(0).max(1e6) }).strict();
export type Pricing = z.infer<typeof Pricing>;

/**
 * How a model's traffic in an environment is split (set by an operator or, later, by rollouts):
 * weighted arms (each a deployment; weights are relative), optional sticky assignment so a user
 * stays on one arm, an optional shadow copy to a candidate, and fallbacks tried when every
 * target of the chosen arm fails.
 */
export const TrafficBody = z
  .object({
    arms: z
      .array(z.object({ deployment: z.string().min(1).max(64), weight: z.number().int().min(0).max(1_000_000) }).strict())
      .min(1)
      .max(16),
    /** `key`: by the caller's key; `header:NAME`: by a request header (e.g. header:x-user-id); `none`: per request. */
    sticky: z.string().regex(/^(none|key|header:[A-Za-z0-9-]{1,64})$/, 'sticky is none, key, or header:NAME').default('none'),
    shadow: z.object({ deployment: z.string().min(1).max(64), percent: z.number().min(0).max(100) }).strict().nullable().default(null),
    /** Other models (`NAME`, `NAME:ENV`, `NAME@VERSION`) to try, in order, when this one cannot answer. */
    fallbacks: z.array(z.string().min(1).max(200)).max(8).default([]),
  })
  .strict();
export type TrafficBody = z.output<typeof TrafficBody>;
export const TrafficParams = z.object({ name: z.string().min(1).max(200), environment: EnvironmentName }).strict();
export const TrafficResponse = TrafficBody.extend({ model: z.string(), environment: z.string(), updatedAt: Timestamp, updatedBy: z.string() }).strict();

/** One proxied request, as a gateway reports it (in batches). */
export const UsageRecord = z
  .object({
    at: Timestamp,
    keyId: z.string().nullable(),
    namespace: z.string().nullable(),
    model: z.string(),
    version: z.string().nullable(),
    deployment: z.string().nullable(),
    environment: z.string().nullable(),
    endpoint: z.enum(['chat', 'completions', 'embeddings']),
    status: z.number().int(),
    stream: z.boolean(),
    shadow: z.boolean().default(false),
    cached: z.boolean().default(false),
    latencyMs: z.number().min(0),
    ttftMs: z.number().min(0).nullable(),
    inputTokens: z.number().int().min(0),
    outputTokens: z.number().int().min(0),
    costUsd: z.number().min(0),
    /** The `x-request-id` the gateway answered with: feedback names the request by it (kept when at most 200 characters). */
    requestId: z.string().optional(),
    /** The model refused (finish_reason `content_filter`, or a `message.refusal`); absent when the gateway did not look. */
    refusal: z.boolean().optional(),
    /** Attempts on the chosen deployment that failed (5xx, connection error, timeout) before the answer: a retry hides them from the client, not from a rollout's analysis. */
    upstreamErrors: z.number().int().min(0).default(0),
  })
  .strict();
export type UsageRecord = z.infer<typeof UsageRecord>;
/** A batch is identified by its gateway and sequence number, so a retried batch is counted once. */
export const UsageBatch = z
  .object({ gateway: z.string().min(1).max(128), batch: z.number().int().min(0), records: z.array(UsageRecord).max(10_000) })
  .strict();
export type UsageBatch = z.infer<typeof UsageBatch>;

export const UsageQuery = z
  .object({
    groupBy: z.enum(['model', 'version', 'key', 'namespace', 'deployment', 'environment']).default('model'),
    model: z.string().max(200).optional(),
    key: z.string().max(64).optional(),
    namespace: Namespace.optional(),
    since: Timestamp.optional(),
    until: Timestamp.optional(),
  })
  .strict();
export const UsageRow = z
  .object({
    group: z.string().nullable(),
    requests: z.number().int(),
    errors: z.number().int(),
    inputTokens: z.number().int(),
    outputTokens: z.number().int(),
    costUsd: z.number(),
    latencyMsAvg: z.number().nullable(),
    ttftMsAvg: z.number().nullable(),
  })
  .strict();
export const UsageReport = z.object({ groupBy: z.string(), items: z.array(UsageRow) }).strict();

/** Cost over a period: per-token metered cost, plus GPU-hour cost shared out by tokens served. */
export const CostQuery = z
  .object({
    groupBy: z.enum(['model', 'key', 'namespace', 'deployment']).default('model'),
    model: z.string().max(200).optional(),
    namespace: Namespace.optional(),
    since: Timestamp.optional().describe('default: 30 days before until'),
    until: Timestamp.optional().describe('default: now'),
  })
  .strict();
export const CostRow = z
  .object({
    group: z.string().nullable().describe('null: no key (idle GPU capacity, or requests without a key)'),
    requests: z.number().int(),
    inputTokens: z.number().int(),
    outputTokens: z.number().int(),
    tokenCostUsd: z.number().describe('metered from per-token prices'),
    gpuCostUsd: z.number().describe('GPU-hour price × hours running, shared out by tokens served'),
    costUsd: z.number(),
    costPerMTokUsd: z.number().nullable().describe('costUsd per million tokens (input + output) served; null without tokens'),
  })
  .strict();
export const CostReport = z.object({ groupBy: z.string(), since: Timestamp, until: Timestamp, items: z.array(CostRow) }).strict();
export type CostReport = z.infer<typeof CostReport>;

// ---------------------------------------------------------------------------------------------
// The route-table snapshot (GET /api/v1/gateway/snapshot, role `gateway`).

export const SnapshotTarget = z
  .object({
    /** OpenAI-compatible base URL: requests go to `${baseUrl}/chat/completions` etc. */
    baseUrl: z.string(),
    replica: z.number().int(),
    /** The version this target serves (during a rolling update, old and new replicas coexist). */
    version: z.string(),
  })
  .strict();
export const SnapshotDeployment = z
  .object({
    id: z.string(),
    model: z.string(),
    version: z.string(),
    environment: z.string(),
    /** The name the runtime serves the model under (sent upstream as `model`). */
    upstreamModel: z.string(),
    /** Bearer key for the upstream (driver external); never logged. */
    apiKey: z.string().nullable(),
    pricing: Pricing.nullable(),
    /** Ready, healthy targets only. */
    targets: z.array(SnapshotTarget),
  })
  .strict();
export type SnapshotDeployment = z.infer<typeof SnapshotDeployment>;
/** A key as gateways need it: its limits and grant, and the sha256 (hex) of its secret. */
export const SnapshotKey = KeyResponse.pick({ id: true, namespace: true, models: true, defaultEnvironment: true, rpm: true, tpm: true, budgetUsd: true, spentUsd: true, expiresAt: true })
  .extend({ hash: z.string() })
  .strict();
export type SnapshotKey = z.infer<typeof SnapshotKey>;
export const SnapshotModel = z
  .object({
    name: z.string(),
    namespace: z.string().nullable(),
    /** Environment → the version its pointer names. */
    environments: z.record(z.string(), z.string()),
    /** Opt-in response cache for deterministic requests. */
    cache: z.object({ ttlSeconds: z.number().int().min(1), maxEntries: z.number().int().min(1) }).strict().nullable(),
  })
  .strict();
export const SnapshotTraffic = TrafficBody.extend({ model: z.string(), environment: z.string() }).strict();
export const GatewaySnapshot = z
  .object({
    /** The event sequence the snapshot reflects: a gateway asks for a newer one with `?after=`. */
    version: z.number().int(),
    compiledAt: Timestamp,
    models: z.array(SnapshotModel),
    deployments: z.array(SnapshotDeployment),
    traffic: z.array(SnapshotTraffic),
    /** Revoked and expired keys are left out. */
    keys: z.array(SnapshotKey),
  })
  .strict();
export type GatewaySnapshot = z.infer<typeof GatewaySnapshot>;
export const SnapshotQuery = z
  .object({
    after: z.coerce.number().int().min(0).optional().describe('answer only once the snapshot is newer than this version'),
    wait: z.coerce.number().int().min(0).max(60).default(0).describe('seconds to wait for a newer one (long poll); 204 when none came'),
  })
  .strict();

// ---------------------------------------------------------------------------------------------
// Control-plane endpoints around the snapshot: a model's gateway settings, usage ingestion.

export const ModelCache = SnapshotModel.shape.cache;
export const GatewayModelParams = z.object({ name: z.string().min(1).max(200) }).strict();
export const GatewayModelBody = z.object({ cache: ModelCache.describe('opt-in response cache for deterministic requests; null turns it off') }).strict();
export const GatewayModelResponse = z.object({ model: z.string(), cache: ModelCache, updatedAt: Timestamp, updatedBy: z.string() }).strict();
export const UsageIngestResponse = z
  .object({ accepted: z.number().int().describe('records stored'), duplicate: z.boolean().describe('this (gateway, batch) was stored before: nothing added') })
  .strict();
export type UsageIngestResponse = z.infer<typeof UsageIngestResponse>;

/**
 * Pure rules of the gateway's control-plane side: what a key's secret looks like and how it is
 * hashed (32 random bytes: a fast hash is right, there is nothing to brute-force), how rows read
 * as responses, and what a usage record becomes as a row.
 */
import { createHash, randomBytes } from 'node:crypto';
import { GATEWAY_KEY_PREFIX, type KeyResponse, type SnapshotKey, type UsageRecord } from '../../contracts/gateway.js';
import type { KeyRow, UsageRow } from './gateway-repo.js';

/** Longest request id kept with a usage row. */
export const MAX_REQUEST_ID = 200;

/** Characters of the secret kept to recognise it: the prefix and five of the random part. */
const SHOWN = GATEWAY_KEY_PREFIX.length + 5;

export function newKeySecret(): { secret: string; hash: string; prefix: string } {
  const secret = `${GATEWAY_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { secret, hash: keyHash(secret), prefix: secret.slice(0, SHOWN) };
}

/** sha256 (hex) of a key's secret: what the table and the snapshot hold. */
export function keyHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function keyView(r: KeyRow): KeyResponse {
  return {
    id: r.id,
    name: r.name,
    namespace: r.namespace,
    models: r.models ? (JSON.parse(r.models) as string[]) : null,
    defaultEnvironment: r.default_environment,
    rpm: r.rpm === null ? null : Number(r.rpm),
    tpm: r.tpm === null ? null : Number(r.tpm),
    budgetUsd: r.budget_usd === null ? null : Number(r.budget_usd),
    spentUsd: Number(r.spent_usd),
    prefix: r.prefix,
    createdAt: r.created_at,
    createdBy: r.created_by,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
  };
}

export function snapshotKey(r: KeyRow): SnapshotKey {
  const v = keyView(r);
  return { id: v.id, hash: r.hash, namespace: v.namespace, models: v.models, defaultEnvironment: v.defaultEnvironment, rpm: v.rpm, tpm: v.tpm, budgetUsd: v.budgetUsd, spentUsd: v.spentUsd, expiresAt: v.expiresAt };
}

/** A record's time as canonical RFC 3339 UTC (so reports filter by string order), or null if it is not a time. */
export function canonicalTime(at: string): string | null {
  const ms = Date.parse(at);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

export function usageRow(gateway: string, batch: number, idx: number, at: string, r: UsageRecord): UsageRow {
  return {
    gateway,
    batch,
    idx,
    at,
    key_id: r.keyId,
    namespace: r.namespace,
    model: r.model,
    version: r.version,
    deployment: r.deployment,
    environment: r.environment,
    endpoint: r.endpoint,
    status: r.status,
    stream: r.stream ? 1 : 0,
    shadow: r.shadow ? 1 : 0,
    cached: r.cached ? 1 : 0,
    latency_ms: r.latencyMs,
    ttft_ms: r.ttftMs,
    input_tokens: r.inputTokens,
    output_tokens: r.outputTokens,
    cost_usd: r.costUsd,
    // Longer ids (a client's own x-request-id) are not kept: an index entry has a size limit.
    request_id: r.requestId && r.requestId.length <= MAX_REQUEST_ID ? r.requestId : null,
    refusal: r.refusal === undefined ? null : r.refusal ? 1 : 0,
    upstream_errors: r.upstreamErrors,
  };
}

/** Spend per key in a batch (records without a key or without cost add nothing). */
export function spendByKey(records: readonly UsageRecord[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of records) if (r.keyId && r.costUsd > 0) out.set(r.keyId, (out.get(r.keyId) ?? 0) + r.costUsd);
  return out;
}

/** Fractions of a key's budget that alert when spend crosses them. */
export const BUDGET_THRESHOLDS = [0.5, 0.8, 1] as const;

/**
 * Thresholds crossed by spend going from `before` to `after` (each at most once: spend only
 * grows, so a threshold crossed by one batch is below `before` for every later one).
 */
export function thresholdsCrossed(before: number, after: number, budget: number | null): number[] {
  if (budget === null || budget <= 0) return [];
  return BUDGET_THRESHOLDS.filter((t) => before < t * budget && after >= t * budget);
}

/** Served tokens and metered cost of one (deployment, group) over a period. */
export interface DeploymentTokens {
  deployment: string | null;
  group: string | null;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  tokenCostUsd: number;
}
/** A deployment billed by the hour, and when it ran (`to` null: still running). */
export interface HourlyDeployment {
  id: string;
  model: string;
  namespace: string | null;
  usdPerHour: number;
  from: string;
  to: string | null;
}
export type CostGroup = 'model' | 'key' | 'namespace' | 'deployment';

/** Hours of [from, to ?? now] inside [since, until). */
export function hoursWithin(from: string, to: string | null, since: string, until: string, now: Date): number {
  const start = Math.max(Date.parse(from), Date.parse(since));
  const end = Math.min(to === null ? now.getTime() : Date.parse(to), Date.parse(until), now.getTime());
  return Math.max(0, end - start) / 3_600_000;
}

/**
 * The cost report: metered per-token cost as it is; each hourly deployment's cost over the
 * period (price × hours it ran in it) shared out among the groups it served in proportion to
 * their tokens. A deployment that served nothing still cost its hours: they go to its model,
 * namespace or itself, and to no key (`group` null) when grouped by key.
 */
export function costRows(groupBy: CostGroup, usage: readonly DeploymentTokens[], hourly: readonly HourlyDeployment[], period: { since: string; until: string; now: Date }) {
  const out = new Map<string | null, { requests: number; inputTokens: number; outputTokens: number; tokenCostUsd: number; gpuCostUsd: number }>();
  const row = (g: string | null) => {
    let r = out.get(g);
    if (!r) out.set(g, (r = { requests: 0, inputTokens: 0, outputTokens: 0, tokenCostUsd: 0, gpuCostUsd: 0 }));
    return r;
  };
  for (const u of usage) {
    const r = row(u.group);
    r.requests += u.requests;
    r.inputTokens += u.inputTokens;
    r.outputTokens += u.outputTokens;
    r.tokenCostUsd += u.tokenCostUsd;
  }
  for (const d of hourly) {
    const cost = d.usdPerHour * hoursWithin(d.from, d.to, period.since, period.until, period.now);
    if (cost <= 0) continue;
    const served = usage.filter((u) => u.deployment === d.id);
    const tokens = served.reduce((s, u) => s + u.inputTokens + u.outputTokens, 0);
    if (tokens > 0) for (const u of served) row(u.group).gpuCostUsd += (cost * (u.inputTokens + u.outputTokens)) / tokens;
    else row(groupBy === 'deployment' ? d.id : groupBy === 'model' ? d.model : groupBy === 'namespace' ? d.namespace : null).gpuCostUsd += cost;
  }
  return [...out.entries()]
    .map(([group, r]) => {
      const costUsd = r.tokenCostUsd + r.gpuCostUsd;
      const tokens = r.inputTokens + r.outputTokens;
      return { group, ...r, costUsd, costPerMTokUsd: tokens > 0 ? (costUsd * 1e6) / tokens : null };
    })
    .sort((a, b) => b.costUsd - a.costUsd || String(a.group).localeCompare(String(b.group)));
}

/** What a rollout's analysis reads of a deployment's recent traffic (`usage.window`). */
export interface UsageWindow {
  requests: number;
  /** Requests answered 5xx (connection errors and timeouts are 502/504) or that met a failed attempt a retry hid; 4xx are the caller's and not counted. */
  errors: number;
  errorRate: number | null;
  /** 4xx answers, shown apart. */
  clientErrors: number;
  p95LatencyMs: number | null;
  meanLatencyMs: number | null;
  /** Sample standard deviation of the latencies (intervals of the mean). */
  latencySdMs: number | null;
  p95TtftMs: number | null;
  /** Output tokens per second of request time, over the requests that succeeded. */
  tokensPerSecond: number | null;
  /** The window held more rows than were read: the figures are of the newest ones. */
  truncated: boolean;
}

/** The nearest-rank percentile (p in 0..1) of unsorted values; null for none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** Summarises a window's rows; `limit` is how many were asked for (a full page means truncated). */
export function summariseWindow(
  rows: readonly { status: number; latency_ms: number; ttft_ms: number | null; output_tokens: number | string; upstream_errors: number }[],
  limit: number,
): UsageWindow {
  let errors = 0;
  let clientErrors = 0;
  let tokens = 0;
  let okMs = 0;
  const latencies: number[] = [];
  const ttfts: number[] = [];
  for (const r of rows) {
    const status = Number(r.status);
    // 499: the client went away; neither the deployment's fault nor the caller's error.
    if (status >= 500 || Number(r.upstream_errors) > 0) errors++;
    else if (status >= 400 && status !== 499) clientErrors++;
    latencies.push(Number(r.latency_ms));
    if (r.ttft_ms !== null) ttfts.push(Number(r.ttft_ms));
    if (status < 400) {
      tokens += Number(r.output_tokens);
      okMs += Number(r.latency_ms);
    }
  }
  const n = latencies.length;
  const mean = n ? latencies.reduce((a, b) => a + b, 0) / n : null;
  const sd = mean !== null && n > 1 ? Math.sqrt(latencies.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : null;
  return {
    requests: rows.length,
    errors,
    errorRate: rows.length ? errors / rows.length : null,
    clientErrors,
    p95LatencyMs: percentile(latencies, 0.95),
    meanLatencyMs: mean,
    latencySdMs: sd,
    p95TtftMs: percentile(ttfts, 0.95),
    tokensPerSecond: okMs > 0 && tokens > 0 ? tokens / (okMs / 1000) : null,
    truncated: rows.length >= limit,
  };
}

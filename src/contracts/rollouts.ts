/**
 * Contracts of rollouts: how an environment moves from its stable version to a candidate —
 * rolling, blue-green, canary with weighted steps, an A/B experiment, or shadow traffic — with
 * the analysis that judges each step (absolute thresholds and the stable arm) and the automatic
 * rollback a failed analysis or a degraded deployment triggers. States move
 * `pending → running ⇄ paused → succeeded | aborted | failed`.
 */
import { z } from 'zod';
import { Cursor, Limit, page, Timestamp } from './common.js';

export const ROLLOUT_STRATEGIES = ['rolling', 'canary', 'blue-green', 'ab', 'shadow'] as const;
export const RolloutStrategy = z.enum(ROLLOUT_STRATEGIES);
export type RolloutStrategy = z.infer<typeof RolloutStrategy>;
export const ROLLOUT_STATES = ['pending', 'running', 'paused', 'succeeded', 'aborted', 'failed'] as const;
export const RolloutState = z.enum(ROLLOUT_STATES);
export type RolloutState = z.infer<typeof RolloutState>;
/** States a rollout leaves no more. */
export const FINISHED_ROLLOUT_STATES: readonly RolloutState[] = ['succeeded', 'aborted', 'failed'];

/** `30s`, `5m`, `1h` (or a number of seconds). */
const DURATION_RE = /^(\d{1,6})(s|m|h)$/;
export function parseDuration(v: string | number): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : null;
  const m = DURATION_RE.exec(v.trim());
  return m ? Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's'] : null;
}
const Duration = z.union([z.number().min(0).max(7 * 86400), z.string().max(16)]).transform((v, ctx) => {
  const s = parseDuration(v);
  if (s === null || s > 7 * 86400) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not a duration such as 30s, 5m or 1h (at most 7 days)` });
    return z.NEVER;
  }
  return s;
});

/**
 * What judges a step. Thresholds are absolute (the seed's rollback triggers: error rate above
 * 0.05, p95 latency above 2000 ms, more than 3 failed health checks) and relative to the stable
 * arm over the same window. Fewer than `minRequests` requests make a verdict inconclusive, never a pass.
 */
export const AnalysisSpec = z
  .object({
    enabled: z.boolean().default(true).describe('false: steps advance on time alone (no verdicts)'),
    maxErrorRate: z.number().min(0).max(1).default(0.05).describe('errors / requests of the candidate (5xx, connection errors, timeouts, failed attempts a retry hid; not 4xx)'),
    maxP95LatencyMs: z.number().min(1).max(3_600_000).default(2000),
    maxP95TtftMs: z.number().min(1).max(3_600_000).nullable().default(null),
    minTokensPerSecond: z.number().min(0).nullable().default(null),
    maxErrorRateIncrease: z.number().min(0).max(1).nullable().default(0.02).describe('fails when the candidate\'s error rate exceeds the stable arm\'s by more than this with 95% confidence (Newcombe); null: no comparison'),
    maxLatencyRatio: z.number().min(1).max(100).nullable().default(1.5).describe('the candidate\'s p95 may be at most this times the stable arm\'s (or 250 ms more, whichever is larger), compared from 100 requests per arm; null: no comparison'),
    minRequests: z.number().int().min(1).max(1_000_000).default(50).describe('fewer candidate requests in the window: inconclusive'),
    windowSeconds: z.number().min(1).max(3600).default(10).describe('how far back an analysis reads (never before its step began)'),
    intervalSeconds: z.number().min(0.2).max(60).default(2).describe('how often a running step is analysed'),
  })
  .strict();
export type AnalysisSpec = z.output<typeof AnalysisSpec>;
export type AnalysisSpecInput = z.input<typeof AnalysisSpec>;

const ANALYSIS_KEYS: Record<string, { key: keyof AnalysisSpec; op: '<' | '>' }> = {
  'error-rate': { key: 'maxErrorRate', op: '<' },
  p95: { key: 'maxP95LatencyMs', op: '<' },
  'p95-latency': { key: 'maxP95LatencyMs', op: '<' },
  ttft: { key: 'maxP95TtftMs', op: '<' },
  'p95-ttft': { key: 'maxP95TtftMs', op: '<' },
  'tokens-per-second': { key: 'minTokensPerSecond', op: '>' },
  tps: { key: 'minTokensPerSecond', op: '>' },
  'min-requests': { key: 'minRequests', op: '>' },
  window: { key: 'windowSeconds', op: '<' },
};

/**
 * The one-line analysis of `steward rollout start --analysis`: `error-rate<0.05,p95<2000,ttft<500,
 * tps>20,min-requests>100`, or `none` (steps advance on time alone). Returns the fields it sets,
 * or a message saying what is wrong.
 */
export function parseAnalysisLine(line: string): { ok: true; spec: Partial<AnalysisSpecInput> } | { ok: false; message: string } {
  const text = line.trim();
  if (text === 'none') return { ok: true, spec: { enabled: false } };
  const spec: Record<string, number> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z0-9-]+)\s*(<|>)\s*([0-9]*\.?[0-9]+)$/.exec(part);
    const known = m ? ANALYSIS_KEYS[m[1]!] : undefined;
    if (!m || !known) return { ok: false, message: `${JSON.stringify(part)} is not an analysis criterion; write NAME<VALUE or NAME>VALUE with NAME one of ${Object.keys(ANALYSIS_KEYS).join(', ')} (or "none")` };
    if (m[2] !== known.op) return { ok: false, message: `${m[1]} takes "${known.op}" (${m[1]}${known.op}${m[3]})` };
    spec[known.key] = Number(m[3]);
  }
  return { ok: true, spec: spec as Partial<AnalysisSpecInput> };
}

/** How to roll: shared by an environment's policy (`rollout`) and `POST /api/v1/rollouts`. */
export const RolloutSpec = z
  .object({
    strategy: RolloutStrategy.default('rolling'),
    steps: z
      .array(z.number().int().min(1).max(100))
      .min(1)
      .max(20)
      .default([5, 25, 50, 100])
      .describe('canary: the candidate\'s traffic share (%) at each step, rising; the last is 100'),
    weights: z
      .tuple([z.number().int().min(0).max(100), z.number().int().min(0).max(100)])
      .nullable()
      .default(null)
      .describe('a fixed split [stable, candidate] that sums to 100: the A/B experiment\'s split (default 50,50); for a canary, one step at the candidate\'s share before 100'),
    pause: Duration.default(30).describe('how long each step is held and analysed (A/B, shadow: the experiment\'s duration; blue-green: the preview)'),
    grace: Duration.default(300).describe('blue-green: how long blue stays warm after the switch (an abort then returns at once)'),
    previewPercent: z.number().int().min(0).max(50).default(10).describe('blue-green: the share of traffic green gets while it is validated'),
    shadowPercent: z.number().min(1).max(100).default(100).describe('shadow: the share of requests mirrored to the candidate'),
    sticky: z.string().regex(/^(none|key|header:[A-Za-z0-9-]{1,64})$/, 'sticky is none, key, or header:NAME').default('key').describe('A/B: keep a caller on one arm'),
    analysis: AnalysisSpec.default(AnalysisSpec.parse({})),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.weights && s.weights[0] + s.weights[1] !== 100) {
      ctx.addIssue({ code: 'custom', path: ['weights'], message: `weights ${s.weights.join(',')} sum to ${s.weights[0] + s.weights[1]}; a split sums to 100 (e.g. 90,10)` });
    }
    for (let i = 1; i < s.steps.length; i++) {
      if (s.steps[i]! <= s.steps[i - 1]!) ctx.addIssue({ code: 'custom', path: ['steps'], message: `steps rise: ${s.steps.join(',')} does not (each step gives the candidate more traffic)` });
    }
    if (s.strategy === 'canary' && s.steps[s.steps.length - 1] !== 100) ctx.addIssue({ code: 'custom', path: ['steps'], message: `a canary ends with all the traffic: end the steps with 100 (${[...s.steps, 100].join(',')})` });
  });
export type RolloutSpec = z.output<typeof RolloutSpec>;
export type RolloutSpecInput = z.input<typeof RolloutSpec>;

export const StartRolloutBody = z
  .object({
    model: z.string().min(1).max(200).describe('the candidate: model NAME:VERSION'),
    environment: z.string().min(1).max(32),
    candidateDeployment: z.string().min(1).max(64).optional().describe('a deployment already serving the candidate in the environment (default: a copy of the stable one, driver local only)'),
    spec: z.record(z.string(), z.unknown()).optional().describe('fields of a RolloutSpec over the environment policy\'s rollout (analysis merged field by field)'),
    reason: z.string().max(2000).default(''),
  })
  .strict();
export type StartRolloutBody = z.output<typeof StartRolloutBody>;

/** One step of a plan: what traffic looks like and how long it is held. */
export const RolloutStep = z
  .object({
    kind: z.enum(['traffic', 'switch', 'experiment', 'shadow', 'move']).describe('traffic: a weighted split; switch: blue-green all at once; experiment: A/B; shadow: mirrored; move: a rolling update in place'),
    weight: z.number().int().min(0).max(100).describe('the candidate\'s share of primary traffic (%)'),
    shadowPercent: z.number().nullable(),
    holdSeconds: z.number(),
    analyse: z.boolean(),
  })
  .strict();
export type RolloutStep = z.infer<typeof RolloutStep>;

export const ArmMetrics = z
  .object({
    requests: z.number().int(),
    errors: z.number().int(),
    errorRate: z.number().nullable(),
    clientErrors: z.number().int(),
    p95LatencyMs: z.number().nullable(),
    meanLatencyMs: z.number().nullable(),
    latencySdMs: z.number().nullable(),
    p95TtftMs: z.number().nullable(),
    tokensPerSecond: z.number().nullable(),
    truncated: z.boolean(),
  })
  .strict();
export type ArmMetrics = z.infer<typeof ArmMetrics>;

export const AnalysisCheck = z
  .object({ name: z.string(), status: z.enum(['pass', 'fail', 'inconclusive']), reason: z.string() })
  .strict();
export type AnalysisCheck = z.infer<typeof AnalysisCheck>;

export const AnalysisResult = z
  .object({
    verdict: z.enum(['pass', 'fail', 'inconclusive']),
    reason: z.string(),
    checks: z.array(AnalysisCheck),
    candidate: ArmMetrics,
    stable: ArmMetrics.nullable(),
    unhealthyReplicas: z.number().int(),
    since: Timestamp,
    at: Timestamp,
  })
  .strict();
export type AnalysisResult = z.infer<typeof AnalysisResult>;

/** An interval estimate (95%). */
export const Interval = z.object({ estimate: z.number().nullable(), low: z.number().nullable(), high: z.number().nullable() }).strict();
export const ArmReport = z
  .object({ deployment: z.string(), version: z.string(), requests: z.number().int(), errorRate: Interval, meanLatencyMs: Interval, p95LatencyMs: z.number().nullable() })
  .strict();
/** The comparison an A/B experiment or a shadow rollout ends with. */
export const ExperimentReport = z
  .object({
    stable: ArmReport,
    candidate: ArmReport,
    errorRateDifference: Interval.describe('candidate − stable'),
    latencyDifferenceMs: Interval.describe('candidate − stable, of the means'),
    conclusion: z.string(),
    since: Timestamp,
    at: Timestamp,
  })
  .strict();
export type ExperimentReport = z.infer<typeof ExperimentReport>;

export const RolloutLogEntry = z
  .object({
    seq: z.number().int(),
    at: Timestamp,
    kind: z.enum(['state', 'step', 'analysis', 'report']),
    step: z.number().int().nullable(),
    message: z.string(),
    detail: z.record(z.string(), z.unknown()),
  })
  .strict();

export const RolloutResponse = z
  .object({
    id: z.string(),
    model: z.string(),
    environment: z.string(),
    strategy: RolloutStrategy,
    state: RolloutState,
    reason: z.string().nullable().describe('why it paused, aborted or failed'),
    stable: z.object({ version: z.string(), deployment: z.string() }).strict(),
    candidate: z.object({ version: z.string(), deployment: z.string().nullable(), created: z.boolean().describe('made by the rollout (stopped when it aborts)') }).strict(),
    promotion: z.string().nullable(),
    spec: z.record(z.string(), z.unknown()),
    steps: z.array(RolloutStep),
    step: z.number().int().describe('index of the current step in steps (-1: not started)'),
    stepStartedAt: Timestamp.nullable(),
    lastAnalysis: AnalysisResult.nullable(),
    report: ExperimentReport.nullable(),
    createdBy: z.string(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    finishedAt: Timestamp.nullable(),
  })
  .strict();
export type RolloutResponse = z.infer<typeof RolloutResponse>;
export const RolloutDetail = RolloutResponse.extend({ timeline: z.array(RolloutLogEntry) }).strict();
export type RolloutDetail = z.infer<typeof RolloutDetail>;
export const RolloutPage = page(RolloutResponse);

export const RolloutParams = z.object({ id: z.string().min(1).max(64) }).strict();
export const RolloutActionBody = z.object({ reason: z.string().max(2000).default('') }).strict();
export const ListRolloutsQuery = z
  .object({
    model: z.string().max(200).optional(),
    environment: z.string().max(32).optional(),
    state: RolloutState.optional(),
    limit: Limit,
    cursor: Cursor,
  })
  .strict();

/**
 * Contracts of environments and promotions: an environment's policy (what a version must show to
 * enter it, who must approve), the pointer of each model in each environment and its history,
 * promotion requests with their gate results and approvals, rollbacks.
 */
import { z } from 'zod';
import { parseGate } from './evals.js';
import { Cursor, Limit, page, Timestamp } from './common.js';
import { RolloutSpec } from './rollouts.js';

const ENV_RE = /^[a-z][a-z0-9-]{0,31}$/;
export const EnvironmentName = z.string().regex(ENV_RE, 'environment names are 1-32 lowercase letters, digits and "-", starting with a letter');
const Namespace = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a namespace is the first segment of an asset name');

/** `90m`, `24h`, `7d`, `2w` in seconds. */
const Seconds = z
  .string()
  .regex(/^[1-9]\d{0,5}[smhdw]$/, 'durations look like 90m, 24h, 7d or 2w')
  .transform((v) => Number(v.slice(0, -1)) * { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[v.slice(-1) as 's']);
const DurationOrSeconds = z.union([z.number().int().min(0).max(366 * 86400), Seconds]);

/** Gates in the one-line syntax of `steward eval gate` (`exact_match >= 0.9`, `f1 no-regression production 0.02`). */
const GateLine = z.string().max(200).superRefine((g, ctx) => {
  const p = parseGate(g);
  if (!p.ok) ctx.addIssue({ code: 'custom', message: p.message });
});

export const EnvironmentPolicy = z
  .object({
    description: z.string().max(500).default(''),
    /** Position in the pipeline (development 10, staging 20, production 30): listings sort by it. */
    order: z.number().int().min(0).max(1000).default(100),
    requiredSource: EnvironmentName.nullable().default(null).describe('a version must be in this environment before it may enter this one'),
    autoPromote: z.boolean().default(false).describe('every model version that becomes ready is promoted here automatically'),
    validation: z
      .object({
        required: z.boolean().default(false).describe('the version needs a succeeded evaluation run that passed its suite thresholds (the newest run of each suite)'),
        minScore: z.number().min(0).max(1).nullable().default(null).describe('every unitless, higher-is-better metric of those runs must reach this'),
      })
      .strict()
      .default({ required: false, minScore: null }),
    gates: z.array(GateLine).max(32).default([]),
    minTimeInSource: DurationOrSeconds.nullable().default(null).describe('seconds (or 24h, 7d…) the version must have spent in the required source environment'),
    live: z
      .object({
        required: z.boolean().default(false),
        criteria: z.array(z.string().min(1).max(200)).max(16).default([]).describe('judged by monitoring on the version in the required source environment: slo-met:6h, error-rate<0.05:1h, p95<2000:1h, ttft-p95<500:1h, min-requests:100 (too little traffic is inconclusive)'),
      })
      .strict()
      .default({ required: false, criteria: [] }),
    approvals: z
      .object({
        count: z.number().int().min(0).max(10).default(0),
        role: z.enum(['approver', 'admin']).default('approver').describe('approvers need this role (admin also approves where approver is asked)'),
      })
      .strict()
      .default({ count: 0, role: 'approver' }),
    approvalTimeout: DurationOrSeconds.default(7 * 86400).describe('a request waiting for approval expires after this'),
    deploy: z
      .object({
        replicas: z.number().int().min(0).max(1000).default(1),
        runtime: z.string().max(64).nullable().default(null),
        nodeSelector: z
          .record(z.string().min(1).max(317).regex(/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, 'a Kubernetes label key such as nvidia.com/gpu.product'), z.string().max(63).regex(/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/, 'a Kubernetes label value'))
          .default({})
          .describe('driver kubernetes: the node labels its pods must land on (e.g. a GPU pool)'),
      })
      .strict()
      .default({ replicas: 1, runtime: null, nodeSelector: {} }),
    allowDangerousFindings: z.boolean().default(false).describe('whether versions with dangerous supply-chain scan findings may enter'),
    rollout: RolloutSpec.default(RolloutSpec.parse({})).describe('how a completed promotion reaches the deployments: rolling (in place), or a rollout (canary, blue-green) that moves the pointer when it succeeds'),
  })
  .strict();
export type EnvironmentPolicy = z.output<typeof EnvironmentPolicy>;
export type EnvironmentPolicyInput = z.input<typeof EnvironmentPolicy>;

/** The seed's environments.yaml. */
export const DEFAULT_ENVIRONMENTS: Record<string, EnvironmentPolicyInput> = {
  development: { description: 'Development: every ready version enters automatically', order: 10, autoPromote: true, deploy: { replicas: 1 } },
  staging: { description: 'Staging: validated versions', order: 20, validation: { required: true, minScore: 0.8 }, deploy: { replicas: 2 } },
  production: {
    description: 'Production: validated in staging and approved',
    order: 30,
    requiredSource: 'staging',
    validation: { required: true, minScore: 0.9 },
    approvals: { count: 1, role: 'approver' },
    deploy: { replicas: 3 },
  },
};

export const EnvironmentParams = z.object({ env: EnvironmentName }).strict();
export const EnvironmentQuery = z.object({ namespace: Namespace.optional().describe("a team's own policy for this environment; absent: the global one") }).strict();

export const EnvironmentResponse = z
  .object({
    name: z.string(),
    namespace: z.string().nullable().describe('null: the global policy; a namespace: that team\'s override'),
    policy: EnvironmentPolicy,
    updatedAt: Timestamp,
    updatedBy: z.string(),
  })
  .strict();
export type EnvironmentResponse = z.infer<typeof EnvironmentResponse>;
export const EnvironmentList = z.object({ items: z.array(EnvironmentResponse) }).strict();

export const PointerResponse = z
  .object({
    model: z.string(),
    environment: z.string(),
    version: z.string(),
    since: Timestamp,
    by: z.string(),
    promotion: z.string().nullable().describe('the promotion that put it there; null for a rollback'),
  })
  .strict();
export type PointerResponse = z.infer<typeof PointerResponse>;
export const PointerList = z.object({ items: z.array(PointerResponse) }).strict();
export const PointersQuery = z
  .object({
    model: z.string().min(1).max(200).optional().describe('absent: every model (a token limited to namespaces must name one)'),
    environment: EnvironmentName.optional(),
  })
  .strict();

export const PointerMove = z
  .object({
    seq: z.number().int(),
    model: z.string(),
    environment: z.string(),
    version: z.string().nullable().describe('null for a removal: the version was deleted, and the environment runs none of the model'),
    previous: z.string().nullable(),
    kind: z.enum(['promotion', 'rollback', 'removal', 'rollout']).describe('rollout: a rollout succeeded; its own deployment already serves the version'),
    promotion: z.string().nullable(),
    reason: z.string().nullable(),
    at: Timestamp,
    by: z.string(),
  })
  .strict();
export type PointerMove = z.infer<typeof PointerMove>;
export const PointerHistory = z.object({ items: z.array(PointerMove) }).strict();
export const PointerHistoryQuery = z.object({ model: z.string().min(1).max(200), environment: EnvironmentName.optional(), limit: Limit }).strict();

/** `rolling_out`: approved, and a rollout (the environment's policy) is moving traffic; it completes or fails with it. */
export const PROMOTION_STATES = ['checking', 'pending', 'rolling_out', 'completed', 'rejected', 'failed', 'cancelled', 'expired'] as const;
export const PromotionState = z.enum(PROMOTION_STATES);
export type PromotionState = z.infer<typeof PromotionState>;

export const PromotionGateResult = z
  .object({
    name: z.string().describe('validation, gate, min-time-in-source, live'),
    status: z.enum(['passed', 'failed', 'inconclusive', 'error']),
    reason: z.string(),
    evidence: z.record(z.string(), z.unknown()),
  })
  .strict();
export type PromotionGateResult = z.infer<typeof PromotionGateResult>;

export const Decision = z
  .object({ by: z.string(), decision: z.enum(['approve', 'reject']), comment: z.string(), at: Timestamp })
  .strict();

export const PromotionResponse = z
  .object({
    id: z.string(),
    model: z.object({ name: z.string(), version: z.string() }).strict(),
    from: z.string().nullable().describe('the source environment the version was in, when the policy names one'),
    to: z.string(),
    state: PromotionState,
    reason: z.string().nullable().describe('why it was rejected, failed, cancelled or expired'),
    comment: z.string(),
    gates: z.array(PromotionGateResult),
    approvals: z.object({ required: z.number().int(), role: z.string(), decisions: z.array(Decision) }).strict(),
    requestedBy: z.string(),
    requestedAt: Timestamp,
    decidedAt: Timestamp.nullable(),
    expiresAt: Timestamp.nullable(),
  })
  .strict();
export type PromotionResponse = z.infer<typeof PromotionResponse>;
export const PromotionPage = page(PromotionResponse);

export const CreatePromotionBody = z
  .object({
    model: z.string().min(1).max(200).describe('model NAME:VERSION (or an alias)'),
    to: EnvironmentName,
    comment: z.string().max(2000).default(''),
  })
  .strict();
export const PromotionParams = z.object({ id: z.string().min(1).max(64) }).strict();
export const DecideBody = z.object({ comment: z.string().max(2000).default('') }).strict();
export const RejectBody = z.object({ comment: z.string().min(1, 'say why you reject it').max(2000) }).strict();
export const ListPromotionsQuery = z
  .object({
    model: z.string().max(200).optional(),
    environment: EnvironmentName.optional(),
    state: PromotionState.optional(),
    limit: Limit,
    cursor: Cursor,
  })
  .strict();

export const RollbackBody = z
  .object({
    model: z.string().min(1).max(200).describe('model NAME'),
    to: z.string().min(1).max(64).optional().describe('a version that was in the environment before; default: the last known-good one'),
    reason: z.string().max(2000).default(''),
  })
  .strict();

/** What a model version's document shows of environments (contributed to the registry). */
export const VersionEnvironments = z
  .object({
    current: z.array(z.object({ environment: z.string(), since: Timestamp }).strict()).describe('environments this version is in now'),
    pending: z.array(z.object({ id: z.string(), to: z.string(), requestedAt: Timestamp }).strict()).describe('promotion requests waiting for approval'),
  })
  .strict();
export type VersionEnvironments = z.infer<typeof VersionEnvironments>;

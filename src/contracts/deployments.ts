/**
 * Contracts of deployments: a ready model version served by a runtime through a driver, with its
 * replicas and their health. States move `pending → starting → ready ⇄ degraded → stopped | failed`.
 */
import { z } from 'zod';
import { Cursor, Limit, page, Timestamp } from './common.js';
import { endpointUrlCredential } from './evals.js';
import { Pricing } from './gateway.js';
import { EnvironmentName } from './promotions.js';

export const RUNTIMES = ['builtin', 'vllm', 'ollama', 'tgi', 'llamacpp', 'torchserve', 'openai-compatible'] as const;
export const Runtime = z.enum(RUNTIMES);
export type Runtime = z.infer<typeof Runtime>;
export const DRIVERS = ['local', 'kubernetes', 'external'] as const;
export const Driver = z.enum(DRIVERS);
export type Driver = z.infer<typeof Driver>;

export const DEPLOYMENT_STATES = ['pending', 'starting', 'ready', 'degraded', 'stopped', 'failed'] as const;
export const DeploymentState = z.enum(DEPLOYMENT_STATES);
export type DeploymentState = z.infer<typeof DeploymentState>;

export const ReplicaState = z.enum(['starting', 'ready', 'unhealthy', 'restarting', 'stopped', 'failed']);
export type ReplicaState = z.infer<typeof ReplicaState>;

export const K8S_FLAVOURS = ['deployment', 'kserve', 'inference-pool'] as const;
export const K8sFlavour = z.enum(K8S_FLAVOURS);
export type K8sFlavour = z.infer<typeof K8sFlavour>;
/** A Kubernetes object name: a DNS-1123 label (namespaces, Secrets, service accounts). */
const DnsLabel = z.string().max(63).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63');
const DnsSubdomain = z.string().max(253).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'a DNS-1123 subdomain: lower-case letters, digits, "-" and "."');
/** A Kubernetes resource quantity (`16Gi`, `512M`, `1e9`). */
export const QUANTITY_RE = /^[+]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

/** Driver `kubernetes`: where and how the manifests run (see features/deployments/kubernetes). */
export const KubernetesSpec = z
  .object({
    namespace: DnsLabel.default('default'),
    flavour: K8sFlavour.default('deployment').describe('deployment: Deployment + Service + HorizontalPodAutoscaler; kserve: an InferenceService; inference-pool: a Deployment + Service + a Gateway API Inference Extension InferencePool'),
    image: z.string().min(1).max(512).regex(/^[^\s]+$/, 'an image reference without spaces').optional().describe("the model server's image (default: the runtime's)"),
    registrySecret: DnsSubdomain.optional().describe('Secret with keys url and token the init container pulls the version with (default steward-registry)'),
    serviceAccount: DnsSubdomain.optional(),
  })
  .strict();
export type KubernetesSpec = z.output<typeof KubernetesSpec>;

const EnvVarName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'environment variable names are letters, digits and "_"');

export const CreateDeploymentBody = z
  .object({
    model: z.string().min(1).max(200).describe('model NAME:VERSION (or an alias)'),
    environment: EnvironmentName,
    runtime: Runtime.default('openai-compatible'),
    driver: Driver.default('local'),
    replicas: z.number().int().min(0).max(64).optional().describe("default: the environment's policy"),
    /**
     * The runtime's command line for `openai-compatible` (and extra arguments for the others):
     * `{port}`, `{host}`, `{model_dir}` and `{model}` are replaced per replica.
     */
    args: z.array(z.string().max(4096)).max(256).default([]),
    /** Driver `external`: a server that already serves the version; the key is kept for callers (the gateway) and never shown. */
    endpoint: z
      .object({
        url: z
          .url({ protocol: /^https?$/, error: 'endpoint url must be an http(s) URL such as https://llm.example.com/v1' })
          .max(2048)
          .superRefine((url, ctx) => {
            const what = endpointUrlCredential(url);
            if (what) ctx.addIssue({ code: 'custom', message: `the URL holds a credential (${what}); put the key in endpoint.apiKey, which is never shown` });
          }),
        apiKey: z.string().min(1).max(4096).optional(),
        /** The model name that server expects in requests (default: the registry's model name). */
        model: z.string().min(1).max(256).optional(),
      })
      .strict()
      .optional(),
    env: z.record(EnvVarName, z.string().max(8192)).default({}),
    /** What the gateway charges per request served by this deployment (USD per million tokens). */
    pricing: Pricing.optional(),
    /**
     * What one GPU costs per hour (USD), for deployments billed by the hour rather than per token:
     * the cost report divides the hours it ran (× replicas × GPUs per replica, at least one) by the
     * tokens it served. Ignored for cost where `pricing` is given.
     */
    gpuHourUsd: z.number().min(0).max(100_000).optional(),
    readinessPath: z.string().regex(/^\/[\x21-\x7e]*$/, 'a path starting with "/"').max(512).optional(),
    resources: z
      .object({ gpus: z.number().int().min(0).max(64).default(0), gpuType: z.string().max(64).nullable().default(null), memory: z.string().max(32).nullable().default(null) })
      .strict()
      .default({ gpus: 0, gpuType: null, memory: null }),
    health: z
      .object({
        intervalMs: z.number().int().min(50).max(600_000).default(5000),
        timeoutMs: z.number().int().min(50).max(120_000).default(2000),
        failureThreshold: z.number().int().min(1).max(100).default(3).describe('consecutive failures before a replica is unhealthy (the seed: 3)'),
        startTimeoutMs: z.number().int().min(100).max(3_600_000).default(300_000).describe('how long a replica may take to become ready'),
      })
      .strict()
      .default({ intervalMs: 5000, timeoutMs: 2000, failureThreshold: 3, startTimeoutMs: 300_000 }),
    kubernetes: KubernetesSpec.optional().describe('driver kubernetes only'),
    /** Driver kubernetes: the HorizontalPodAutoscaler's bounds (absent: min = max = replicas, no autoscaler). */
    autoscaling: z.object({ min: z.number().int().min(0).max(1000), max: z.number().int().min(1).max(1000) }).strict().optional(),
    /** Validate and render without recording anything: answers 200 with the spec and, for driver kubernetes, the manifests. */
    dryRun: z.boolean().default(false),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.driver !== 'kubernetes') {
      if (b.kubernetes) ctx.addIssue({ code: 'custom', path: ['kubernetes'], message: 'kubernetes is for driver kubernetes' });
      if (b.autoscaling) ctx.addIssue({ code: 'custom', path: ['autoscaling'], message: 'autoscaling is for driver kubernetes (the local driver runs exactly replicas)' });
    }
    if (b.autoscaling && b.autoscaling.min > b.autoscaling.max) ctx.addIssue({ code: 'custom', path: ['autoscaling', 'min'], message: `autoscaling.min (${b.autoscaling.min}) must not exceed autoscaling.max (${b.autoscaling.max})` });
    if (b.driver === 'kubernetes' && b.resources.memory !== null && !QUANTITY_RE.test(b.resources.memory)) {
      ctx.addIssue({ code: 'custom', path: ['resources', 'memory'], message: `resources.memory ${JSON.stringify(b.resources.memory)} is not a Kubernetes quantity such as 16Gi or 512Mi` });
    }
    if (b.driver === 'external' && !b.endpoint) ctx.addIssue({ code: 'custom', path: ['endpoint'], message: 'driver external needs endpoint.url (and endpoint.apiKey if it asks for one)' });
    if (b.driver !== 'external' && b.endpoint) ctx.addIssue({ code: 'custom', path: ['endpoint'], message: 'endpoint is for driver external' });
  });
export type CreateDeploymentBody = z.output<typeof CreateDeploymentBody>;

export const ReplicaStatus = z
  .object({
    index: z.number().int(),
    state: ReplicaState,
    version: z.string().nullable().describe('the version this replica serves (during a rolling update, replicas of the old one remain until replaced)'),
    url: z.string().nullable(),
    pid: z.number().int().nullable(),
    restarts: z.number().int(),
    lastError: z.string().nullable(),
    since: Timestamp,
  })
  .strict();
export type ReplicaStatus = z.infer<typeof ReplicaStatus>;

export const DeploymentResponse = z
  .object({
    id: z.string(),
    model: z.object({ name: z.string(), version: z.string() }).strict(),
    environment: z.string(),
    runtime: Runtime,
    driver: Driver,
    replicas: z.number().int().describe('desired'),
    state: DeploymentState,
    error: z.string().nullable(),
    replicaStatus: z.array(ReplicaStatus),
    args: z.array(z.string()),
    endpoint: z
      .object({ url: z.string(), auth: z.boolean(), model: z.string().optional() })
      .strict()
      .nullable()
      .describe('driver external: where it serves, and the model name it expects (the key is never shown)'),
    pricing: Pricing.nullable().describe('USD per million tokens, as the gateway charges it (null: free)'),
    gpuHourUsd: z.number().nullable().describe('USD per GPU-hour (cost reports derive a per-token cost from it when pricing is null)'),
    envKeys: z.array(z.string()).describe('names of the environment variables set (values are not shown)'),
    kubernetes: z
      .object({ namespace: z.string(), flavour: K8sFlavour, name: z.string(), autoscaling: z.object({ min: z.number().int(), max: z.number().int() }).strict().nullable() })
      .strict()
      .nullable()
      .describe('driver kubernetes: where its objects are'),
    createdAt: Timestamp,
    createdBy: z.string(),
    updatedAt: Timestamp,
  })
  .strict();
export type DeploymentResponse = z.infer<typeof DeploymentResponse>;
export const DeploymentPage = page(DeploymentResponse);

/** `dryRun: true`: what would be deployed; nothing is recorded. */
export const DeploymentDryRun = z
  .object({
    dryRun: z.literal(true),
    spec: z.record(z.string(), z.unknown()).describe('the validated spec, defaults filled (endpoint keys and env values hidden)'),
    manifests: z.array(z.record(z.string(), z.unknown())).describe('driver kubernetes: the objects it would apply, in order; empty for other drivers'),
  })
  .strict();
export type DeploymentDryRun = z.infer<typeof DeploymentDryRun>;

export const DeploymentParams = z.object({ id: z.string().min(1).max(64) }).strict();
export const ListDeploymentsQuery = z
  .object({ model: z.string().max(200).optional(), environment: EnvironmentName.optional(), state: DeploymentState.optional(), limit: Limit, cursor: Cursor })
  .strict();
export const ScaleBody = z.object({ replicas: z.number().int().min(0).max(64) }).strict();
export const LogsQuery = z
  .object({ replica: z.coerce.number().int().min(0).max(63).default(0), tail: z.coerce.number().int().min(1).max(10_000).default(200) })
  .strict();
export const DeploymentLogs = z.object({ replica: z.number().int(), lines: z.array(z.string()) }).strict();

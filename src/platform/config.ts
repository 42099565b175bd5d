/**
 * Configuration: parsed once at boot from one zod schema, frozen, and passed down.
 * Nothing else in the code base reads `process.env`.
 *
 * Backends are discriminated unions (`{kind:'sqlite'} | {kind:'postgres'}`), derived from
 * STEWARD_DATABASE_URL / STEWARD_BLOB_URL, or from the data dir for the embedded default.
 */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

export const DatabaseConfig = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('sqlite'), path: z.string().min(1) }),
  z.object({
    kind: z.literal('postgres'),
    url: z.string().min(1),
    schema: z.string().optional(),
    /** Connections per server (STEWARD_DATABASE_POOL_SIZE); default `defaultPoolSize()`. */
    poolSize: z.number().int().min(1).max(1000).optional(),
  }),
]);
export type DatabaseConfig = z.infer<typeof DatabaseConfig>;

export const BlobConfig = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('fs'),
    root: z.string().min(1),
  }),
  z.object({
    kind: z.literal('s3'),
    bucket: z.string().min(1),
    prefix: z.string().default(''),
    endpoint: z.string().url().optional(),
    region: z.string().default('us-east-1'),
    /** Path-style addressing: what MinIO, s3rver and most self-hosted stores want. */
    forcePathStyle: z.boolean().default(true),
    accessKeyId: z.string().optional(),
    secretAccessKey: z.string().optional(),
  }),
]);
export type BlobConfig = z.infer<typeof BlobConfig>;

/**
 * Where signed audit checkpoints are written and read: an append-only file (JSON lines), or
 * objects in an S3-compatible bucket (one per checkpoint, never overwritten; a bucket with
 * object lock keeps them from being deleted). Reached with the same S3 settings as the blobs.
 */
export const CheckpointConfig = z.discriminatedUnion('kind', [z.object({ kind: z.literal('file'), path: z.string().min(1) }), BlobConfig.options[1]]);
export type CheckpointConfig = z.infer<typeof CheckpointConfig>;

export const ConfigSchema = z.object({
  dataDir: z.string().min(1),
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
  database: DatabaseConfig,
  blobs: BlobConfig,
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * What Steward writes under the data dir (database, WAL, blobs, upload sessions, tokens) is the
   * owner's only: directories 0700, files 0600. True (STEWARD_DATA_DIR_GROUP_ACCESS=true) lets
   * the group read it (0750 / 0640), e.g. for a backup job running as another user of that group.
   */
  dataDirGroupAccess: z.boolean().default(false),
  /** A pending version not finalised within a day is abandoned: long enough for a 100 GB upload on a slow link. */
  pendingTtlSeconds: z.number().int().positive().default(24 * 3600),
  /** Blobs younger than this are never collected, so an upload that has not been referenced yet survives GC. */
  gcGraceSeconds: z.number().int().nonnegative().default(3600),
  /** Metadata is descriptive; 1 MiB keeps version documents cheap to serve and diff. */
  maxMetadataBytes: z.number().int().positive().default(1024 * 1024),
  /** Upload sessions take chunks this large at most: bounds a request, not a blob. */
  maxChunkBytes: z.number().int().positive().default(1024 * 1024 * 1024),
  /** How often the background sweeper expires pending versions and stale upload sessions. */
  sweepIntervalSeconds: z.number().int().positive().default(300),
  /**
   * Failed authentications (a token presented and refused) allowed per client address per
   * minute: generous for a person mistyping, useless for guessing 256-bit secrets. Past it,
   * failures are 429; a valid token from the same address is still admitted.
   */
  authFailuresPerMinute: z.number().int().positive().default(20),
  /**
   * Requests logged at info: `failed-or-slow` (5xx, or slower than `slowRequestMs`; the rest at
   * debug, so a terminal running `steward up` stays readable) or `all` (STEWARD_LOG_REQUESTS).
   */
  logRequests: z.enum(['failed-or-slow', 'all']).default('failed-or-slow'),
  /** Registry reads answer in milliseconds: a request taking a second is worth a line (STEWARD_SLOW_REQUEST_MS). */
  slowRequestMs: z.number().int().nonnegative().default(1000),
  /** In-flight requests get this long to finish on SIGTERM before the process exits anyway. */
  shutdownGraceSeconds: z.number().int().nonnegative().default(30),
  /**
   * Prompt-injection check of render variables when the request names none: `warn` reports
   * findings without refusing, so a false positive never breaks an application by default.
   */
  promptSafety: z.enum(['off', 'warn', 'block']).default('warn'),
  /** Compiled prompt templates kept in memory (a few KB each); a miss recompiles in microseconds. */
  promptCacheEntries: z.number().int().positive().default(1024),
  /** Background jobs: how long a replica's claim on a job lasts without renewal (renewed every third of it); a job of a dead replica is taken over after it. */
  jobLeaseSeconds: z.number().positive().default(30),
  /**
   * How often a replica looks for jobs it was not told about: enqueued by another replica, a
   * retry or a `runAfter` coming due, a lease expired. A job enqueued here runs at once (poke);
   * two seconds bounds the wait for the rest at one cheap indexed query per job kind.
   */
  jobPollIntervalMs: z.number().int().positive().default(2000),
  /** Evaluation runs: the lease of an `eval.run` job and of its run (renewed with every results batch); a run of a dead replica is taken over after it. */
  evalLeaseSeconds: z.number().positive().default(30),
  /** First retry delay of a transient endpoint failure in evaluation runs; doubles per attempt (with jitter), capped at 8 s. */
  evalRetryBaseMs: z.number().int().nonnegative().default(250),
  /** Runs executing at once on this replica (the `eval.run` job kind's concurrency); further runs wait queued. */
  evalMaxActiveRuns: z.number().int().positive().default(4),
  /**
   * Hosts, `*.suffixes`, addresses or CIDRs that evaluation endpoints and judges may be
   * (STEWARD_EVAL_ENDPOINT_ALLOW, comma-separated). Empty: anything but link-local and
   * unspecified addresses (see platform/http/http-endpoint-policy.ts).
   */
  evalEndpointAllow: z.array(z.string().min(1)).default([]),
  /** Webhook URLs: the same rule as evaluation endpoints, with its own allow-list (STEWARD_WEBHOOK_ALLOW, comma-separated). */
  webhookAllow: z.array(z.string().min(1)).default([]),
  /** How long a webhook endpoint gets to answer one delivery attempt: a hung endpoint holds one delivery slot that long, never the event stream. */
  webhookTimeoutMs: z.number().int().positive().default(10_000),
  /** Attempts of one delivery before it is recorded as failed: with the backoff below, about half an hour of an endpoint being down. */
  webhookMaxAttempts: z.number().int().min(1).max(50).default(10),
  /** First retry delay of a failed delivery; doubles per attempt (with jitter), capped at 10 minutes. */
  webhookRetryBaseMs: z.number().int().nonnegative().default(2000),
  /**
   * How often a replica looks for events other replicas committed (subscribers, long polls).
   * Events of this replica are delivered at once; 200 ms bounds the delay across replicas for
   * one indexed `max(seq)` read per poll.
   */
  eventPollMs: z.number().int().positive().default(200),
  /** Deployments: how often every active deployment is reconciled (a `deployment.reconcile` job each: probes, restarts, scaling). */
  deploymentReconcileMs: z.number().int().positive().default(1000),
  /** First delay before restarting a crashed replica; doubles per restart, capped at a minute. */
  deploymentRestartBaseMs: z.number().int().nonnegative().default(1000),
  /** Restarts of a replica before it is failed (its last log lines in the deployment's error). */
  deploymentMaxRestarts: z.number().int().nonnegative().default(5),
  /** How long a stopped replica gets between SIGTERM and SIGKILL. */
  deploymentStopGraceMs: z.number().int().nonnegative().default(10_000),
  /** Several gateways share key limits and budgets through this Redis (STEWARD_GATEWAY_REDIS_URL); unset: each gateway holds them in memory. */
  gatewayRedisUrl: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL').optional(),
  /** Driver kubernetes: the kubeconfig file (STEWARD_KUBECONFIG); unset: the default loading (KUBECONFIG, ~/.kube/config, or in-cluster). */
  kubeconfig: z.string().min(1).optional(),
  /** Driver kubernetes: the image of the init container that runs `steward pull` (STEWARD_K8S_PULL_IMAGE): any image with this CLI on its PATH. */
  kubernetesPullImage: z.string().min(1).default('steward/steward:0.1.0'),
  /** Signed checkpoints of the audit chain's head (STEWARD_AUDIT_CHECKPOINT_URL, `file:PATH` or `s3://bucket/prefix`); default DATA/audit-checkpoints.jsonl. */
  auditCheckpoints: CheckpointConfig,
  /**
   * The ed25519 private key (PKCS#8 PEM) that signs checkpoints (STEWARD_AUDIT_CHECKPOINT_KEY_FILE).
   * Unset: DATA/audit-checkpoint.key, created (0600) on first start. Replicas that write to one
   * checkpoint location must be given the same key.
   */
  auditCheckpointKeyFile: z.string().min(1).optional(),
  /**
   * How often the head is checkpointed when it moved (and at a clean shutdown). A rewind of the
   * events after the last checkpoint is not detected, so this bounds what can be lost unnoticed;
   * a minute costs one small write per minute of activity.
   */
  auditCheckpointIntervalSeconds: z.number().int().positive().default(60),
  /** Monitoring: how often SLOs are evaluated (burn-rate alerts); the shortest alert window is 5 minutes. */
  monitoringEvaluateMs: z.number().int().positive().default(60_000),
  /** Monitoring: how often drift is checked per model and environment (PSI moves slowly; two sums per pair). */
  monitoringDriftMs: z.number().int().positive().default(15 * 60_000),
  /** Monitoring: how often minute rollups are folded into hours and old rows and raw usage pruned. */
  monitoringCompactMs: z.number().int().positive().default(3600_000),
  /** Minute rollups are kept this long, then folded into hour rows (a week of per-minute history; STEWARD_ROLLUP_MINUTE_RETENTION, e.g. 14d). */
  rollupMinuteRetentionSeconds: z.number().int().positive().default(7 * 86400),
  /** Hour rollups are kept this long (a quarter: the longest SLO window is 90 days; STEWARD_ROLLUP_HOUR_RETENTION). */
  rollupHourRetentionSeconds: z.number().int().positive().default(90 * 86400),
  /** Raw usage records (one row per request) are kept this long; the rollups keep their figures (STEWARD_USAGE_RETENTION). */
  usageRetentionSeconds: z.number().int().positive().default(7 * 86400),
  /** Drift: PSI at or above this warns (the usual reading of PSI: below 0.1 is stable). */
  driftWarnPsi: z.number().positive().default(0.1),
  /** Drift: PSI at or above this alerts (0.25: a significant shift in the usual reading). */
  driftAlertPsi: z.number().positive().default(0.25),
  /** Drift and live gates: fewer requests than this in a window is inconclusive (PSI and rates are noise below it). */
  monitoringMinRequests: z.number().int().positive().default(100),
});
export type Config = Readonly<z.infer<typeof ConfigSchema>>;

export interface ConfigInput {
  env: Record<string, string | undefined>;
  /** Command-line overrides (`--data`, `--port`, `--host`). */
  flags?: { dataDir?: string | undefined; port?: number | undefined; host?: string | undefined };
  /** Extra fields set by code (tests, benchmarks). */
  overrides?: Partial<z.input<typeof ConfigSchema>>;
}

/**
 * Connections per server to PostgreSQL by default: twice this host's cores, at least 4 (the
 * usual sizing, cores × 2 plus spindles). More connections than the database can run at once
 * only queue inside it: on 2 cores, registry searches at 16 concurrent requests had a p99 of
 * 29–31 ms with 16 connections and 21–22 ms with 4, at the same throughput.
 */
export function defaultPoolSize(): number {
  return Math.max(4, 2 * os.availableParallelism());
}

export function parseDatabaseUrl(url: string | undefined, dataDir: string, env: ConfigInput['env'] = {}): DatabaseConfig {
  if (!url) return { kind: 'sqlite', path: path.join(dataDir, 'steward.db') };
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const pool = env.STEWARD_DATABASE_POOL_SIZE;
    // Checked with the rest of the configuration (an error names database.poolSize).
    return { kind: 'postgres', url, ...(pool ? { poolSize: Number(pool) } : {}) };
  }
  if (url.startsWith('sqlite:')) return { kind: 'sqlite', path: url.slice('sqlite:'.length).replace(/^\/\//, '') };
  throw new Error(`STEWARD_DATABASE_URL must start with postgres://, postgresql:// or sqlite: (got ${JSON.stringify(url.split(':')[0])})`);
}

export function parseBlobUrl(url: string | undefined, dataDir: string, env: ConfigInput['env']): BlobConfig {
  if (!url) return { kind: 'fs', root: path.join(dataDir, 'blobs') };
  if (url.startsWith('file:')) return { kind: 'fs', root: url.slice('file:'.length).replace(/^\/\//, '') };
  if (url.startsWith('s3://')) {
    const rest = url.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    const prefix = slash === -1 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
    return BlobConfig.parse({
      kind: 's3',
      bucket,
      prefix,
      endpoint: env.STEWARD_S3_ENDPOINT || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined,
      region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
      forcePathStyle: env.STEWARD_S3_FORCE_PATH_STYLE !== 'false',
      accessKeyId: env.AWS_ACCESS_KEY_ID || undefined,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY || undefined,
    });
  }
  throw new Error(`STEWARD_BLOB_URL must start with s3:// or file: (got ${JSON.stringify(url.split(':')[0])})`);
}

export function parseCheckpointUrl(url: string | undefined, dataDir: string, env: ConfigInput['env']): CheckpointConfig {
  if (!url) return { kind: 'file', path: path.join(dataDir, 'audit-checkpoints.jsonl') };
  if (url.startsWith('file:')) return { kind: 'file', path: path.resolve(url.slice('file:'.length).replace(/^\/\//, '')) };
  const s3 = url.startsWith('s3://') ? parseBlobUrl(url, dataDir, env) : null;
  if (s3?.kind === 's3') return s3;
  throw new Error(`STEWARD_AUDIT_CHECKPOINT_URL must start with file: or s3:// (got ${JSON.stringify(url.split(':')[0])})`);
}

/** `7d`, `90d`, `36h` in seconds; the error names the variable. */
function parseDuration(name: string, v: string): number {
  const m = /^([1-9]\d{0,5})([smhdw])$/.exec(v.trim());
  if (!m) throw new Error(`${name} must be a duration such as 36h, 7d or 12w (got ${JSON.stringify(v)})`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as 's'];
}

function parseBool(name: string, v: string): boolean {
  if (/^(true|1|yes)$/i.test(v)) return true;
  if (/^(false|0|no)$/i.test(v)) return false;
  throw new Error(`${name} must be true or false (got ${JSON.stringify(v)})`);
}

export function loadConfig(input: ConfigInput): Config {
  const { env, flags = {}, overrides = {} } = input;
  const dataDir = path.resolve(flags.dataDir ?? env.STEWARD_DATA ?? overrides.dataDir ?? '.steward');
  const raw = {
    dataDir,
    host: flags.host ?? env.STEWARD_HOST ?? undefined,
    port: flags.port ?? (env.STEWARD_PORT ? Number(env.STEWARD_PORT) : undefined),
    database: parseDatabaseUrl(env.STEWARD_DATABASE_URL, dataDir, env),
    blobs: parseBlobUrl(env.STEWARD_BLOB_URL, dataDir, env),
    auditCheckpoints: parseCheckpointUrl(env.STEWARD_AUDIT_CHECKPOINT_URL, dataDir, env),
    auditCheckpointKeyFile: env.STEWARD_AUDIT_CHECKPOINT_KEY_FILE ? path.resolve(env.STEWARD_AUDIT_CHECKPOINT_KEY_FILE) : undefined,
    logLevel: env.STEWARD_LOG_LEVEL || undefined,
    logRequests: env.STEWARD_LOG_REQUESTS || undefined,
    slowRequestMs: env.STEWARD_SLOW_REQUEST_MS ? Number(env.STEWARD_SLOW_REQUEST_MS) : undefined,
    deploymentRestartBaseMs: env.STEWARD_DEPLOYMENT_RESTART_BASE_MS ? Number(env.STEWARD_DEPLOYMENT_RESTART_BASE_MS) : undefined,
    deploymentMaxRestarts: env.STEWARD_DEPLOYMENT_MAX_RESTARTS ? Number(env.STEWARD_DEPLOYMENT_MAX_RESTARTS) : undefined,
    kubeconfig: env.STEWARD_KUBECONFIG ? path.resolve(env.STEWARD_KUBECONFIG) : undefined,
    gatewayRedisUrl: env.STEWARD_GATEWAY_REDIS_URL || undefined,
    kubernetesPullImage: env.STEWARD_K8S_PULL_IMAGE || undefined,
    dataDirGroupAccess: env.STEWARD_DATA_DIR_GROUP_ACCESS ? parseBool('STEWARD_DATA_DIR_GROUP_ACCESS', env.STEWARD_DATA_DIR_GROUP_ACCESS) : undefined,
    promptSafety: env.STEWARD_PROMPT_SAFETY || undefined,
    rollupMinuteRetentionSeconds: env.STEWARD_ROLLUP_MINUTE_RETENTION ? parseDuration('STEWARD_ROLLUP_MINUTE_RETENTION', env.STEWARD_ROLLUP_MINUTE_RETENTION) : undefined,
    rollupHourRetentionSeconds: env.STEWARD_ROLLUP_HOUR_RETENTION ? parseDuration('STEWARD_ROLLUP_HOUR_RETENTION', env.STEWARD_ROLLUP_HOUR_RETENTION) : undefined,
    usageRetentionSeconds: env.STEWARD_USAGE_RETENTION ? parseDuration('STEWARD_USAGE_RETENTION', env.STEWARD_USAGE_RETENTION) : undefined,
    evalEndpointAllow: env.STEWARD_EVAL_ENDPOINT_ALLOW ? env.STEWARD_EVAL_ENDPOINT_ALLOW.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
    webhookAllow: env.STEWARD_WEBHOOK_ALLOW ? env.STEWARD_WEBHOOK_ALLOW.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
    ...overrides,
  };
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join('\n')}`);
  }
  return Object.freeze(parsed.data);
}

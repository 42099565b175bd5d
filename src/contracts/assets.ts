/**
 * Contracts of the assets feature: registered models (and datasets and prompts, which share
 * the same version model), versions, manifests, aliases, search and comparison.
 * Domain rules (names, versions, file paths) are written here once and used by the API, the
 * CLI and the web UI.
 */
import { z } from 'zod';
import { Cursor, LabelSelector, Labels, Limit, Timestamp, page } from './common.js';
import { ASSET_KINDS, filePathProblem, NAME_RE, parseSemver } from './asset-names.js';

export { ASSET_COLLECTION, ASSET_KINDS, filePathProblem, normalizeFilePath, namespaceGranted, namespaceOf, namespaceOfRef, parseAssetRef, parseSemver, type AssetRef, type ParsedVersion } from './asset-names.js';
export const AssetKind = z.enum(ASSET_KINDS);
export type AssetKind = z.infer<typeof AssetKind>;

export const AssetName = z
  .string()
  .min(1, 'name must not be empty')
  .max(128, 'name must be at most 128 characters')
  .regex(NAME_RE, 'name must be "name" or "namespace/name": letters, digits, ".", "_" and "-", each part starting with a letter or digit')
  .refine((n) => !n.includes('..'), 'name must not contain ".."')
  .describe('"name" or "namespace/name", e.g. meta-llama/Llama-3.1-8B-Instruct');

export const SemVer = z
  .string()
  .transform((v, ctx) => {
    const p = parseSemver(v);
    if (!p) {
      ctx.addIssue({ code: 'custom', message: `version ${JSON.stringify(v)} is not a semantic version like 1.2.0 (a leading "v" is accepted)` });
      return z.NEVER;
    }
    return p.text;
  })
  .describe('semantic version, e.g. 1.2.0; "v1.2.0" is accepted and stored as 1.2.0');

export const AliasName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,62}$/, 'alias must start with a lowercase letter and hold only lowercase letters, digits, "_" and "-" (at most 63)')
  .describe('movable name for a version, e.g. champion');

/** A version or an alias. */
export const VersionRef = z.string().min(1).max(64);

export const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lowercase hex characters');

/** A manifest path: stored in NFC (the digest covers what is stored), refused when unsafe. */
export const FilePath = z.string().normalize('NFC').superRefine((p, ctx) => {
  const problem = filePathProblem(p);
  if (problem) ctx.addIssue({ code: 'custom', message: `file path ${JSON.stringify(p.slice(0, 200))} ${problem}` });
});

export const ManifestFile = z.object({ path: FilePath, size: z.number().int().nonnegative(), sha256: Sha256 }).strict();
export type ManifestFile = z.infer<typeof ManifestFile>;

export const Manifest = z
  .array(ManifestFile)
  .max(1_000_000)
  .superRefine((files, ctx) => {
    const seen = new Set<string>();
    for (const [i, f] of files.entries()) {
      if (seen.has(f.path)) ctx.addIssue({ code: 'custom', path: [i, 'path'], message: `file path ${JSON.stringify(f.path)} appears twice (paths are compared in Unicode NFC)` });
      seen.add(f.path);
    }
  });

/**
 * Typed model metadata (every field optional) plus free-form extra properties.
 * Field names follow the seed's ModelMetadata so tooling written against it carries over.
 */
export const ModelMetadata = z.looseObject({
  architecture: z.string().max(128).optional(),
  framework: z.string().max(64).optional(),
  parameters: z.number().nonnegative().optional().describe('parameter count, e.g. 8030000000'),
  precision: z.string().max(32).optional().describe('fp32, bf16, fp16, int8, q4_k_m, …'),
  memory_gb: z.number().nonnegative().optional(),
  gpu_memory_gb: z.number().nonnegative().optional(),
  min_gpu_count: z.number().int().nonnegative().optional(),
  recommended_gpu_type: z.string().max(64).optional(),
  max_sequence_length: z.number().int().positive().optional(),
  throughput_tokens_per_second: z.number().nonnegative().optional(),
  latency_p95_ms: z.number().nonnegative().optional(),
  accuracy_score: z.number().min(0).max(1).optional(),
  benchmark_results: z.record(z.string(), z.number()).optional(),
  training_dataset: z.string().max(256).optional(),
  parent_model: z.string().max(256).optional(),
  default_batch_size: z.number().int().positive().optional(),
  recommended_replicas: z.number().int().positive().optional(),
});
export type ModelMetadata = z.infer<typeof ModelMetadata>;

/** `NAME:VERSION` reference to a version of another (or the same) asset. */
export const VersionPointer = z
  .string()
  .max(200)
  .regex(/^[^:\s]+:[^:\s]+$/, 'must look like NAME:VERSION');

export const LineageInput = z
  .object({
    parent: VersionPointer.optional().describe('NAME:VERSION of the model version this one derives from'),
    baseModel: z.string().max(256).optional().describe('base model: NAME:VERSION in this registry, or an external id'),
    datasets: z.array(VersionPointer).max(100).optional().describe('dataset versions (NAME:VERSION) used to train or tune it'),
  })
  .strict();

/**
 * A reference to a registry asset in a namespace the caller's token cannot read keeps its place
 * in a document (a lineage edge or node, an evaluation, gate evidence) but names nothing: its
 * identifying fields (name, version, ref, run, suite) are null and `hidden` is true.
 */
export const Hidden = z.boolean().optional().describe('true: the asset is in a namespace this token cannot read, so it is not named');

export const LineageEdge = z
  .object({
    relation: z.enum(['parent', 'base_model', 'dataset']),
    kind: AssetKind.nullable(),
    name: z.string().nullable(),
    version: z.string().nullable(),
    ref: z.string().nullable().describe('NAME:VERSION in this registry, or an external base model id; null when hidden'),
    hidden: Hidden,
  })
  .strict();

export const VersionState = z.enum(['pending', 'ready', 'deprecated', 'archived']);
export type VersionState = z.infer<typeof VersionState>;

export const CreateAssetBody = z
  .object({
    name: AssetName,
    description: z.string().max(10_000).optional(),
    owner: z.string().max(128).optional(),
    labels: Labels.optional(),
  })
  .strict();

/** What a push may say about the asset it registers (`CreateVersionBody.asset`). */
export const AssetFields = z
  .object({ description: z.string().max(10_000).optional(), owner: z.string().max(128).optional(), labels: Labels.optional() })
  .strict();

/** The retention policy: how many archived versions (the most recently archived) keep their files; null keeps every one's. */
export const KeepArchivedFiles = z
  .number()
  .int()
  .min(0)
  .max(1_000_000)
  .nullable()
  .describe('keep the files of the N most recently archived versions; the files of older archived versions are released (GC reclaims blobs no other version lists); null keeps all');

export const UpdateAssetBody = AssetFields.extend({ keepArchivedFiles: KeepArchivedFiles.optional() }).strict();

export const AssetResponse = z
  .object({
    kind: AssetKind,
    name: z.string(),
    namespace: z.string().nullable(),
    description: z.string(),
    owner: z.string().nullable(),
    labels: z.record(z.string(), z.string()),
    versionCount: z.number().int(),
    latestVersion: z.string().nullable(),
    keepArchivedFiles: z.number().int().nullable().describe('the retention policy (see UpdateAssetBody); null keeps the files of every archived version'),
    createdAt: Timestamp,
    createdBy: z.string().nullable(),
    updatedAt: Timestamp,
  })
  .strict();
export type AssetResponse = z.infer<typeof AssetResponse>;

export const CreateVersionBody = z
  .object({
    version: SemVer,
    files: Manifest,
    metadata: ModelMetadata.optional(),
    labels: Labels.optional(),
    card: z.string().max(1024 * 1024).optional().describe('markdown model card'),
    lineage: LineageInput.optional(),
    asset: AssetFields.optional().describe(
      'registers the asset in the same transaction when it does not exist yet (what `steward push` does), so a refused version leaves no empty asset behind; ignored when it exists',
    ),
  })
  .strict();
export type CreateVersionBody = z.input<typeof CreateVersionBody>;

export const VersionResponse = z
  .object({
    kind: AssetKind,
    name: z.string(),
    version: z.string(),
    state: VersionState,
    digest: z.string().describe('sha256 of the canonical manifest: the version identity'),
    size: z.number().int(),
    fileCount: z.number().int(),
    files: z.array(ManifestFile).optional(),
    metadata: z.record(z.string(), z.unknown()),
    labels: z.record(z.string(), z.string()),
    card: z.string().nullable(),
    lineage: z.array(LineageEdge),
    aliases: z.array(z.string()),
    createdAt: Timestamp,
    createdBy: z.string().nullable(),
    readyAt: Timestamp.nullable(),
    expiresAt: Timestamp.nullable(),
    archivedAt: Timestamp.nullable(),
    filesReleasedAt: Timestamp.nullable().describe('when the retention policy released the files of this archived version: the manifest stays, downloads are refused, GC reclaims blobs no other version lists'),
    updatedAt: Timestamp,
  })
  .strict();
export type VersionResponse = z.infer<typeof VersionResponse>;
/*
 * The document of one version (GET …/versions/{v}) also carries what other features contribute
 * to it under their own keys (evaluations of a model version): their contracts own those shapes.
 */

export const CreateVersionResponse = VersionResponse.extend({
  missing: z.array(Sha256).describe('blobs the server lacks: upload each, then finalize'),
}).strict();
export type CreateVersionResponse = z.infer<typeof CreateVersionResponse>;

/** A version has no description of its own (its asset has one): unknown fields are refused, not dropped. */
export const UpdateVersionBody = z.strictObject(
  {
    state: z.enum(['ready', 'deprecated', 'archived']).optional(),
    labels: Labels.optional(),
  },
  {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `unknown field(s) ${iss.keys.join(', ')}: a version takes only state and labels (a description belongs to the asset: PATCH it instead)`
        : undefined,
  },
);

export const DeletedVersion = z.object({ version: z.string(), state: VersionState, digest: z.string(), size: z.number().int() }).strict();
export const DeleteResponse = z
  .object({
    kind: AssetKind,
    name: z.string(),
    versions: z.array(DeletedVersion).describe('the versions deleted'),
    assetDeleted: z.boolean().describe('the asset itself is gone: a whole-asset delete, or the last version of an asset a push registered and never finished'),
    removed: z.record(z.string(), z.number().int()).describe('what other features kept about these versions and deleted with them, by key (evaluations: runs)'),
  })
  .strict();
export type DeleteResponse = z.infer<typeof DeleteResponse>;

export const ListAssetsQuery = z
  .object({
    q: z.string().max(128).optional().describe('name substring, case-insensitive'),
    namespace: z.string().max(64).optional(),
    label: LabelSelector.describe('label filter key=value, repeatable'),
    sort: z.enum(['name', 'created', 'updated']).default('name'),
    order: z.enum(['asc', 'desc']).optional(),
    limit: Limit,
    cursor: Cursor,
  })
  .strict();

export const ListVersionsQuery = z
  .object({
    q: z.string().max(128).optional().describe('asset name substring (with name "-": across all)'),
    state: z.union([VersionState, z.array(VersionState)]).optional(),
    label: LabelSelector,
    architecture: z.string().max(128).optional(),
    framework: z.string().max(64).optional(),
    minAccuracy: z.coerce.number().optional(),
    maxAccuracy: z.coerce.number().optional(),
    minParameters: z.coerce.number().optional(),
    maxParameters: z.coerce.number().optional(),
    sort: z.enum(['version', 'created', 'accuracy', 'parameters']).default('created'),
    order: z.enum(['asc', 'desc']).default('desc'),
    limit: Limit,
    cursor: Cursor,
  })
  .strict();
export type ListVersionsQuery = z.input<typeof ListVersionsQuery>;

export const AssetPage = page(AssetResponse);
export const VersionPage = page(VersionResponse);

export const SetAliasBody = z.object({ version: SemVer }).strict();
export const AliasResponse = z
  .object({ name: z.string(), alias: z.string(), version: z.string(), updatedAt: Timestamp, updatedBy: z.string().nullable() })
  .strict();
export type AliasResponse = z.infer<typeof AliasResponse>;
export const AliasEvent = z
  .object({
    alias: z.string(),
    version: z.string().nullable(),
    previousVersion: z.string().nullable(),
    at: Timestamp,
    actor: z.string().nullable(),
  })
  .strict();
export const AliasList = z.object({ items: z.array(AliasResponse) }).strict();
export const AliasHistory = z.object({ items: z.array(AliasEvent) }).strict();

export const CompareQuery = z.object({ other: z.string().min(1).describe('NAME:REF or REF of the same asset') }).strict();
export const FileChange = z
  .object({ path: z.string(), change: z.enum(['added', 'removed', 'changed']), before: ManifestFile.nullable(), after: ManifestFile.nullable() })
  .strict();
export const MetadataChange = z
  .object({ key: z.string(), change: z.enum(['added', 'removed', 'changed']), before: z.unknown(), after: z.unknown() })
  .strict();
export const MetricDelta = z
  .object({ metric: z.string(), before: z.number().nullable(), after: z.number().nullable(), delta: z.number().nullable() })
  .strict();
export const CompareResponse = z
  .object({
    a: z.object({ name: z.string(), version: z.string(), digest: z.string() }).strict(),
    b: z.object({ name: z.string(), version: z.string(), digest: z.string() }).strict(),
    sameContent: z.boolean(),
    files: z.array(FileChange),
    unchangedFiles: z.number().int(),
    metadata: z.array(MetadataChange),
    labels: z.array(MetadataChange),
    metrics: z.array(MetricDelta),
  })
  .strict();
export type CompareResponse = z.infer<typeof CompareResponse>;

export const LineageQuery = z
  .object({
    direction: z.enum(['upstream', 'downstream', 'both']).default('both'),
    depth: z.coerce.number().int().min(1).max(50).default(10),
  })
  .strict();
export const LineageNode = z
  .object({
    id: z.string().describe('kind:name@version, external:<ref> for a base model outside the registry, or hidden:<n>'),
    kind: AssetKind.nullable(),
    name: z.string().nullable().describe('null when hidden'),
    version: z.string().nullable(),
    state: VersionState.nullable(),
    depth: z.number().int().describe('hops from the root; negative upstream, positive downstream'),
    hidden: Hidden,
  })
  .strict();
export const LineageGraph = z
  .object({
    root: z.string(),
    nodes: z.array(LineageNode),
    edges: z
      .array(z.object({ from: z.string().describe('the derived version'), to: z.string().describe('what it derives from'), relation: z.enum(['parent', 'base_model', 'dataset']) }).strict())
      .describe('from derives from to'),
    truncated: z.boolean().describe('true when the depth limit cut the walk'),
  })
  .strict();
export type LineageGraph = z.infer<typeof LineageGraph>;

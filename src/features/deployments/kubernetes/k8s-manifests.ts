/**
 * The Kubernetes objects of a deployment, rendered by pure functions from its spec, the version
 * it serves and its environment's policy. Three flavours (`spec.kubernetes.flavour`):
 *
 * - `deployment`: apps/v1 Deployment + v1 Service + autoscaling/v2 HorizontalPodAutoscaler (only
 *   when the autoscaling bounds differ);
 * - `kserve`: a serving.kserve.io/v1beta1 InferenceService (KServe's Hugging Face runtime for
 *   vLLM/TGI, its PyTorch runtime for TorchServe, a custom predictor container otherwise);
 * - `inference-pool`: the `deployment` objects + an inference.networking.k8s.io/v1 InferencePool
 *   (Gateway API Inference Extension) selecting the model server pods, its endpoint picker
 *   expected as the Service `<name>-epp` (installed with the extension's chart).
 *
 * Object names derive from model and environment, not version, so a new version rolls the same
 * objects. The model files come from the registry through an init container running
 * `steward pull` into an emptyDir, or, for KServe with an S3 blob store and a one-file version,
 * as the blob's `s3://` storage URI (blobs are content-addressed: only a single file keeps a usable
 * name at its URI).
 */
import { createHash } from 'node:crypto';
import type { CreateDeploymentBody, K8sFlavour } from '../../../contracts/deployments.js';
import type { RuntimeAdapter } from '../runtimes/runtime.js';
import { fill } from '../runtimes/runtime.js';

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string> } } & Record<string, unknown>;

export interface RenderInput {
  /** The deployment's id (`dep_…`), or `dry-run` before one exists. */
  id: string;
  spec: Omit<CreateDeploymentBody, 'dryRun'> & { replicas: number };
  environment: string;
  version: { name: string; version: string; digest: string; files: readonly { path: string; size: number; sha256: string }[] };
  nodeSelector: Readonly<Record<string, string>>;
  adapter: RuntimeAdapter;
  /** The blob store, when it is S3 (for storage URIs). */
  s3: { bucket: string; prefix: string } | null;
  /** The image of the init container that runs `steward pull`. */
  pullImage: string;
}

export interface Rendered {
  name: string;
  namespace: string;
  flavour: K8sFlavour;
  objects: K8sObject[];
  /** sha256 of the objects: applied again only when it changes (or an object is missing). */
  hash: string;
  /** The object whose status tells readiness. */
  primary: { apiVersion: string; kind: string };
  /** Where the replicas answer inside the cluster. */
  url: string;
  autoscaling: { min: number; max: number };
}

export const PORT = 8000;
const MODELS = '/models';
const KSERVE_MODELS = '/mnt/models';
export const DEFAULT_REGISTRY_SECRET = 'steward-registry';
export const HASH_ANNOTATION = 'steward.dev/manifest-hash';
const MAX_NAME = 40;

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * A DNS-1035 label from model and environment: lower case, `[a-z0-9-]`, starting with a letter,
 * at most 40 characters (KServe derives longer names from it) — cut with a hash suffix beyond.
 */
export function objectName(model: string, environment: string): string {
  const full = `${model}-${environment}`;
  let n = full.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(n)) n = `m-${n}`;
  if (n.length <= MAX_NAME && n === full) return n;
  // Changed or cut: a hash of the original keeps distinct inputs apart (acme/bot and acme-bot).
  return `${n.slice(0, MAX_NAME - 9).replace(/-+$/, '')}-${sha(full).slice(0, 8)}`;
}

/** A label value: at most 63 of `[A-Za-z0-9-_.]`, alphanumeric at both ends. */
export function labelValue(s: string): string {
  const v = s.replace(/[^A-Za-z0-9._-]+/g, '.').slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return v;
}

/** Canonical JSON (sorted keys): the hash does not depend on property order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** KServe model formats served by its own runtimes. */
function kserveFormat(runtime: string): string | null {
  if (runtime === 'vllm' || runtime === 'tgi') return 'huggingface';
  if (runtime === 'torchserve') return 'pytorch';
  return null;
}

export function render(input: RenderInput): Rendered {
  const { spec, version: v, adapter: a } = input;
  const k8s = spec.kubernetes ?? { namespace: 'default', flavour: 'deployment' as const };
  const namespace = k8s.namespace;
  const flavour = k8s.flavour;
  const name = objectName(v.name, input.environment);
  const autoscaling = spec.autoscaling ?? { min: spec.replicas, max: spec.replicas };
  const image = k8s.image ?? a.container.image;
  if (!image) throw new Error(`runtime ${a.name} has no container image: give one with kubernetes.image (--image)`);

  const selector = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/managed-by': 'steward' };
  const labels = {
    ...selector,
    'app.kubernetes.io/instance': name,
    'steward.dev/deployment': labelValue(input.id),
    'steward.dev/model': labelValue(v.name),
    'steward.dev/environment': labelValue(input.environment),
    'steward.dev/version': labelValue(v.version),
  };
  const annotations = { 'steward.dev/model': v.name, 'steward.dev/version': v.version, 'steward.dev/digest': v.digest, 'steward.dev/runtime': a.name };
  const meta = (n: string) => ({ name: n, namespace, labels: { ...labels }, annotations: { ...annotations } });

  const storageUri = flavour === 'kserve' && input.s3 && v.files.length === 1 ? s3Uri(input.s3, v.files[0]!.sha256) : null;
  const modelDir = flavour === 'kserve' ? KSERVE_MODELS : MODELS;
  const secret = k8s.registrySecret ?? DEFAULT_REGISTRY_SECRET;
  const initContainers = storageUri
    ? []
    : [
        {
          name: 'pull-model',
          image: input.pullImage,
          command: ['steward', 'pull', `${v.name}:${v.version}`, '-o', modelDir, '--no-progress'],
          env: [
            { name: 'STEWARD_URL', valueFrom: { secretKeyRef: { name: secret, key: 'url' } } },
            { name: 'STEWARD_TOKEN', valueFrom: { secretKeyRef: { name: secret, key: 'token' } } },
          ],
          volumeMounts: [{ name: 'models', mountPath: modelDir }],
        },
      ];
  const volumes = storageUri ? [] : [{ name: 'models', emptyDir: {} }];

  // The adapter's own command line, for a container: every interface, the one port, the files at modelDir.
  const ctx = { host: '0.0.0.0', port: PORT, modelDir, files: v.files.map((f) => f.path), model: v.name };
  const cmd = a.command({ ...ctx, args: spec.args.map((x) => fill(x, ctx)) });
  const period = Math.max(1, Math.ceil(spec.health.intervalMs / 1000));
  const probe = (path: string) => ({
    httpGet: { path, port: 'http' },
    periodSeconds: period,
    timeoutSeconds: Math.max(1, Math.ceil(spec.health.timeoutMs / 1000)),
    failureThreshold: spec.health.failureThreshold,
  });
  const limits: Record<string, string> = {};
  const requests: Record<string, string> = {};
  if (spec.resources.gpus > 0) limits['nvidia.com/gpu'] = String(spec.resources.gpus);
  if (spec.resources.memory) limits.memory = requests.memory = spec.resources.memory;
  const nodeSelector: Record<string, string> = { ...input.nodeSelector };
  if (spec.resources.gpuType) nodeSelector['nvidia.com/gpu.product'] = labelValue(spec.resources.gpuType);
  const env = [...Object.entries({ ...spec.env, ...cmd.env }).map(([k, val]) => ({ name: k, value: val }))];

  const server: Record<string, unknown> = {
    name: 'server',
    image,
    // builtin and openai-compatible with an image of the user's: the image's own entrypoint, args as given.
    ...(a.name === 'builtin' ? {} : { command: [a.container.executable ?? cmd.cmd] }),
    args: a.name === 'builtin' ? spec.args.map((x) => fill(x, ctx)) : cmd.args,
    ports: [{ name: 'http', containerPort: PORT, protocol: 'TCP' }],
    env,
    resources: { ...(Object.keys(limits).length ? { limits } : {}), ...(Object.keys(requests).length ? { requests } : {}) },
    readinessProbe: probe(spec.readinessPath ?? a.readinessPath),
    livenessProbe: probe(a.livenessPath),
    // Loading weights takes minutes: liveness waits for the start, up to health.startTimeoutMs.
    startupProbe: { ...probe(spec.readinessPath ?? a.readinessPath), failureThreshold: Math.max(1, Math.ceil(spec.health.startTimeoutMs / 1000 / period)) },
    volumeMounts: storageUri ? [] : [{ name: 'models', mountPath: modelDir, readOnly: true }],
  };
  const podSpec = {
    ...(k8s.serviceAccount ? { serviceAccountName: k8s.serviceAccount } : {}),
    ...(Object.keys(nodeSelector).length ? { nodeSelector } : {}),
    ...(spec.resources.gpus > 0 ? { tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] } : {}),
    initContainers,
    containers: [server],
    volumes,
  };

  const objects: K8sObject[] = [];
  let primary: Rendered['primary'];
  let url: string;
  if (flavour === 'kserve') {
    const format = kserveFormat(a.name);
    const predictor: Record<string, unknown> = {
      minReplicas: autoscaling.min,
      maxReplicas: autoscaling.max,
      ...(k8s.serviceAccount ? { serviceAccountName: k8s.serviceAccount } : {}),
      ...(Object.keys(nodeSelector).length ? { nodeSelector } : {}),
      ...(spec.resources.gpus > 0 ? { tolerations: podSpec.tolerations } : {}),
      ...(initContainers.length ? { initContainers, volumes } : {}),
    };
    if (format) {
      // KServe's serving runtime for the format starts the server; it reads the files at /mnt/models.
      predictor.model = {
        modelFormat: { name: format },
        ...(storageUri ? { storageUri } : {}),
        ...(a.name === 'vllm' || a.name === 'tgi' ? { args: [`--model_name=${v.name}`, `--model_dir=${KSERVE_MODELS}`, ...spec.args.map((x) => fill(x, ctx))] } : {}),
        env,
        resources: server.resources,
        ...(k8s.image ? { image: k8s.image } : {}),
        ...(storageUri ? {} : { volumeMounts: server.volumeMounts }),
      };
    } else {
      predictor.containers = [{ ...server, name: 'kserve-container', ...(storageUri ? { env: [...env, { name: 'STORAGE_URI', value: storageUri }] } : {}) }];
    }
    objects.push({ apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: meta(name), spec: { predictor } });
    primary = { apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService' };
    url = `http://${name}-predictor.${namespace}.svc.cluster.local`;
  } else {
    const hpa = autoscaling.min !== autoscaling.max;
    objects.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(name),
      spec: {
        // With an autoscaler the replica count is its own: not applied, or every apply would reset it.
        ...(hpa ? {} : { replicas: spec.replicas }),
        selector: { matchLabels: selector },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: { metadata: { labels: { ...labels }, annotations: { ...annotations } }, spec: podSpec },
      },
    });
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(name),
      spec: { type: 'ClusterIP', selector, ports: [{ name: 'http', port: PORT, targetPort: 'http', protocol: 'TCP' }] },
    });
    if (hpa) {
      objects.push({
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: meta(name),
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
          minReplicas: Math.max(1, autoscaling.min),
          maxReplicas: autoscaling.max,
          metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
        },
      });
    }
    if (flavour === 'inference-pool') {
      objects.push({
        apiVersion: 'inference.networking.k8s.io/v1',
        kind: 'InferencePool',
        metadata: meta(name),
        spec: {
          selector: { matchLabels: selector },
          targetPorts: [{ number: PORT }],
          endpointPickerRef: { name: `${name}-epp`, port: { number: 9002 }, failureMode: 'FailClose' },
        },
      });
    }
    primary = { apiVersion: 'apps/v1', kind: 'Deployment' };
    url = `http://${name}.${namespace}.svc.cluster.local:${PORT}`;
  }
  const hash = sha(canonical(objects));
  for (const o of objects) o.metadata.annotations[HASH_ANNOTATION] = hash;
  return { name, namespace, flavour, objects, hash, primary, url, autoscaling };
}

function s3Uri(s3: { bucket: string; prefix: string }, sha256: string): string {
  const prefix = s3.prefix.replace(/^\/+|\/+$/g, '');
  return `s3://${s3.bucket}/${prefix ? `${prefix}/` : ''}blobs/sha256/${sha256.slice(0, 2)}/${sha256}`;
}

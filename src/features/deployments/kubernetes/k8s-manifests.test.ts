/**
 * The rendered manifests, validated against the real schemas: kubernetes-models (the Kubernetes
 * OpenAPI schemas) for core objects, the projects' own CRD schemas (test/fixtures/k8s) for
 * KServe's InferenceService and the Inference Extension's InferencePool.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { CreateDeploymentBody, type CreateDeploymentBody as Body } from '../../../contracts/deployments.js';
import { RUNTIME_ADAPTERS } from '../runtimes/index.js';
import { objectName, render, type K8sObject, type RenderInput } from './k8s-manifests.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../../test/fixtures/k8s');

/** Objects that list their properties are closed, as the API server's pruning would drop the rest. */
function close(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(close);
  if (!s || typeof s !== 'object') return s;
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) o[k] = close(v);
  if (o.properties && o.additionalProperties === undefined && !o['x-kubernetes-preserve-unknown-fields']) o.additionalProperties = false;
  return o;
}
function crdValidator(file: string): ValidateFunction {
  const doc = JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8')) as { openAPIV3Schema: unknown };
  const ajv = new Ajv({ strict: false, allErrors: true, formats: { int32: true, int64: true, 'date-time': true, byte: true, double: true, float: true } });
  return ajv.compile(close(doc.openAPIV3Schema) as object);
}
const validateIsvc = crdValidator('kserve-inferenceservice-v1beta1.schema.json');
const validatePool = crdValidator('inferencepool-v1.schema.json');

/** Each object against its schema; throws with the errors. */
function validate(o: K8sObject): void {
  const what = `${o.kind} ${o.metadata.name}`;
  const check = (v: ValidateFunction) => {
    if (!v(o)) throw new Error(`${what} is invalid: ${JSON.stringify(v.errors, null, 1)}`);
  };
  if (o.kind === 'Deployment') new Deployment(o as never).validate();
  else if (o.kind === 'Service') new Service(o as never).validate();
  else if (o.kind === 'HorizontalPodAutoscaler') new HorizontalPodAutoscaler(o as never).validate();
  else if (o.kind === 'InferenceService') check(validateIsvc);
  else if (o.kind === 'InferencePool') check(validatePool);
  else throw new Error(`no schema for ${o.kind}`);
}

const FILES = [
  { path: 'config.json', size: 10, sha256: 'a'.repeat(64) },
  { path: 'model.safetensors', size: 1000, sha256: 'b'.repeat(64) },
];
function input(body: Partial<Body> & Record<string, unknown>, over: Partial<RenderInput> = {}): RenderInput {
  const spec = CreateDeploymentBody.parse({ model: 'acme/bot:1.0.0', environment: 'production', runtime: 'vllm', driver: 'kubernetes', ...body });
  return {
    id: 'dep_abc',
    spec: { ...spec, replicas: spec.replicas ?? 2 },
    environment: 'production',
    version: { name: 'acme/bot', version: '1.0.0', digest: `sha256:${'c'.repeat(64)}`, files: FILES },
    nodeSelector: {},
    adapter: RUNTIME_ADAPTERS[spec.runtime]!,
    s3: null,
    pullImage: 'steward/steward:0.1.0',
    ...over,
  };
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- deep reads of rendered objects
const byKind = (objs: K8sObject[], kind: string) => objs.find((o) => o.kind === kind) as K8sObject & { spec: Record<string, any> };

describe('kubernetes manifests', () => {
  it('deployment flavour: Deployment + Service, schema-valid, files pulled by an init container with the registry secret', () => {
    const r = render(input({ replicas: 2 }));
    expect(r.objects.map((o) => o.kind)).toEqual(['Deployment', 'Service']);
    for (const o of r.objects) validate(o);
    const dep = byKind(r.objects, 'Deployment');
    expect(dep.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'steward', 'steward.dev/deployment': 'dep_abc', 'steward.dev/model': 'acme.bot', 'steward.dev/version': '1.0.0' });
    expect(dep.spec.replicas).toBe(2);
    const pod = dep.spec.template.spec;
    expect(pod.initContainers[0].command).toEqual(['steward', 'pull', 'acme/bot:1.0.0', '-o', '/models', '--no-progress']);
    expect(pod.initContainers[0].env).toEqual([
      { name: 'STEWARD_URL', valueFrom: { secretKeyRef: { name: 'steward-registry', key: 'url' } } },
      { name: 'STEWARD_TOKEN', valueFrom: { secretKeyRef: { name: 'steward-registry', key: 'token' } } },
    ]);
    expect(pod.volumes).toEqual([{ name: 'models', emptyDir: {} }]);
    const c = pod.containers[0];
    expect(c.image).toBe('vllm/vllm-openai:v0.11.0');
    expect(c.command).toEqual(['vllm']);
    expect(c.args).toEqual(['serve', '/models', '--host', '0.0.0.0', '--port', '8000', '--served-model-name', 'acme/bot']);
    expect(c.readinessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(c.volumeMounts).toEqual([{ name: 'models', mountPath: '/models', readOnly: true }]);
    expect(byKind(r.objects, 'Service').spec.selector).toEqual(dep.spec.selector.matchLabels);
    expect(r.url).toBe(`http://${r.name}.default.svc.cluster.local:8000`);
  });

  it('GPUs, memory, GPU type and the environment node selector; autoscaling bounds give an HPA without a fixed replica count', () => {
    const r = render(
      input({ resources: { gpus: 2, gpuType: 'NVIDIA-A100-SXM4-80GB', memory: '64Gi' }, autoscaling: { min: 1, max: 4 }, kubernetes: { namespace: 'llm', flavour: 'deployment', registrySecret: 'reg', serviceAccount: 'llm-sa' } } as never, {
        nodeSelector: { pool: 'gpu' },
      }),
    );
    for (const o of r.objects) validate(o);
    const dep = byKind(r.objects, 'Deployment');
    expect(dep.spec.replicas).toBeUndefined();
    const pod = dep.spec.template.spec;
    expect(pod.nodeSelector).toEqual({ pool: 'gpu', 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB' });
    expect(pod.serviceAccountName).toBe('llm-sa');
    expect(pod.containers[0].resources).toEqual({ limits: { 'nvidia.com/gpu': '2', memory: '64Gi' }, requests: { memory: '64Gi' } });
    expect(pod.initContainers[0].env[0].valueFrom.secretKeyRef.name).toBe('reg');
    const hpa = byKind(r.objects, 'HorizontalPodAutoscaler');
    expect(hpa.spec).toMatchObject({ minReplicas: 1, maxReplicas: 4, scaleTargetRef: { kind: 'Deployment', name: r.name } });
    expect(r.objects.every((o) => o.metadata.namespace === 'llm')).toBe(true);
  });

  it('kserve flavour: an InferenceService on the Hugging Face runtime, valid against the KServe CRD', () => {
    const r = render(input({ kubernetes: { flavour: 'kserve' }, resources: { gpus: 1, gpuType: null, memory: '24Gi' }, autoscaling: { min: 1, max: 3 } } as never, { nodeSelector: { pool: 'gpu' } }));
    expect(r.objects.map((o) => o.kind)).toEqual(['InferenceService']);
    for (const o of r.objects) validate(o);
    const p = byKind(r.objects, 'InferenceService').spec.predictor;
    expect(p).toMatchObject({ minReplicas: 1, maxReplicas: 3, nodeSelector: { pool: 'gpu' } });
    expect(p.model.modelFormat).toEqual({ name: 'huggingface' });
    expect(p.model.resources.limits['nvidia.com/gpu']).toBe('1');
    expect(p.model.storageUri).toBeUndefined();
    expect(p.initContainers[0].command).toContain('/mnt/models');
    expect(r.url).toBe(`http://${r.name}-predictor.default.svc.cluster.local`);
  });

  it('kserve with an S3 blob store and a one-file version: the blob as storageUri, no init container', () => {
    const one = [{ path: 'model.gguf', size: 5, sha256: 'd'.repeat(64) }];
    const r = render(input({ kubernetes: { flavour: 'kserve' } } as never, { s3: { bucket: 'models', prefix: 'steward/' }, version: { name: 'acme/bot', version: '1.0.0', digest: 'x', files: one } }));
    for (const o of r.objects) validate(o);
    const p = byKind(r.objects, 'InferenceService').spec.predictor;
    expect(p.model.storageUri).toBe(`s3://models/steward/blobs/sha256/dd/${'d'.repeat(64)}`);
    expect(p.initContainers).toBeUndefined();
    // Several files keep no names at their content addresses: pulled from the registry instead.
    const many = render(input({ kubernetes: { flavour: 'kserve' } } as never, { s3: { bucket: 'models', prefix: '' } }));
    expect(byKind(many.objects, 'InferenceService').spec.predictor.model.storageUri).toBeUndefined();
  });

  it('kserve with a runtime KServe has no format for (llama.cpp): a custom predictor container, still CRD-valid', () => {
    const r = render(input({ runtime: 'llamacpp', kubernetes: { flavour: 'kserve' } } as never, { version: { name: 'acme/bot', version: '1.0.0', digest: 'x', files: [{ path: 'm.gguf', size: 5, sha256: 'e'.repeat(64) }] } }));
    for (const o of r.objects) validate(o);
    const c = byKind(r.objects, 'InferenceService').spec.predictor.containers[0];
    expect(c.image).toBe('ghcr.io/ggml-org/llama.cpp:server');
    expect(c.command).toEqual(['/app/llama-server']);
    expect(c.args).toContain('/mnt/models/m.gguf');
  });

  it('inference-pool flavour: Deployment + Service + an InferencePool selecting its pods, valid against the Inference Extension CRD', () => {
    const r = render(input({ kubernetes: { flavour: 'inference-pool' } } as never));
    expect(r.objects.map((o) => o.kind)).toEqual(['Deployment', 'Service', 'InferencePool']);
    for (const o of r.objects) validate(o);
    const pool = byKind(r.objects, 'InferencePool');
    expect(pool.apiVersion).toBe('inference.networking.k8s.io/v1');
    const dep = byKind(r.objects, 'Deployment');
    expect(pool.spec.selector.matchLabels).toEqual(dep.spec.selector.matchLabels);
    expect(dep.spec.template.metadata.labels).toMatchObject(pool.spec.selector.matchLabels);
    expect(pool.spec.targetPorts).toEqual([{ number: 8000 }]);
  });

  it('every runtime with an image renders schema-valid objects; builtin and openai-compatible need kubernetes.image', () => {
    for (const runtime of ['vllm', 'tgi', 'ollama', 'torchserve'] as const) {
      const files = [{ path: 'm.gguf', size: 5, sha256: 'e'.repeat(64) }];
      for (const flavour of ['deployment', 'kserve', 'inference-pool'] as const) {
        const r = render(input({ runtime, kubernetes: { flavour } } as never, { version: { name: 'acme/bot', version: '1.0.0', digest: 'x', files } }));
        for (const o of r.objects) validate(o);
      }
    }
    expect(() => render(input({ runtime: 'builtin' }))).toThrow(/kubernetes.image/);
    const r = render(input({ runtime: 'openai-compatible', args: ['python', '-m', 'srv', '--port', '{port}', '--dir', '{model_dir}'], kubernetes: { image: 'acme/srv:1' } } as never));
    for (const o of r.objects) validate(o);
    const c = byKind(r.objects, 'Deployment').spec.template.spec.containers[0];
    expect([c.image, ...c.command, ...c.args]).toEqual(['acme/srv:1', 'python', '-m', 'srv', '--port', '8000', '--dir', '/models']);
  });

  it('names: DNS labels from model and environment, stable across versions, cut with a hash when long', () => {
    expect(objectName('bot', 'production')).toBe('bot-production');
    expect(objectName('acme/bot', 'production')).toMatch(/^acme-bot-production-[0-9a-f]{8}$/);
    expect(objectName('acme-bot', 'production')).not.toBe(objectName('acme/bot', 'production'));
    expect(objectName('9lives', 'dev')).toMatch(/^m-9lives-dev-/);
    const long = objectName(`team/${'very-long-model-name-'.repeat(5)}`, 'production');
    expect(long.length).toBeLessThanOrEqual(40);
    expect(long).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
    const a = render(input({}));
    const b = render(input({}, { version: { name: 'acme/bot', version: '1.1.0', digest: 'y', files: FILES } }));
    expect(b.name).toBe(a.name);
    expect(b.hash).not.toBe(a.hash);
    expect(render(input({})).hash).toBe(a.hash);
  });

  it('a misspelled field is caught by the closed CRD schema (the validator is not a no-op)', () => {
    const r = render(input({ kubernetes: { flavour: 'kserve' } } as never));
    const isvc = structuredClone(byKind(r.objects, 'InferenceService'));
    isvc.spec.predictor.minReplica = 1;
    expect(() => validate(isvc)).toThrow(/minReplica/);
    const pool = structuredClone(byKind(render(input({ kubernetes: { flavour: 'inference-pool' } } as never)).objects, 'InferencePool'));
    delete pool.spec.targetPorts;
    expect(() => validate(pool)).toThrow(/targetPorts/);
    const dep = structuredClone(byKind(r.objects, 'InferenceService'));
    expect(() => validate({ ...dep, kind: 'Deployment', apiVersion: 'apps/v1', spec: { template: {} } } as never)).toThrow();
  });
});

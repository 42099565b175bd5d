/**
 * The kubernetes driver over HTTP, on both backends, against a fake Kubernetes API server that
 * speaks the real protocol (test/helpers/fake-kube.ts): objects applied server-side, the
 * deployment starting → ready as the test sets their status, scaled, rolled to a new version when
 * its environment moves, deleted on stop; KServe and Inference Extension flavours; a CRD not
 * installed, a 403 and an API server that is down; `dryRun`; every bad input refused.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeploymentDryRun, DeploymentPage, DeploymentResponse } from '../src/contracts/deployments.js';
import { pushModel } from './helpers/evals-fixtures.js';
import { KSERVE, startFakeKube, type FakeKube, type Obj } from './helpers/fake-kube.js';
import { apiClient, expectBody, expectError, uid, type Api } from './helpers/test-api.js';
import { BACKENDS, startTestServer, type TestServer } from './helpers/test-server.js';

describe.each(BACKENDS)('kubernetes deployments on %s', (backend) => {
  let server: TestServer;
  let api: Api;
  let kube: FakeKube;
  let dir: string;
  beforeAll(async () => {
    kube = await startFakeKube({ crds: [KSERVE] });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-kubeconfig-'));
    fs.writeFileSync(path.join(dir, 'config'), kube.kubeconfig());
    server = await startTestServer(backend, { kubeconfig: path.join(dir, 'config'), jobPollIntervalMs: 50, eventPollMs: 20, deploymentReconcileMs: 50 });
    api = apiClient(server);
  });
  afterAll(async () => {
    await server?.stop();
    await kube?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const deploy = async (body: Record<string, unknown>) => expectBody(await api.post('/api/v1/deployments', { driver: 'kubernetes', runtime: 'vllm', ...body }), 201, DeploymentResponse);
  async function waitFor(id: string, until: (d: DeploymentResponse) => boolean, timeoutMs = 20_000): Promise<DeploymentResponse> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const d = expectBody(await api.get(`/api/v1/deployments/${id}`), 200, DeploymentResponse);
      if (until(d)) return d;
      if (Date.now() > end) throw new Error(`deployment ${id} stuck: ${JSON.stringify(d)}`);
      await new Promise((r) => setTimeout(r, 30));
    }
  }
  async function waitObject(kind: string, ns: string, name: string, until: (o: Obj) => boolean = () => true): Promise<Obj> {
    const end = Date.now() + 20_000;
    for (;;) {
      const o = kube.get(kind, ns, name);
      if (o && until(o)) return o;
      if (Date.now() > end) throw new Error(`${kind} ${ns}/${name} never matched: ${JSON.stringify(o)}`);
      await new Promise((r) => setTimeout(r, 30));
    }
  }
  type Dep = Obj & { spec: { replicas?: number; template: { metadata: { labels: Record<string, string> }; spec: { initContainers: { command: string[] }[]; containers: { resources: unknown }[] } } } };
  /** What the Deployment controller would report once every replica of the current template is ready. */
  const rolledOut = (o: Obj, replicas: number) => kube.setStatus('Deployment', o.metadata.namespace!, o.metadata.name, { observedGeneration: o.metadata.generation, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas });

  it('applies a Deployment and a Service, goes starting → ready from their status, scales, rolls to the version its environment moves to, and deletes them on stop', async () => {
    const model = `k8s-${uid()}/bot`;
    await pushModel(api, model, '1.0.0');
    await pushModel(api, model, '1.1.0');
    const e = `k8s-${uid()}`;
    expect((await api.put(`/api/v1/environments/${e}`, { deploy: { replicas: 2, nodeSelector: { pool: 'gpu' } } })).status).toBe(200);
    expect((await api.post('/api/v1/promotions', { model: `${model}:1.0.0`, to: e })).status).toBe(201);

    const d = await deploy({ model: `${model}:1.0.0`, environment: e, kubernetes: { namespace: 'llm', registrySecret: 'reg' }, resources: { gpus: 1, memory: '24Gi' } });
    expect(d).toMatchObject({ state: 'pending', replicas: 2, driver: 'kubernetes', kubernetes: { namespace: 'llm', flavour: 'deployment', autoscaling: null } });
    const name = d.kubernetes!.name;
    const dep = (await waitObject('Deployment', 'llm', name)) as Dep;
    await waitObject('Service', 'llm', name);
    expect(dep.metadata.managedFields).toEqual([expect.objectContaining({ manager: 'steward', operation: 'Apply' })]);
    expect(dep.spec.replicas).toBe(2);
    expect(dep.spec.template.spec.initContainers[0]!.command).toContain(`${model}:1.0.0`);
    expect(dep.spec.template.spec.containers[0]!.resources).toEqual({ limits: { 'nvidia.com/gpu': '1', memory: '24Gi' }, requests: { memory: '24Gi' } });
    expect((dep.spec.template.spec as unknown as { nodeSelector: unknown }).nodeSelector).toEqual({ pool: 'gpu' });
    const starting = await waitFor(d.id, (x) => x.state === 'starting' && x.replicaStatus.length === 2);
    expect(starting.replicaStatus.map((r) => r.state)).toEqual(['starting', 'starting']);

    rolledOut(dep, 2);
    const ready = await waitFor(d.id, (x) => x.state === 'ready');
    expect(ready.replicaStatus).toEqual([0, 1].map((index) => expect.objectContaining({ index, state: 'ready', version: '1.0.0', pid: null, url: `http://${name}.llm.svc.cluster.local:8000` })));
    const applies = (await api.get(`/api/v1/audit?target=deployment:${d.id}&action=deployment.apply`)).body as { items: { change: { server: string; objects: string[] } }[] };
    expect(applies.items[0]!.change).toMatchObject({ server: kube.url, objects: ['Deployment', 'Service'] });
    const patches = kube.requests.filter((r) => r.method === 'PATCH').length;

    // Nothing changed: nothing applied again, however many passes.
    await new Promise((r) => setTimeout(r, 300));
    expect(kube.requests.filter((r) => r.method === 'PATCH').length).toBe(patches);

    expectBody(await api.post(`/api/v1/deployments/${d.id}/scale`, { replicas: 3 }), 200, DeploymentResponse);
    const scaled = (await waitObject('Deployment', 'llm', name, (o) => (o as Dep).spec.replicas === 3)) as Dep;
    expect(scaled.metadata.generation).toBe(2);
    await waitFor(d.id, (x) => x.state !== 'ready' && x.replicaStatus.length === 3);
    rolledOut(scaled, 3);
    await waitFor(d.id, (x) => x.state === 'ready' && x.replicaStatus.length === 3);

    // The environment moves: the same Deployment rolls to 1.1.0.
    expect((await api.post('/api/v1/promotions', { model: `${model}:1.1.0`, to: e })).status).toBe(201);
    const rolled = (await waitObject('Deployment', 'llm', name, (o) => (o as Dep).spec.template.metadata.labels['steward.dev/version'] === '1.1.0')) as Dep;
    expect(rolled.spec.template.spec.initContainers[0]!.command).toContain(`${model}:1.1.0`);
    expect(rolled.metadata.uid).toBe(dep.metadata.uid);
    const rolling = await waitFor(d.id, (x) => x.model.version === '1.1.0' && x.state === 'starting');
    expect(rolling.replicaStatus.every((r) => r.version === '1.0.0' || r.state !== 'ready')).toBe(true);
    rolledOut(rolled, 3);
    const moved = await waitFor(d.id, (x) => x.state === 'ready' && x.replicaStatus.every((r) => r.version === '1.1.0'));
    expect(moved.replicaStatus).toHaveLength(3);

    expectBody(await api.post(`/api/v1/deployments/${d.id}/stop`), 200, DeploymentResponse);
    const stopped = await waitFor(d.id, (x) => x.state === 'stopped');
    expect(stopped.replicaStatus.every((r) => r.state === 'stopped')).toBe(true);
    expect(kube.get('Deployment', 'llm', name)).toBeUndefined();
    expect(kube.get('Service', 'llm', name)).toBeUndefined();
    expectError(await api.post(`/api/v1/deployments/${d.id}/stop`), 409, 'conflict');
    const states = (await api.get(`/api/v1/events?types=deployment.state.changed&limit=1000`)).body as { items: { subject: string; data: { to: string } }[] };
    const mine = states.items.filter((x) => x.subject === `deployment:${d.id}`).map((x) => x.data.to);
    expect(mine.slice(0, 3)).toEqual(['pending', 'starting', 'ready']);
    expect(mine[mine.length - 1]).toBe('stopped');
  });

  it('kserve: an InferenceService, ready from its Ready condition; on S3 a one-file version is its storageUri', async () => {
    const model = `k8s-${uid()}/bot`;
    await pushModel(api, model, '1.0.0');
    const d = await deploy({ model: `${model}:1.0.0`, environment: 'development', kubernetes: { flavour: 'kserve' }, autoscaling: { min: 1, max: 3 } });
    expect(d.replicas).toBe(1);
    const isvc = (await waitObject('InferenceService', 'default', d.kubernetes!.name)) as Obj & { spec: { predictor: { minReplicas: number; maxReplicas: number; model: { modelFormat: unknown; storageUri?: string }; initContainers?: unknown[] } } };
    expect(isvc.spec.predictor).toMatchObject({ minReplicas: 1, maxReplicas: 3, model: { modelFormat: { name: 'huggingface' } } });
    if (backend === 'postgres-s3') {
      expect(isvc.spec.predictor.model.storageUri).toMatch(/^s3:\/\/steward-test\/t_[0-9a-f]+\/blobs\/sha256\/[0-9a-f]{2}\/[0-9a-f]{64}$/);
      expect(isvc.spec.predictor.initContainers).toBeUndefined();
    } else {
      expect(isvc.spec.predictor.model.storageUri).toBeUndefined();
      expect(isvc.spec.predictor.initContainers).toHaveLength(1);
    }
    await waitFor(d.id, (x) => x.state === 'starting');
    kube.setStatus('InferenceService', 'default', d.kubernetes!.name, { conditions: [{ type: 'Ready', status: 'True' }] });
    const ready = await waitFor(d.id, (x) => x.state === 'ready');
    expect(ready.replicaStatus[0]).toMatchObject({ state: 'ready', url: `http://${d.kubernetes!.name}-predictor.default.svc.cluster.local` });
    expectError(await api.post(`/api/v1/deployments/${d.id}/scale`, { replicas: 2 }), 412, 'failed_precondition');
    await api.post(`/api/v1/deployments/${d.id}/stop`);
    await waitFor(d.id, (x) => x.state === 'stopped');
    expect(kube.get('InferenceService', 'default', d.kubernetes!.name)).toBeUndefined();
  });

  it('a CRD the cluster does not serve fails the deployment with what to install; a 403 fails it with the API server’s reason', async () => {
    const model = `k8s-${uid()}/bot`;
    await pushModel(api, model, '1.0.0');
    const d = await deploy({ model: `${model}:1.0.0`, environment: 'development', kubernetes: { flavour: 'inference-pool', namespace: 'pool' } });
    const failed = await waitFor(d.id, (x) => x.state === 'failed');
    expect(failed.error).toMatch(/the cluster does not serve inference\.networking\.k8s\.io\/v1 InferencePool \(404 from http:\/\/127\.0\.0\.1:\d+\): install its CRDs \(the Gateway API Inference Extension\)/);
    // Stopping it removes what was applied before the refusal.
    await api.post(`/api/v1/deployments/${d.id}/stop`);
    await waitFor(d.id, (x) => x.state === 'stopped');
    expect(kube.objects().filter((o) => o.metadata.namespace === 'pool')).toEqual([]);

    kube.failWrites(403);
    try {
      const f = await deploy({ model: `${model}:1.0.0`, environment: 'development', kubernetes: { namespace: 'forbidden' } });
      const refused = await waitFor(f.id, (x) => x.state === 'failed');
      expect(refused.error).toMatch(/forbidden to change Deployment forbidden\/.* \(403\): .*cannot patch resource "deployments"/);
    } finally {
      kube.failWrites(null);
    }
  });

  it('an API server that is down: starting with a clear error, retried; it comes back and the deployment becomes ready', async () => {
    const model = `k8s-${uid()}/bot`;
    await pushModel(api, model, '1.0.0');
    await kube.down();
    let d: DeploymentResponse;
    try {
      d = await deploy({ model: `${model}:1.0.0`, environment: 'development', kubernetes: { namespace: 'flaky' }, replicas: 1 });
      const waiting = await waitFor(d.id, (x) => x.state === 'starting' && x.error !== null);
      expect(waiting.error).toMatch(new RegExp(`the Kubernetes API server ${kube.url.replace(/\./g, '\\.')} is unreachable: .*ECONNREFUSED`));
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await kube.up();
    }
    const dep = await waitObject('Deployment', 'flaky', d.kubernetes!.name);
    rolledOut(dep, 1);
    const ready = await waitFor(d.id, (x) => x.state === 'ready');
    expect(ready.error).toBeNull();
    await api.post(`/api/v1/deployments/${d.id}/stop`);
    await waitFor(d.id, (x) => x.state === 'stopped');
  });

  it('dryRun renders the manifests and records nothing; for other drivers it answers the validated spec', async () => {
    const model = `k8s-${uid()}/bot`;
    await pushModel(api, model, '1.0.0');
    const res = expectBody(
      await api.post('/api/v1/deployments', { model: `${model}:1.0.0`, environment: 'development', driver: 'kubernetes', runtime: 'vllm', dryRun: true, env: { HF_TOKEN: 'hf-secret' }, kubernetes: { flavour: 'inference-pool' } }),
      200,
      DeploymentDryRun,
    );
    expect(res.manifests.map((m) => m.kind)).toEqual(['Deployment', 'Service', 'InferencePool']);
    expect(res.spec).toMatchObject({ driver: 'kubernetes', replicas: 1, kubernetes: { namespace: 'default', flavour: 'inference-pool' } });
    expect(JSON.stringify(res)).not.toContain('hf-secret');
    const rendered = res.manifests[0]!.metadata as { name: string };
    expect(kube.requests.filter((r) => r.path.includes(rendered.name))).toEqual([]);
    expect(expectBody(await api.get(`/api/v1/deployments?model=${encodeURIComponent(model)}`), 200, DeploymentPage).items).toEqual([]);
    const audit = (await api.get(`/api/v1/audit?action=deployment.create`)).body as { items: { change: { model: string } }[] };
    expect(audit.items.some((x) => x.change.model.startsWith(model))).toBe(false);

    const local = expectBody(await api.post('/api/v1/deployments', { model: `${model}:1.0.0`, environment: 'development', runtime: 'builtin', dryRun: true }), 200, DeploymentDryRun);
    expect(local).toMatchObject({ dryRun: true, manifests: [], spec: { driver: 'local', runtime: 'builtin', replicas: 1 } });
    // A dry run validates like a real one.
    expectError(await api.post('/api/v1/deployments', { model: `${model}:9.9.9`, environment: 'development', driver: 'kubernetes', runtime: 'vllm', dryRun: true }), 404, 'not_found');
  });

  it('refuses bad kubernetes input before recording anything', async () => {
    const model = `k8s-${uid()}/bot`;
    await pushModel(api, model, '1.0.0');
    const body = { model: `${model}:1.0.0`, environment: 'development', driver: 'kubernetes', runtime: 'vllm' };
    const bad = async (b: Record<string, unknown>, status: number, code: Parameters<typeof expectError>[2], msg: RegExp) => expect(expectError(await api.post('/api/v1/deployments', b), status, code).message).toMatch(msg);
    await bad({ ...body, driver: 'local', kubernetes: { namespace: 'x' } }, 400, 'invalid_argument', /kubernetes is for driver kubernetes/);
    await bad({ ...body, driver: 'local', runtime: 'builtin', autoscaling: { min: 1, max: 2 } }, 400, 'invalid_argument', /autoscaling is for driver kubernetes/);
    await bad({ ...body, autoscaling: { min: 3, max: 2 } }, 400, 'invalid_argument', /must not exceed/);
    await bad({ ...body, kubernetes: { namespace: 'Bad_NS' } }, 400, 'invalid_argument', /DNS-1123/);
    await bad({ ...body, kubernetes: { flavour: 'helm' } }, 400, 'invalid_argument', /flavour/);
    await bad({ ...body, resources: { memory: '16 GB' } }, 400, 'invalid_argument', /not a Kubernetes quantity/);
    await bad({ ...body, runtime: 'builtin' }, 400, 'invalid_argument', /no container image.*--image/);
    await bad({ ...body, runtime: 'openai-compatible', kubernetes: { image: 'acme/srv:1' } }, 400, 'invalid_argument', /command line in args/);
    expect(expectBody(await api.get(`/api/v1/deployments?model=${encodeURIComponent(model)}`), 200, DeploymentPage).items).toEqual([]);

    const first = await deploy({ model: `${model}:1.0.0`, environment: 'development', kubernetes: { namespace: 'twice' } });
    await bad({ ...body, kubernetes: { namespace: 'twice' } }, 409, 'conflict', new RegExp(`${first.id} already runs`));
    await api.post(`/api/v1/deployments/${first.id}/stop`);
    await waitFor(first.id, (x) => x.state === 'stopped');
  });
});

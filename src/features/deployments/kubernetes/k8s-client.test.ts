/** The Kubernetes client against a fake API server speaking the real HTTP protocol (test/helpers/fake-kube.ts). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KSERVE, startFakeKube, type FakeKube } from '../../../../test/helpers/fake-kube.js';
import { createKubeClient, KubeError, loadKubeConfig } from './k8s-client.js';
import type { K8sObject } from './k8s-manifests.js';

let kube: FakeKube;
let dir: string;
beforeAll(async () => {
  kube = await startFakeKube({ crds: [KSERVE] });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-kube-'));
  fs.writeFileSync(path.join(dir, 'config'), kube.kubeconfig());
});
afterAll(async () => {
  await kube.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const svc = (port: number): K8sObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'bot-dev', namespace: 'llm', labels: { 'app.kubernetes.io/managed-by': 'steward' }, annotations: {} },
  spec: { selector: { app: 'bot' }, ports: [{ name: 'http', port, targetPort: 'http' }] },
});
const ref = { apiVersion: 'v1', kind: 'Service', namespace: 'llm', name: 'bot-dev' };

describe('kubernetes client', () => {
  it('applies server-side (apply-patch, field manager steward, forced): creates, then updates with a new generation', async () => {
    const api = createKubeClient(loadKubeConfig(path.join(dir, 'config')));
    expect(api.server).toBe(kube.url);
    await api.apply(svc(8000));
    const patch = kube.requests.find((r) => r.method === 'PATCH')!;
    expect(patch).toMatchObject({ path: '/api/v1/namespaces/llm/services/bot-dev', contentType: 'application/apply-patch+yaml', fieldManager: 'steward', force: 'true' });
    expect(kube.get('Service', 'llm', 'bot-dev')!.metadata).toMatchObject({ generation: 1, managedFields: [{ manager: 'steward', operation: 'Apply' }] });
    await api.apply(svc(8000));
    expect(kube.get('Service', 'llm', 'bot-dev')!.metadata.generation).toBe(1);
    await api.apply(svc(9000));
    expect(kube.get('Service', 'llm', 'bot-dev')!.metadata.generation).toBe(2);
    const read = await api.read(ref);
    expect((read?.spec as { ports: { port: number }[] }).ports[0]!.port).toBe(9000);
  });

  it('reads a missing object as null; deletes, and deleting again is fine', async () => {
    const api = createKubeClient(loadKubeConfig(path.join(dir, 'config')));
    expect(await api.read({ ...ref, name: 'nope' })).toBeNull();
    await api.apply(svc(8000));
    await api.remove(ref);
    expect(kube.get('Service', 'llm', 'bot-dev')).toBeUndefined();
    await api.remove(ref);
  });

  it('a CRD the cluster does not serve is a 404 naming what to install', async () => {
    const api = createKubeClient(loadKubeConfig(path.join(dir, 'config')));
    const pool = { apiVersion: 'inference.networking.k8s.io/v1', kind: 'InferencePool', metadata: { name: 'p', namespace: 'llm', labels: {}, annotations: {} }, spec: {} };
    const err = await api.apply(pool).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeError);
    expect((err as KubeError).status).toBe(404);
    expect((err as KubeError).message).toMatch(/does not serve inference\.networking\.k8s\.io\/v1 InferencePool .*Gateway API Inference Extension/);
    expect((err as KubeError).transient).toBe(false);
  });

  it('403 from the API server carries its message; a wrong token is a 401', async () => {
    const api = createKubeClient(loadKubeConfig(path.join(dir, 'config')));
    kube.failWrites(403);
    try {
      const err = (await api.apply(svc(8000)).catch((e: unknown) => e)) as KubeError;
      expect(err.status).toBe(403);
      expect(err.message).toMatch(/forbidden to change Service llm\/bot-dev .*cannot patch resource "deployments"/);
    } finally {
      kube.failWrites(null);
    }
    fs.writeFileSync(path.join(dir, 'bad'), kube.kubeconfig().replace(kube.token, 'wrong'));
    const bad = createKubeClient(loadKubeConfig(path.join(dir, 'bad')));
    const err = (await bad.read(ref).catch((e: unknown) => e)) as KubeError;
    expect(err.status).toBe(401);
  });

  it('an API server that is down: a transient error naming the server; it works again once it is back', async () => {
    const api = createKubeClient(loadKubeConfig(path.join(dir, 'config')));
    await kube.down();
    try {
      const err = (await api.read(ref).catch((e: unknown) => e)) as KubeError;
      expect(err).toBeInstanceOf(KubeError);
      expect(err.status).toBeNull();
      expect(err.transient).toBe(true);
      expect(err.message).toContain(`the Kubernetes API server ${kube.url} is unreachable`);
    } finally {
      await kube.up();
    }
    await api.apply(svc(8000));
    expect(await api.read(ref)).not.toBeNull();
  });
});

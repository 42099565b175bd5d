/**
 * Deployments on the local driver over HTTP, on both backends: the repo's fake OpenAI server as
 * the `openai-compatible` runtime (a real child process serving HTTP), reconciled to ready, scaled,
 * restarted after a crash, stopped; a runtime that exits at once fails with its last log lines;
 * every bad input refused.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeploymentLogs, DeploymentPage, DeploymentResponse } from '../src/contracts/deployments.js';
import { EventPage } from '../src/contracts/events.js';
import { VersionResponse } from '../src/contracts/assets.js';
import { isAlive } from '../src/features/deployments/deployments-local.js';
import { pushModel } from './helpers/evals-fixtures.js';
import { startFakeOpenAI } from './helpers/fake-openai.js';
import { apiClient, expectBody, expectError, uid, versionPath, type Api } from './helpers/test-api.js';
import { BACKENDS, startTestServer, type TestServer } from './helpers/test-server.js';

const FAKE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'helpers/fake-openai-main.ts');
const FAKE_ARGS = [process.execPath, '--import', 'tsx', FAKE, '--port', '{port}'];

/** The fs store's file of a blob, wherever its layout puts it. */
function findBlob(dir: string, sha: string): string {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      const found = findBlob(p, sha);
      if (found) return found;
    } else if (e.name === sha) return p;
  }
  return '';
}

describe.each(BACKENDS)('deployments on %s', (backend) => {
  let server: TestServer;
  let api: Api;
  const made: string[] = [];
  beforeAll(async () => {
    server = await startTestServer(backend, { jobPollIntervalMs: 50, eventPollMs: 20, deploymentReconcileMs: 100, deploymentRestartBaseMs: 20, deploymentMaxRestarts: 2, deploymentStopGraceMs: 3000 });
    api = apiClient(server);
  });
  afterAll(async () => {
    // Replicas outlive the control plane by design: stop them first.
    for (const id of made) await api.post(`/api/v1/deployments/${id}/stop`);
    for (const id of made) await waitFor(id, (d) => d.state === 'stopped' || d.state === 'failed', 20_000).catch(() => undefined);
    await server?.stop();
  });

  const deploy = async (body: Record<string, unknown>) => {
    const d = expectBody(await api.post('/api/v1/deployments', body), 201, DeploymentResponse);
    made.push(d.id);
    return d;
  };
  async function waitFor(id: string, until: (d: DeploymentResponse) => boolean, timeoutMs = 30_000): Promise<DeploymentResponse> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const d = expectBody(await api.get(`/api/v1/deployments/${id}`), 200, DeploymentResponse);
      if (until(d)) return d;
      if (Date.now() > end) throw new Error(`deployment ${id} stuck: ${JSON.stringify(d)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('deploys a version with an openai-compatible command: ready, serving, with logs, events and audit; scales; stops', async () => {
    const model = `dep-${uid()}/bot`;
    await pushModel(api, model, '1.0.0');
    const t0 = performance.now();
    const created = await deploy({ model: `${model}:1.0.0`, environment: 'development', args: FAKE_ARGS, env: { SECRET_TOKEN: 'do-not-show' }, replicas: 1 });
    expect(created).toMatchObject({ state: 'pending', replicas: 1, runtime: 'openai-compatible', driver: 'local', envKeys: ['SECRET_TOKEN'] });
    expect(JSON.stringify(created)).not.toContain('do-not-show');
    const ready = await waitFor(created.id, (d) => d.state === 'ready');
    console.log(`[${backend}] deploy → ready (fake server under tsx): ${(performance.now() - t0).toFixed(0)} ms`);
    const rep = ready.replicaStatus[0]!;
    expect(rep).toMatchObject({ index: 0, state: 'ready', restarts: 0 });
    expect(isAlive(rep.pid!)).toBe(true);
    const models = await fetch(`${rep.url}/v1/models`);
    expect(models.status).toBe(200);
    const logs = expectBody(await api.get(`/api/v1/deployments/${created.id}/logs`), 200, DeploymentLogs);
    expect(logs.lines[0]).toMatch(/starting: .*fake-openai-main\.ts --port \d+/);

    // Scale up, to zero (serving nothing, processes gone), and back.
    expectBody(await api.post(`/api/v1/deployments/${created.id}/scale`, { replicas: 2 }), 200, DeploymentResponse);
    const two = await waitFor(created.id, (d) => d.state === 'ready' && d.replicaStatus.length === 2 && d.replicaStatus.every((r) => r.state === 'ready'));
    const pids = two.replicaStatus.map((r) => r.pid!);
    expectBody(await api.post(`/api/v1/deployments/${created.id}/scale`, { replicas: 0 }), 200, DeploymentResponse);
    await waitFor(created.id, (d) => d.state === 'stopped' && d.replicaStatus.length === 0);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    expectBody(await api.post(`/api/v1/deployments/${created.id}/scale`, { replicas: 1 }), 200, DeploymentResponse);
    const again = await waitFor(created.id, (d) => d.state === 'ready');

    // Stop: gone; stop twice: 409.
    expectBody(await api.post(`/api/v1/deployments/${created.id}/stop`), 200, DeploymentResponse);
    await waitFor(created.id, (d) => d.state === 'stopped');
    expect(isAlive(again.replicaStatus[0]!.pid!)).toBe(false);
    expectError(await api.post(`/api/v1/deployments/${created.id}/stop`), 409, 'conflict');

    const events = expectBody(await api.get('/api/v1/events?types=deployment.state.changed&limit=1000'), 200, EventPage);
    const mine = events.items.filter((e) => e.data.id === created.id).map((e) => e.data.to);
    expect(mine.slice(0, 3)).toEqual(['pending', 'starting', 'ready']);
    expect(mine[mine.length - 1]).toBe('stopped');
    const audit = (await api.get(`/api/v1/audit?target=deployment:${created.id}`)).body as { items: { action: string; change: unknown }[] };
    expect(audit.items.map((e) => e.action)).toEqual(expect.arrayContaining(['deployment.create', 'deployment.scale', 'deployment.stop']));
    expect(JSON.stringify(audit.items)).not.toContain('do-not-show');
    const page = expectBody(await api.get(`/api/v1/deployments?model=${encodeURIComponent(model)}`), 200, DeploymentPage);
    expect(page.items.map((d) => d.id)).toEqual([created.id]);
  });

  it('restarts a replica whose process died, and fails one that exits at once with its last log lines', async () => {
    const model = `dep-${uid()}/bot`;
    await pushModel(api, model, '1.0.0');
    const d = await deploy({ model: `${model}:1.0.0`, environment: 'development', args: FAKE_ARGS, replicas: 1 });
    const ready = await waitFor(d.id, (x) => x.state === 'ready');
    process.kill(ready.replicaStatus[0]!.pid!, 'SIGKILL');
    const back = await waitFor(d.id, (x) => x.state === 'ready' && x.replicaStatus[0]!.restarts === 1);
    expect(back.replicaStatus[0]!.pid).not.toBe(ready.replicaStatus[0]!.pid);

    const bad = await deploy({ model: `${model}:1.0.0`, environment: 'development', args: ['sh', '-c', 'echo "model load failed: boom" >&2; exit 3'], replicas: 1 });
    const failed = await waitFor(bad.id, (x) => x.state === 'failed');
    expect(failed.error).toContain('boom');
    expect(failed.replicaStatus[0]).toMatchObject({ state: 'failed', restarts: 3 });
  });

  it('marks a replica that stops answering unhealthy (degraded, health event) and ready again when it answers', async () => {
    const model = `dep-${uid()}/bot`;
    await pushModel(api, model, '1.0.0');
    const d = await deploy({ model: `${model}:1.0.0`, environment: 'development', args: FAKE_ARGS, replicas: 1, health: { timeoutMs: 200, failureThreshold: 3 } });
    const pid = (await waitFor(d.id, (x) => x.state === 'ready')).replicaStatus[0]!.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      const degraded = await waitFor(d.id, (x) => x.state === 'degraded');
      expect(degraded.replicaStatus[0]).toMatchObject({ state: 'unhealthy', pid });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitFor(d.id, (x) => x.state === 'ready' && x.replicaStatus[0]!.pid === pid);
    const events = expectBody(await api.get('/api/v1/events?types=deployment.health.changed&limit=1000'), 200, EventPage);
    expect(events.items.filter((e) => e.data.id === d.id).map((e) => e.data.healthy)).toEqual([false, true]);
  });

  it('fails a deployment whose files fail their hash check, leaving nothing half-materialised', async () => {
    if (backend !== 'sqlite-fs') return; // the fs store's blob file is what gets corrupted here
    const model = `dep-${uid()}/bot`;
    const v = await pushModel(api, model, '1.0.0');
    const blob = path.join(server.dataDir, 'blobs', 'sha256', v.files![0]!.sha256.slice(0, 2), v.files![0]!.sha256);
    const file = fs.existsSync(blob) ? blob : findBlob(path.join(server.dataDir, 'blobs'), v.files![0]!.sha256);
    fs.chmodSync(file, 0o600);
    fs.truncateSync(file, 1);
    const d = await deploy({ model: `${model}:1.0.0`, environment: 'development', args: FAKE_ARGS, replicas: 1 });
    const failed = await waitFor(d.id, (x) => x.state === 'failed');
    expect(failed.error).toMatch(/failed its size check/);
    const cache = path.join(server.dataDir, 'deployments', 'cache');
    expect(fs.existsSync(cache) ? fs.readdirSync(cache).filter((n) => n.startsWith('.tmp-') || n === v.digest.slice(7)) : []).toEqual([]);
  });

  it('follows its environment: a promotion rolls the replicas to the new version, a rollback back', async () => {
    const model = `dep-${uid()}/bot`;
    await pushModel(api, model, '1.0.0');
    await pushModel(api, model, '1.1.0');
    const e = `deps-${uid()}`;
    expect((await api.put(`/api/v1/environments/${e}`, {})).status).toBe(200);
    expect((await api.post('/api/v1/promotions', { model: `${model}:1.0.0`, to: e })).status).toBe(201);
    const d = await deploy({ model: `${model}:1.0.0`, environment: e, args: FAKE_ARGS, replicas: 2 });
    const before = await waitFor(d.id, (x) => x.state === 'ready' && x.replicaStatus.length === 2);
    const on = (v: string) => (x: DeploymentResponse) =>
      x.state === 'ready' && x.model.version === v && x.replicaStatus.length === 2 && x.replicaStatus.every((r) => r.version === v && r.state === 'ready');

    expect((await api.post('/api/v1/promotions', { model: `${model}:1.1.0`, to: e })).status).toBe(201);
    const moved = await waitFor(d.id, on('1.1.0'));
    for (const r of before.replicaStatus) expect(isAlive(r.pid!)).toBe(false);
    expect(moved.replicaStatus.map((r) => r.index)).toEqual([0, 1]);

    const t0 = performance.now();
    expect((await api.post(`/api/v1/environments/${e}/rollback`, { model, reason: 'bad answers' })).status).toBe(200);
    await waitFor(d.id, on('1.0.0'));
    console.log(`[${backend}] rollback → every replica serving the previous version: ${(performance.now() - t0).toFixed(0)} ms (2 replicas, fake server under tsx)`);
    const audit = (await api.get(`/api/v1/audit?target=deployment:${d.id}&action=deployment.update`)).body as { items: { change: { to: string } }[] };
    expect(audit.items.map((x) => x.change.to).sort()).toEqual(['1.0.0', '1.1.0']);
  });

  it('registers an external endpoint: health-checked with its key, which is never shown', async () => {
    const model = `dep-${uid()}/bot`;
    await pushModel(api, model, '1.0.0');
    const ext = await startFakeOpenAI({ apiKey: 'sk-external-secret' });
    try {
      const d = await deploy({ model: `${model}:1.0.0`, environment: 'development', driver: 'external', endpoint: { url: ext.url, apiKey: 'sk-external-secret' } });
      expect(d.endpoint).toEqual({ url: ext.url, auth: true });
      const ready = await waitFor(d.id, (x) => x.state === 'ready');
      expect(ready.replicaStatus[0]).toMatchObject({ state: 'ready', url: ext.url, pid: null });
      expect(JSON.stringify(ready)).not.toContain('sk-external-secret');
      const audit = await api.get(`/api/v1/audit?target=deployment:${d.id}`);
      expect(JSON.stringify(audit.body)).not.toContain('sk-external-secret');
      await ext.close();
      const down = await waitFor(d.id, (x) => x.state === 'degraded');
      expect(down.error).toMatch(/fetch failed|ECONNREFUSED/);
    } finally {
      await ext.close().catch(() => undefined);
    }
    expectError(await api.post('/api/v1/deployments', { model: `${model}:1.0.0`, environment: 'development', driver: 'external' }), 400, 'invalid_argument');
    expectError(await api.post('/api/v1/deployments', { model: `${model}:1.0.0`, environment: 'development', driver: 'external', endpoint: { url: 'http://u:p@llm.example.com/v1' } }), 400, 'invalid_argument');
  });

  it('refuses what cannot be deployed', async () => {
    const model = `dep-${uid()}/bot`;
    await pushModel(api, model, '1.0.0');
    const body = { model: `${model}:1.0.0`, environment: 'development', args: FAKE_ARGS, replicas: 1 };
    const missing = expectError(await api.post('/api/v1/deployments', { ...body, runtime: 'vllm', args: [] }), 412, 'failed_precondition');
    expect(missing.message).toMatch(/needs vllm, which is not installed/);
    expectError(await api.post('/api/v1/deployments', { ...body, args: [] }), 400, 'invalid_argument');
    expectError(await api.post('/api/v1/deployments', { ...body, args: ['/nonexistent/server', '--port', '{port}'] }), 412, 'failed_precondition');
    expectError(await api.post('/api/v1/deployments', { ...body, kubernetes: { namespace: 'llm' } }), 400, 'invalid_argument');
    expectError(await api.post('/api/v1/deployments', { ...body, environment: 'nowhere' }), 404, 'not_found');
    expectError(await api.post('/api/v1/deployments', { ...body, model: `${model}:9.9.9` }), 404, 'not_found');
    expectError(await api.post('/api/v1/deployments', { ...body, replicas: -1 }), 400, 'invalid_argument');
    expect((await api.post(`/api/v1/models/${encodeURIComponent(model)}/versions`, { version: '2.0.0', files: [{ path: 'w.bin', size: 3, sha256: 'a'.repeat(64) }] })).status).toBe(201);
    expectError(await api.post('/api/v1/deployments', { ...body, model: `${model}:2.0.0` }), 412, 'failed_precondition');
    await pushModel(api, model, '3.0.0');
    expectBody(await api.patch(versionPath(model, '3.0.0'), { state: 'archived' }), 200, VersionResponse);
    expectError(await api.post('/api/v1/deployments', { ...body, model: `${model}:3.0.0` }), 412, 'failed_precondition');
    expectError(await api.get('/api/v1/deployments/dep_nope'), 404, 'not_found');
  });
});

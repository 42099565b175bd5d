/**
 * `steward deploy --driver kubernetes --dry-run` as a user runs it: the real binary against a real
 * server prints the manifests as multi-document YAML (recording nothing); another driver prints
 * the validated spec; bad flags are usage errors (exit 2).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { DeploymentPage } from '../src/contracts/deployments.js';
import { StewardClient } from '../src/sdk/client.js';
import { cliEnv, runCli, type CliEnv } from './helpers/cli.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
let env: CliEnv;

beforeAll(async () => {
  server = await startTestServer('sqlite-fs', { jobPollIntervalMs: 50, eventPollMs: 20 });
  env = cliEnv(server.url, server.token);
  const model = fs.mkdtempSync(path.join(env.home, 'model-'));
  fs.writeFileSync(path.join(model, 'config.json'), '{"arch":"llama"}');
  fs.writeFileSync(path.join(model, 'model.safetensors'), 'weights');
  const r = await runCli(['push', model, '--model', 'acme/bot', '--version', '1.0.0', '--no-progress'], env);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(async () => {
  await server?.stop();
});

describe('steward deploy --dry-run', () => {
  it('driver kubernetes: prints the manifests as multi-document YAML and records nothing', async () => {
    const r = await runCli(
      ['deploy', 'acme/bot:1.0.0', '--env', 'production', '--runtime', 'vllm', '--driver', 'kubernetes', '--k8s-namespace', 'llm', '--gpus', '2', '--memory', '48Gi', '--min-replicas', '1', '--max-replicas', '4', '--registry-secret', 'reg', '--dry-run'],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string; metadata: { namespace: string }; spec: Record<string, unknown> });
    expect(docs.map((d) => d.kind)).toEqual(['Deployment', 'Service', 'HorizontalPodAutoscaler']);
    expect(docs.every((d) => d.metadata.namespace === 'llm')).toBe(true);
    expect(docs[2]!.spec).toMatchObject({ minReplicas: 1, maxReplicas: 4 });
    expect(r.stdout).toContain('nvidia.com/gpu: "2"');
    expect(r.stdout).toContain('name: reg');
    const kserve = await runCli(['deploy', 'acme/bot:1.0.0', '--env', 'production', '--runtime', 'vllm', '--driver', 'kubernetes', '--flavour', 'kserve', '--dry-run'], env);
    expect(kserve.code, kserve.stderr).toBe(0);
    expect(kserve.stdout).toMatch(/^apiVersion: serving\.kserve\.io\/v1beta1\nkind: InferenceService\n/);
    const page = DeploymentPage.parse(await new StewardClient({ url: server.url, token: server.token }).api((t) => t.deployments.listDeployments)({ query: {} }));
    expect(page.items).toEqual([]);
  });

  it('another driver prints the validated spec; bad flags are usage errors; a refusal is exit 1', async () => {
    const r = await runCli(['deploy', 'acme/bot:1.0.0', '--env', 'development', '--runtime', 'builtin', '--dry-run'], env);
    expect(r.code, r.stderr).toBe(0);
    const [spec] = parseAllDocuments(r.stdout).map((d) => d.toJS() as Record<string, unknown>);
    expect(spec).toMatchObject({ model: 'acme/bot:1.0.0', driver: 'local', runtime: 'builtin', replicas: 1 });
    const flavour = await runCli(['deploy', 'acme/bot:1.0.0', '--env', 'development', '--driver', 'kubernetes', '--flavour', 'helm', '--dry-run'], env);
    expect(flavour.code).toBe(2);
    expect(flavour.stderr).toContain('--flavour "helm" must be one of deployment, kserve, inference-pool');
    const half = await runCli(['deploy', 'acme/bot:1.0.0', '--env', 'development', '--driver', 'kubernetes', '--min-replicas', '1', '--dry-run'], env);
    expect(half.code).toBe(2);
    const local = await runCli(['deploy', 'acme/bot:1.0.0', '--env', 'development', '--runtime', 'builtin', '--k8s-namespace', 'llm', '--dry-run'], env);
    expect(local.code).toBe(1);
    expect(local.stderr).toContain('kubernetes is for driver kubernetes');
  });
});

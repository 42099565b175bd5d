/**
 * `steward webhooks|triggers|cost|export` and `steward deploy --gpu-hour-price`, as a user runs
 * them: the real binary against a real server (SQLite + files) and a webhook receiver on
 * loopback. The secret is printed once; a test send says how the endpoint took it (exit 1 when
 * it did not); deliveries list; triggers take conditions in words; cost prints a table; the
 * export writes YAML and a dashboard; bad usage exits 2.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DeploymentResponse } from '../src/contracts/deployments.js';
import { CostReport } from '../src/contracts/gateway.js';
import { CreatedWebhookResponse, DeliveryPage, TriggerPage, TriggerResponse, WebhookPage } from '../src/contracts/notify.js';
import { parseWhere } from '../src/cli/commands/notify.js';
import { StewardClient } from '../src/sdk/client.js';
import { pushModel } from './helpers/evals-fixtures.js';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.js';
import { cliEnv, runCli, type CliEnv } from './helpers/cli.js';
import { apiClient, uid } from './helpers/test-api.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { deadUrl, startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';

let server: TestServer;
let env: CliEnv;
let receiver: WebhookReceiver;
let fake: FakeOpenAI;
let admin: StewardClient;
const made: string[] = [];

beforeAll(async () => {
  server = await startTestServer('sqlite-fs', { jobPollIntervalMs: 50, eventPollMs: 20, deploymentReconcileMs: 100 });
  env = cliEnv(server.url, server.token);
  admin = new StewardClient({ url: server.url, token: server.token });
  receiver = await startWebhookReceiver();
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  for (const id of made) await admin.api((t) => t.deployments.stopDeployment)({ params: { id } }).catch(() => undefined);
  await server?.stop();
  await receiver?.close();
  await fake?.close();
});

async function ok(args: string[]) {
  const r = await runCli(args, env);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}

describe('steward webhooks', () => {
  it('creates one (secret printed once), lists, tests, shows deliveries and removes it', async () => {
    const r = await ok(['webhooks', 'create', '--name', 'oncall', '--endpoint', receiver.url, '--event', 'slo.alert.*', '--event', 'rollout.aborted', '--format', 'slack']);
    const secret = r.stdout.trim();
    expect(secret).toMatch(/^whsec_/);
    expect(r.stderr).toMatch(/the signing secret above is not shown again/);
    const list = WebhookPage.parse(JSON.parse((await ok(['webhooks', 'ls', '--json'])).stdout));
    const h = list.items.find((x) => x.name === 'oncall')!;
    expect(h).toMatchObject({ format: 'slack', events: ['slo.alert.*', 'rollout.aborted'], url: receiver.url });
    const table = await ok(['webhooks', 'ls']);
    expect(table.stdout).toMatch(new RegExp(`${h.id}\\s+oncall\\s+slack\\s+\\*\\s+slo\\.alert\\.\\*,rollout\\.aborted`));
    expect(table.stdout + JSON.stringify(list)).not.toContain(secret);

    const t = await ok(['webhooks', 'test', h.id]);
    expect(t.stdout).toMatch(/succeeded {2}webhook\.test {2}attempts 1 {2}HTTP 204/);
    expect(receiver.received.at(-1)!.json.text).toBe('👋 Test delivery from Steward');
    const deliveries = DeliveryPage.parse(JSON.parse((await ok(['webhooks', 'deliveries', h.id, '--json'])).stdout));
    expect(deliveries.items.map((d) => d.state)).toEqual(['succeeded']);
    expect((await ok(['webhooks', 'deliveries', h.id, '--state', 'failed'])).stdout).not.toContain('webhook.test');

    const dead = CreatedWebhookResponse.parse(JSON.parse((await ok(['webhooks', 'create', '--name', 'dead', '--endpoint', await deadUrl(), '--event', '*', '--json'])).stdout));
    const failed = await runCli(['webhooks', 'test', dead.id], env);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/failed {2}webhook\.test {2}attempts 1 {2}no answer {2}.*(ECONNREFUSED|connect)/);

    expect((await ok(['webhooks', 'rm', h.id])).stdout).toBe(`deleted webhook ${h.id}\n`);
    const gone = await runCli(['webhooks', 'rm', h.id], env);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('not_found');
  });

  it('says what is wrong: an unknown event type (exit 1), bad usage (exit 2)', async () => {
    const bad = await runCli(['webhooks', 'create', '--name', 'x', '--endpoint', receiver.url, '--event', 'version.readyy'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/invalid_argument: events: version\.readyy is not an event type/);
    const meta = await runCli(['webhooks', 'create', '--name', 'x', '--endpoint', 'http://169.254.169.254/', '--event', '*'], env);
    expect(meta.code).toBe(1);
    expect(meta.stderr).toMatch(/cloud metadata address/);
    const fmt = await runCli(['webhooks', 'create', '--name', 'x', '--endpoint', receiver.url, '--event', '*', '--format', 'xml'], env);
    expect(fmt.code).toBe(2);
    expect((await runCli(['webhooks', 'create', '--name', 'x', '--endpoint', receiver.url], env)).code).toBe(2);
    expect((await runCli(['webhooks', 'deliveries', 'whk_x', '--state', 'lost'], env)).code).toBe(2);
  });
});

describe('steward triggers', () => {
  it('parses conditions in words', () => {
    expect(parseWhere('score>0.3')).toEqual({ field: 'score', op: 'gt', value: 0.3 });
    expect(parseWhere('score >= 1')).toEqual({ field: 'score', op: 'gte', value: 1 });
    expect(parseWhere('passed=false')).toEqual({ field: 'passed', op: 'eq', value: false });
    expect(parseWhere('metric!=input_length')).toEqual({ field: 'metric', op: 'ne', value: 'input_length' });
    expect(parseWhere('drift.value<=2')).toEqual({ field: 'drift.value', op: 'lte', value: 2 });
    expect(() => parseWhere('score')).toThrow(/must look like/);
    expect(() => parseWhere('>3')).toThrow(/must look like/);
  });

  it('creates event and scheduled triggers, lists and removes them', async () => {
    const h = CreatedWebhookResponse.parse(JSON.parse((await ok(['webhooks', 'create', '--name', 'retrain', '--endpoint', receiver.url, '--event', 'rollout.aborted', '--json'])).stdout));
    const model = `t${uid()}/chat`;
    const ev = await ok(['triggers', 'create', '--name', 'on-drift', '--model', model, '--webhook', h.id, '--on-event', 'monitoring.drift.detected', '--where', 'metrics.psi>0.3']);
    expect(ev.stdout).toMatch(new RegExp(`fires webhook ${h.id} for ${model} on monitoring\\.drift\\.detected where metrics\\.psi gt 0\\.3`));
    const sched = TriggerResponse.parse(JSON.parse((await ok(['triggers', 'create', '--name', 'weekly', '--model', model, '--webhook', h.id, '--schedule', '0 3 * * 1', '--json'])).stdout));
    expect(new Date(sched.nextAt!).getUTCDay()).toBe(1);
    const list = TriggerPage.parse(JSON.parse((await ok(['triggers', 'ls', '--model', model, '--json'])).stdout));
    expect(list.items.map((t) => t.name).sort()).toEqual(['on-drift', 'weekly']);
    expect((await ok(['triggers', 'ls'])).stdout).toMatch(/weekly\s+\S+\s+cron 0 3 \* \* 1 \(UTC\)/);
    const busy = await runCli(['webhooks', 'rm', h.id], env);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/conflict: .*fired by trigger\(s\)/);
    for (const t of list.items) await ok(['triggers', 'rm', t.id]);
    await ok(['webhooks', 'rm', h.id]);
    const two = await runCli(['triggers', 'create', '--name', 'x', '--model', model, '--webhook', h.id, '--every', '1d', '--schedule', '0 3 * * *'], env);
    expect(two.code).toBe(2);
    expect(two.stderr).toContain('exactly one of --on-event, --schedule, --every');
    const cron = await runCli(['triggers', 'create', '--name', 'x', '--model', model, '--webhook', h.id, '--schedule', '0 3 * *'], env);
    expect(cron.code).toBe(1);
    expect(cron.stderr).toMatch(/five fields/);
  });
});

describe('steward cost and steward export', () => {
  it('deploys with a GPU-hour price and reports its cost', async () => {
    const model = `g${uid()}/chat`;
    await pushModel(apiClient(server), model, '1.0.0');
    const r = await ok(['deploy', `${model}:1.0.0`, '--env', 'staging', '--driver', 'external', '--endpoint', fake.url, '--gpu-hour-price', '3600', '--json']);
    const d = DeploymentResponse.parse(JSON.parse(r.stdout));
    made.push(d.id);
    expect(d.gpuHourUsd).toBe(3600);
    expect((await runCli(['deploy', `${model}:1.0.0`, '--env', 'staging', '--gpu-hour-price', 'lots'], env)).stderr).toMatch(/--gpu-hour-price "lots" must be a price ≥ 0 \(USD per GPU-hour\)/);
    await new Promise((res) => setTimeout(res, 200));
    const report = CostReport.parse(JSON.parse((await ok(['cost', '--by', 'deployment', '--model', model, '--json'])).stdout));
    const mine = report.items.find((x) => x.group === d.id)!;
    expect(mine.gpuCostUsd).toBeGreaterThan(0);
    const table = await ok(['cost', '--by', 'model', '--since', '1h']);
    expect(table.stdout).toMatch(/MODEL\s+REQUESTS\s+IN TOKENS\s+OUT TOKENS\s+TOKEN COST\s+GPU COST\s+COST\s+COST\/1M TOK/);
    expect(table.stdout).toContain(model);
    expect(table.stderr).toMatch(/^cost from \S+ to \S+/);
    expect((await runCli(['cost', '--by', 'version'], env)).code).toBe(2);
  });

  it('exports rules and a dashboard, to standard output or a file', async () => {
    const model = `x${uid()}/chat`;
    await pushModel(apiClient(server), model, '1.0.0');
    const crd = parse((await ok(['export', 'prometheus-rules', model, '--env', 'production'])).stdout) as { kind: string; spec: { groups: { rules: { alert?: string }[] }[] } };
    expect(crd.kind).toBe('PrometheusRule');
    expect(crd.spec.groups.flatMap((g) => g.rules.map((r) => r.alert).filter(Boolean))).toContain('StewardModelHighErrorRate');
    const file = path.join(env.home, 'rules.yml');
    const w = await ok(['export', 'prometheus-rules', model, '--format', 'rules', '--error-rate', '0.1', '--p95-ms', '1500', '-o', file]);
    expect(w.stderr).toBe(`wrote the rules file to ${file}\n`);
    const rules = fs.readFileSync(file, 'utf8');
    expect(rules).toMatch(/^groups:/);
    expect(rules).toContain('> 0.1');
    expect(rules).toContain('> 1.5');
    const dash = JSON.parse((await ok(['export', 'grafana', model])).stdout) as { title: string; panels: unknown[] };
    expect(dash.title).toBe(`Steward: ${model}`);
    expect(dash.panels).toHaveLength(6);
    const missing = await runCli(['export', 'grafana', 'nobody/none'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('not_found');
    expect((await runCli(['export', 'prometheus-rules', model, '--error-rate', '5'], env)).code).toBe(2);
  });
});

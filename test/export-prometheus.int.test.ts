/**
 * The Prometheus and Grafana export against the real Prometheus server of Debian's `prometheus`
 * package: the generated rules pass `promtool check rules` (the plain file and the
 * PrometheusRule's groups), and a Prometheus started here (its own port and data dir, scraping
 * every second) scrapes `steward up`'s /metrics while failing traffic goes through the gateway
 * to a fake upstream, until the error-rate alert fires. Every dashboard query is accepted by the
 * same Prometheus. Without promtool the test installs the package; it skips only when apt-get
 * cannot (said in the skip message).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CreatedTokenResponse } from '../src/contracts/auth.js';
import { DeploymentResponse } from '../src/contracts/deployments.js';
import { GrafanaDashboard, PrometheusRulesResponse } from '../src/contracts/export.js';
import { CreatedKeyResponse } from '../src/contracts/gateway.js';
import { pushModel } from './helpers/evals-fixtures.js';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.js';
import { apiClient, expectBody, expectError, uid, type Api } from './helpers/test-api.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const has = (cmd: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** promtool and prometheus, installed from Debian's package when missing; else why not. */
function ensurePrometheus(): string | null {
  if (has('promtool') && has('prometheus')) return null;
  try {
    execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus'], { stdio: 'ignore', timeout: 300_000 });
  } catch (err) {
    return `Debian's prometheus package is not installed and apt-get could not install it (${(err as Error).message.split('\n')[0]}); install it with apt-get install prometheus`;
  }
  return has('promtool') && has('prometheus') ? null : 'apt-get install prometheus did not provide promtool and prometheus';
}
const missing = ensurePrometheus();
if (missing) console.warn(`skipping the Prometheus export test: ${missing}`);

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const promtool = (...args: string[]) => execFileSync('promtool', args, { encoding: 'utf8' });

describe.skipIf(missing !== null)('Prometheus and Grafana export', () => {
  let server: TestServer;
  let api: Api;
  let upstream: FakeOpenAI;
  let prom: ChildProcess | null = null;
  let promLog = '';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-prom-'));
  const model = `obs${uid()}/chat`;
  let deployment: string | null = null;

  beforeAll(async () => {
    server = await startTestServer('sqlite-fs', { jobPollIntervalMs: 50, eventPollMs: 20, deploymentReconcileMs: 100 });
    api = apiClient(server);
    upstream = await startFakeOpenAI();
    await pushModel(api, model, '1.0.0');
  });
  afterAll(async () => {
    if (prom && prom.exitCode === null) {
      prom.kill('SIGTERM');
      await new Promise((r) => prom!.once('exit', r));
    }
    if (deployment) await api.post(`/api/v1/deployments/${deployment}/stop`);
    await server?.stop();
    await upstream?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const rules = async (query: string) => expectBody(await api.get(`/api/v1/export/prometheus-rules?${query}`), 200, PrometheusRulesResponse);

  it('generates rules promtool accepts, as the plain rules file and as a PrometheusRule', async () => {
    const plain = await rules(`model=${encodeURIComponent(model)}&format=rules`);
    const file = path.join(dir, 'plain.yml');
    fs.writeFileSync(file, plain.yaml);
    expect(promtool('check', 'rules', file)).toMatch(/SUCCESS: 8 rules found/);
    const doc = parse(plain.yaml) as { groups: { rules: { alert?: string; record?: string; expr: string }[] }[] };
    const alerts = doc.groups.flatMap((g) => g.rules.filter((r) => r.alert));
    expect(alerts.map((a) => a.alert)).toEqual(['StewardModelHighErrorRate', 'StewardModelHighP95Latency', 'StewardModelErrorBudgetBurnFast', 'StewardModelErrorBudgetBurnSlow']);
    expect(alerts[0]!.expr).toContain(`steward_gateway_requests_total{model="${model}",status=~"5.."}[5m]`);
    expect(alerts[0]!.expr).toMatch(/> 0\.05$/);
    expect(alerts[1]!.expr).toMatch(/^histogram_quantile\(0\.95, sum by \(le, model, environment\) \(rate\(steward_gateway_request_duration_seconds_bucket\{model="[^"]+"\}\[5m\]\)\)\) > 2$/);

    const crd = await rules(`model=${encodeURIComponent(model)}&env=production`);
    const obj = parse(crd.yaml) as { apiVersion: string; kind: string; metadata: { name: string }; spec: { groups: unknown[] } };
    expect(obj).toMatchObject({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule' });
    expect(obj.metadata.name).toMatch(/^steward-obs[0-9a-f]+-chat-production$/);
    expect(crd.yaml).toContain(`environment="production"`);
    const groups = path.join(dir, 'crd-groups.yml');
    fs.writeFileSync(groups, JSON.stringify({ groups: obj.spec.groups }));
    expect(promtool('check', 'rules', groups)).toMatch(/SUCCESS: 8 rules found/);
  });

  it('refuses an unknown model, bad thresholds, and a token of another namespace', async () => {
    expectError(await api.get('/api/v1/export/prometheus-rules?model=nobody/none'), 404, 'not_found');
    expectError(await api.get('/api/v1/export/grafana?model=nobody/none'), 404, 'not_found');
    expectError(await api.get(`/api/v1/export/prometheus-rules?model=${encodeURIComponent(model)}&errorRate=5`), 400, 'invalid_argument');
    expectError(await api.get(`/api/v1/export/prometheus-rules?model=${encodeURIComponent(model)}&window=5 minutes`), 400, 'invalid_argument');
    expectError(await api.get(`/api/v1/export/prometheus-rules?model=${encodeURIComponent(model)}&env=Prod!`), 400, 'invalid_argument');
    expectError(await api.get('/api/v1/export/prometheus-rules'), 400, 'invalid_argument');
    const other = expectBody(await api.post('/api/v1/tokens', { name: `v-${uid()}`, role: 'viewer', namespaces: ['elsewhere'] }), 201, CreatedTokenResponse).token;
    expectError(await api.get(`/api/v1/export/grafana?model=${encodeURIComponent(model)}`, { token: other }), 403, 'permission_denied');
  });

  it("fires the error-rate alert in a real Prometheus scraping steward's gateway, and accepts every dashboard query", async () => {
    // The gateway serves development's deployment of the model: an upstream that is ready (its /models answers) and answers every chat with a 500.
    const d = expectBody(await api.post('/api/v1/deployments', { model: `${model}:1.0.0`, environment: 'development', driver: 'external', endpoint: { url: upstream.url } }), 201, DeploymentResponse);
    deployment = d.id;
    await waitFor('deployment ready', async () => expectBody(await api.get(`/api/v1/deployments/${d.id}`), 200, DeploymentResponse).state === 'ready');
    const key = expectBody(await api.post('/api/v1/keys', { name: 'obs-app', defaultEnvironment: 'development' }), 201, CreatedKeyResponse);
    const send = () =>
      fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: '[[fail:100000000]] hi' }] }) });
    await waitFor('the gateway to route the model', async () => (await send()).status >= 500);

    // Short windows so the test is quick; the rules are the ones users get with the defaults otherwise.
    const r = await rules(`model=${encodeURIComponent(model)}&format=rules&window=30s&for=2s`);
    fs.writeFileSync(path.join(dir, 'rules.yml'), r.yaml);
    const port = await freePort();
    const target = new URL(server.url).host;
    fs.writeFileSync(
      path.join(dir, 'prometheus.yml'),
      ['global:', '  scrape_interval: 1s', '  evaluation_interval: 1s', 'rule_files:', '  - rules.yml', 'scrape_configs:', '  - job_name: steward', '    metrics_path: /metrics', '    static_configs:', `      - targets: ['${target}']`, ''].join('\n'),
    );
    expect(promtool('check', 'config', path.join(dir, 'prometheus.yml'))).toMatch(/SUCCESS/);
    prom = spawn('prometheus', [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    prom.stdout!.on('data', (b: Buffer) => (promLog += b.toString()));
    prom.stderr!.on('data', (b: Buffer) => (promLog += b.toString()));
    const promUrl = `http://127.0.0.1:${port}`;
    await waitFor('prometheus ready', async () => (await fetch(`${promUrl}/-/ready`)).status === 200);

    // Failing traffic, steadily, until the alert fires (bounded).
    let sent = 0;
    const traffic = setInterval(() => {
      sent++;
      void send().catch(() => undefined);
    }, 100);
    try {
      const started = Date.now();
      const alert = await waitFor(
        'StewardModelHighErrorRate firing',
        async () => {
          const body = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string>; state: string; value: string }[] } };
          return body.data.alerts.find((a) => a.labels.alertname === 'StewardModelHighErrorRate' && a.state === 'firing');
        },
        60_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; prometheus said: ${promLog.slice(-2000)}`);
      });
      console.log(`error-rate alert firing in Prometheus ${((Date.now() - started) / 1000).toFixed(1)} s after it started (scrape and evaluation every 1 s, window 30s, for 2s; ${sent} requests sent)`);
      expect(alert.labels).toMatchObject({ model, environment: 'development', severity: 'page' });
      expect(Number(alert.value)).toBe(1);
      const target0 = (await (await fetch(`${promUrl}/api/v1/targets`)).json()) as { data: { activeTargets: { health: string }[] } };
      expect(target0.data.activeTargets[0]!.health).toBe('up');
    } finally {
      clearInterval(traffic);
    }

    // The dashboard's queries, with Grafana's variables filled in, are PromQL this Prometheus runs and that finds the series.
    const dash = expectBody(await api.get(`/api/v1/export/grafana?model=${encodeURIComponent(model)}`), 200, GrafanaDashboard) as { title: string; panels: { title: string; targets: { expr: string }[] }[] };
    expect(dash.title).toBe(`Steward: ${model}`);
    expect(dash.panels.map((p) => p.title)).toEqual(['Requests per second', 'Error rate (5xx)', 'Latency p50 / p95', 'Time to first token p50 / p95', 'Tokens per second', 'Cost per hour (USD)']);
    for (const p of dash.panels) {
      for (const t of p.targets) {
        const q = t.expr.replaceAll('$__rate_interval', '30s').replaceAll('$environment', '.*');
        const res = (await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { status: string; error?: string; data: { result: unknown[] } };
        expect(res.status, `${p.title}: ${q}: ${res.error ?? ''}`).toBe('success');
        if (p.title === 'Requests per second' || p.title === 'Error rate (5xx)') expect(res.data.result.length, `${p.title} finds the model's series`).toBeGreaterThan(0);
      }
    }
  }, 120_000);
});

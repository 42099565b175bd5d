/**
 * `steward metrics` and `steward slo` as a user runs them: the real binary against a real server
 * (SQLite + files), with usage sent to the ingest endpoint as a gateway sends it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageIngestResponse, type UsageRecord } from '../src/contracts/gateway.js';
import { MetricsResponse, SloList, SloResponse } from '../src/contracts/monitoring.js';
import { cliEnv, runCli, type CliEnv } from './helpers/cli.js';
import { apiClient, expectBody, uid } from './helpers/test-api.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
let env: CliEnv;
const model = `acme/cli${uid()}`;

beforeAll(async () => {
  server = await startTestServer('sqlite-fs');
  env = cliEnv(server.url, server.token);
  const api = apiClient(server);
  const now = Date.now();
  const records: UsageRecord[] = Array.from({ length: 30 }, (_, i) => ({
    upstreamErrors: 0,
    at: new Date(now - (i % 3) * 120_000).toISOString(),
    keyId: null,
    namespace: 'acme',
    model,
    version: '1.0.0',
    deployment: 'dep_1',
    environment: 'production',
    endpoint: 'chat',
    status: i % 10 === 0 ? 502 : 200,
    stream: true,
    shadow: false,
    cached: false,
    latencyMs: 300,
    ttftMs: 80,
    inputTokens: 50,
    outputTokens: 10,
    costUsd: 0.0001,
  }));
  expectBody(await api.post('/api/v1/gateway/usage', { gateway: 'gw-cli', batch: 1, records }), 200, UsageIngestResponse);
});
afterAll(async () => {
  await server?.stop();
});

async function ok(args: string[]) {
  const r = await runCli(args, env);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}

describe('steward metrics', () => {
  it('prints totals with sparklines, and the API document with --json', async () => {
    const r = await ok(['metrics', model, '--env', 'production', '--since', '10m', '--step', '1m']);
    expect(r.stdout).toContain(`${model} in production`);
    expect(r.stdout).toMatch(/requests\s+30\s+[▁▂▃▄▅▆▇█]{10,11}/);
    expect(r.stdout).toMatch(/error rate\s+10\.00%/);
    expect(r.stdout).toContain('upstream 3');
    const j = MetricsResponse.parse(JSON.parse((await ok(['metrics', model, '--since', '10m', '--step', '1m', '--json'])).stdout));
    expect(j.totals.requests).toBe(30);
    expect(j.points.filter((p) => p.requests === 0).length).toBeGreaterThan(0);
  });

  it('refuses bad flags with exit 2 and bad queries with exit 1', async () => {
    expect((await runCli(['metrics', model, '--since', 'yesterday'], env)).code).toBe(2);
    expect((await runCli(['metrics', model, '--step', 'fast'], env)).code).toBe(2);
    const r = await runCli(['metrics', model, '--step', '90s'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/invalid_argument.*whole number of minutes/);
  });
});

describe('steward slo', () => {
  it('sets, lists, shows and removes an SLO', async () => {
    const set = SloResponse.parse(JSON.parse((await ok(['slo', 'set', model, '--env', 'production', '--availability', '0.995', '--latency', '2000ms@99', '--json'])).stdout));
    expect(set).toMatchObject({ availability: 0.995, latency: { thresholdMs: 2000, percent: 99 }, window: '30d' });
    expect(set.status[0]).toMatchObject({ slo: 'availability', requests: 30, sli: 0.9 });
    const shown = await ok(['slo', 'show', model, '--env', 'production']);
    expect(shown.stdout).toContain('availability ≥ 99.500%');
    expect(shown.stdout).toContain('SLI 90.000% over 30 requests');
    expect(shown.stdout).toMatch(/burn 1h\/5m > 14\.4×/);
    const ls = await ok(['slo', 'ls', '--model', model]);
    expect(ls.stdout).toMatch(/MODEL\s+ENV\s+SLO/);
    expect(ls.stdout).toContain('latency');
    expect(SloList.parse(JSON.parse((await ok(['slo', 'ls', '--json'])).stdout)).items.map((s) => s.model)).toContain(model);
    expect((await runCli(['slo', 'set', model, '--env', 'production'], env)).code).toBe(2);
    expect((await runCli(['slo', 'set', model, '--env', 'production', '--latency', 'fast'], env)).code).toBe(2);
    await ok(['slo', 'rm', model, '--env', 'production']);
    const gone = await runCli(['slo', 'show', model, '--env', 'production'], env);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('not_found');
  });
});

/**
 * `steward keys|usage|traffic` and the gateway flags of `steward deploy`, as a user runs them:
 * the real binary against a real server (SQLite + files). The key's secret is printed once with
 * the OpenAI variables to use it; usage prints a table; traffic set/show/clear round-trips.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeploymentResponse } from '../src/contracts/deployments.js';
import { CreatedKeyResponse, KeyPage, KeyResponse, TrafficResponse, UsageReport } from '../src/contracts/gateway.js';
import { StewardClient } from '../src/sdk/client.js';
import { sinceTime } from '../src/cli/commands/keys.js';
import { pushModel } from './helpers/evals-fixtures.js';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.js';
import { cliEnv, runCli, type CliEnv } from './helpers/cli.js';
import { apiClient } from './helpers/test-api.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
let env: CliEnv;
let fake: FakeOpenAI;
let admin: StewardClient;
const made: string[] = [];

beforeAll(async () => {
  server = await startTestServer('sqlite-fs', { jobPollIntervalMs: 50, eventPollMs: 20, deploymentReconcileMs: 100 });
  env = cliEnv(server.url, server.token);
  admin = new StewardClient({ url: server.url, token: server.token });
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  for (const id of made) await admin.api((t) => t.deployments.stopDeployment)({ params: { id } }).catch(() => undefined);
  await server?.stop();
  await fake?.close();
});

async function ok(args: string[]) {
  const r = await runCli(args, env);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}

describe('steward keys', () => {
  it('creates a key, printing its secret once with how to use it; lists, shows and revokes it', async () => {
    const r = await ok(['keys', 'create', '--name', 'support-bot', '--namespace', 'acme', '--model', 'acme/*', '--rpm', '60', '--budget', '2.5', '--expires', '30d']);
    const secret = r.stdout.trim();
    expect(secret).toMatch(/^sk-stw-/);
    expect(r.stderr).toContain(`OPENAI_BASE_URL=${server.url}/v1 OPENAI_API_KEY=${secret}`);
    const list = KeyPage.parse(JSON.parse((await ok(['keys', 'ls', '--json'])).stdout));
    const k = list.items.find((x) => x.name === 'support-bot')!;
    expect(k).toMatchObject({ namespace: 'acme', models: ['acme/*'], rpm: 60, budgetUsd: 2.5, revokedAt: null });
    const table = await ok(['keys', 'ls']);
    expect(table.stdout).toMatch(new RegExp(`${k.id}\\s+support-bot\\s+acme\\s+acme/\\*\\s+production\\s+60`));
    expect(table.stdout).not.toContain(secret);
    const show = await ok(['keys', 'show', k.id]);
    expect(show.stdout).toContain('budget       $0.0000 spent of $2.50');
    expect(show.stdout).not.toContain(secret);
    const revoked = KeyResponse.parse(JSON.parse((await ok(['keys', 'revoke', k.id, '--json'])).stdout));
    expect(revoked.revokedAt).not.toBeNull();
    const again = await runCli(['keys', 'revoke', k.id], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('conflict');
    expect((await ok(['keys', 'ls'])).stdout).not.toContain(k.id);
    expect((await ok(['keys', 'ls', '--all'])).stdout).toContain(k.id);
    const json = CreatedKeyResponse.parse(JSON.parse((await ok(['keys', 'create', '--name', 'j', '--json'])).stdout));
    expect(json.key).toMatch(/^sk-stw-/);
  });

  it('refuses bad usage (exit 2) and bad input (exit 1, the error code)', async () => {
    expect((await runCli(['keys', 'create', '--name', 'x', '--rpm', 'lots'], env)).code).toBe(2);
    expect((await runCli(['keys', 'create'], env)).code).toBe(2);
    const env404 = await runCli(['keys', 'create', '--name', 'x', '--env', 'nowhere'], env);
    expect(env404.code).toBe(1);
    expect(env404.stderr).toMatch(/invalid_argument.*nowhere.*known/s);
    const bad = await runCli(['keys', 'create', '--name', 'bad name'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('invalid_argument');
  });
});

describe('steward deploy pricing, steward traffic', () => {
  it('deploys with prices and an upstream model name, then sets, shows and clears a split', async () => {
    const api = apiClient(server);
    await pushModel(api, 'acme/bot', '1.0.0');
    const deploy = async (extra: string[]) => {
      const d = DeploymentResponse.parse(JSON.parse((await ok(['deploy', 'acme/bot:1.0.0', '--env', 'development', '--driver', 'external', '--endpoint', fake.url, '--json', ...extra])).stdout));
      made.push(d.id);
      return d;
    };
    const a = await deploy(['--price-in', '0.5', '--price-out', '1.5', '--endpoint-model', 'fake-model']);
    expect(a.pricing).toEqual({ inputPerMTok: 0.5, outputPerMTok: 1.5 });
    expect(a.endpoint).toEqual({ url: fake.url, auth: false, model: 'fake-model' });
    const b = await deploy([]);
    expect(b.pricing).toBeNull();
    expect((await runCli(['deploy', 'acme/bot:1.0.0', '--env', 'development', '--driver', 'external', '--endpoint', fake.url, '--price-in', '1'], env)).code).toBe(2);
    expect((await runCli(['deploy', 'acme/bot:1.0.0', '--env', 'development', '--price-in', '-1', '--price-out', '1'], env)).code).toBe(2);

    const set = await ok(['traffic', 'set', 'acme/bot', '--env', 'development', '--arm', `${a.id}=90`, '--arm', `${b.id}=10`, '--sticky', 'header:x-user-id', '--shadow', `${b.id}=5`, '--fallback', 'acme/other']);
    expect(set.stdout).toMatch(new RegExp(`${a.id}\\s+weight\\s+90\\s+90.0%`));
    expect(set.stdout).toContain(`shadow     5% to ${b.id}`);
    const shown = TrafficResponse.parse(JSON.parse((await ok(['traffic', 'show', 'acme/bot', '--env', 'development', '--json'])).stdout));
    expect(shown).toMatchObject({ arms: [{ deployment: a.id, weight: 90 }, { deployment: b.id, weight: 10 }], sticky: 'header:x-user-id', shadow: { deployment: b.id, percent: 5 }, fallbacks: ['acme/other'] });
    const unknown = await runCli(['traffic', 'set', 'acme/bot', '--env', 'development', '--arm', 'dep_nope=1'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/failed_precondition.*dep_nope/s);
    expect((await runCli(['traffic', 'set', 'acme/bot', '--env', 'development', '--arm', 'no-weight'], env)).code).toBe(2);
    expect((await ok(['traffic', 'clear', 'acme/bot', '--env', 'development'])).stdout).toContain('cleared');
    const gone = await runCli(['traffic', 'show', 'acme/bot', '--env', 'development'], env);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('not_found');
  });
});

describe('steward usage', () => {
  it('prints usage grouped as asked, as a table and as JSON', async () => {
    const gw = new StewardClient({ url: server.url, token: (await admin.createToken({ name: 'gw', role: 'gateway' })).token });
    const at = new Date().toISOString();
    const rec = (model: string, version: string, costUsd: number, status = 200) => ({
      at, keyId: 'key_x', namespace: 'acme', model, version, deployment: 'dep_1', environment: 'production', endpoint: 'chat' as const,
      status, stream: false, latencyMs: 12, ttftMs: null, inputTokens: 10, outputTokens: 20, costUsd,
    });
    await gw.api((t) => t.gateway.ingestUsage)({ body: { gateway: 'g1', batch: 1, records: [rec('acme/bot', '1.0.0', 0.5), rec('acme/bot', '2.0.0', 0.25, 502), rec('acme/chat', '1.0.0', 2)] } });
    const table = await ok(['usage']);
    expect(table.stdout).toMatch(/MODEL\s+REQUESTS\s+ERRORS\s+IN TOKENS\s+OUT TOKENS\s+COST/);
    expect(table.stdout).toMatch(/acme\/chat\s+1\s+0\s+10\s+20\s+\$2\.00/);
    expect(table.stdout).toMatch(/acme\/bot\s+2\s+1\s+20\s+40\s+\$0\.7500/);
    const byVersion = UsageReport.parse(JSON.parse((await ok(['usage', '--by', 'version', '--model', 'acme/bot', '--json'])).stdout));
    expect(byVersion.items.map((r) => r.group)).toEqual(['acme/bot@1.0.0', 'acme/bot@2.0.0']);
    expect((await ok(['usage', '--by', 'key', '--key', 'key_x'])).stdout).toMatch(/key_x\s+3/);
    expect((await ok(['usage', '--since', '1s', '--until', '2030-01-01T00:00:00Z', '--model', 'nothing'])).stdout.trim().split('\n')).toHaveLength(1);
    expect((await runCli(['usage', '--by', 'colour'], env)).code).toBe(2);
    expect((await runCli(['usage', '--since', 'last tuesday'], env)).code).toBe(2);
  });

  it('reads --since as a duration back from now or as a time', () => {
    const now = Date.parse('2025-06-01T12:00:00Z');
    expect(sinceTime('--since', '24h', now)).toBe('2025-05-31T12:00:00.000Z');
    expect(sinceTime('--since', '2w', now)).toBe('2025-05-18T12:00:00.000Z');
    expect(sinceTime('--since', '2025-01-31T00:00:00Z', now)).toBe('2025-01-31T00:00:00.000Z');
    expect(() => sinceTime('--since', 'soon', now)).toThrow(/--since/);
  });
});

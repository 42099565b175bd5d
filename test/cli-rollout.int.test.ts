/**
 * `steward rollout` as a user runs it: the real binary against a real server (SQLite + files)
 * with fake upstreams. A canary followed with --wait to success; an aborted one exits 1; bad
 * weights are the server's 400 (exit 1), a malformed flag is bad usage (exit 2); listings have --json.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RolloutDetail, RolloutPage, RolloutResponse } from '../src/contracts/rollouts.js';
import { cliEnv, runCli, type CliEnv } from './helpers/cli.js';
import { load, pointerOf, stage, type Stage } from './helpers/rollout-fixtures.js';
import { apiClient, type Api } from './helpers/test-api.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
let api: Api;
let env: CliEnv;
const stages: Stage[] = [];

beforeAll(async () => {
  server = await startTestServer('sqlite-fs', { jobPollIntervalMs: 50, eventPollMs: 20, deploymentReconcileMs: 100 });
  api = apiClient(server);
  env = cliEnv(server.url, server.token);
});
afterAll(async () => {
  for (const s of stages) await s.close();
  await server?.stop();
});

describe('steward rollout', () => {
  it('starts a canary and follows it with --wait to success', async () => {
    const s = await stage(api);
    stages.push(s);
    const r = await runCli(['rollout', 'start', `${s.model}:2.0.0`, '--env', s.env, '--strategy', 'canary', '--steps', '50,100', '--pause', '1s', '--analysis', 'none', '--reason', 'cli test', '--wait'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1\.0\.0 → 2\.0\.0 in .* canary {2}SUCCEEDED/);
    expect(r.stderr).toMatch(/step 1\/2 \(traffic\): 50% of traffic on the candidate/);
    expect(r.stdout).toMatch(/succeeded: .* runs .*:2\.0\.0/);
    expect(await pointerOf(api, s.model, s.env)).toBe('2.0.0');

    const ls = await runCli(['rollout', 'status', '--model', s.model, '--json'], env);
    expect(ls.code, ls.stderr).toBe(0);
    const page = RolloutPage.parse(JSON.parse(ls.stdout));
    expect(page.items).toHaveLength(1);
    const one = await runCli(['rollout', 'status', page.items[0]!.id, '--json'], env);
    expect(RolloutDetail.parse(JSON.parse(one.stdout)).timeline.length).toBeGreaterThanOrEqual(4);
    const table = await runCli(['rollout', 'status', '--env', s.env], env);
    expect(table.stdout).toMatch(/canary\s+2\/2\s+succeeded/);
  });

  it('promote --wait into an environment that rolls out follows the rollout to completion', async () => {
    const s = await stage(api, { policy: { rollout: { strategy: 'canary', steps: [50, 100], pause: '1s', analysis: { enabled: false } } } });
    stages.push(s);
    const r = await runCli(['promote', `${s.model}:2.0.0`, '--to', s.env, '--wait'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/is rolling out: steward rollout status --model/);
    expect(r.stdout).toMatch(/COMPLETED/);
    expect(await pointerOf(api, s.model, s.env)).toBe('2.0.0');
  });

  it('pauses, resumes and aborts; an aborted rollout exits 1 with --wait, bad input is refused', async () => {
    const s = await stage(api);
    stages.push(s);
    const bad = await runCli(['rollout', 'start', `${s.model}:2.0.0`, '--env', s.env, '--strategy', 'ab', '--weights', '90,20'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/invalid_argument.*sum to 110/s);
    const usage = await runCli(['rollout', 'start', `${s.model}:2.0.0`, '--env', s.env, '--analysis', 'error-rate>0.05'], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--analysis: error-rate takes "<"/);
    const started = await runCli(['rollout', 'start', `${s.model}:2.0.0`, '--env', s.env, '--strategy', 'canary', '--pause', '5m', '--analysis', 'error-rate<0.05,p95<2000,min-requests>10', '--json'], env);
    expect(started.code, started.stderr).toBe(0);
    const ro = RolloutResponse.parse(JSON.parse(started.stdout));
    expect(ro.spec).toMatchObject({ analysis: { maxErrorRate: 0.05, maxP95LatencyMs: 2000, minRequests: 10 } });
    const overlap = await runCli(['rollout', 'start', `${s.model}:2.0.0`, '--env', s.env, '--strategy', 'canary'], env);
    expect(overlap.code).toBe(1);
    expect(overlap.stderr).toContain(ro.id);
    const paused = await runCli(['rollout', 'pause', ro.id, '--reason', 'lunch'], env);
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toMatch(/PAUSED[\s\S]*reason {5}lunch/);
    expect((await runCli(['rollout', 'resume', ro.id, '--json'], env)).code).toBe(0);
    const aborted = await runCli(['rollout', 'abort', ro.id, '--reason', 'not today'], env);
    expect(aborted.code, aborted.stderr).toBe(0);
    expect(aborted.stdout).toMatch(/ABORTED[\s\S]*not today/);
    const again = await runCli(['rollout', 'abort', ro.id], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/conflict/);
    expect(await pointerOf(api, s.model, s.env)).toBe('1.0.0');

    // --wait on a rollout the analysis aborts (a candidate failing half its requests under load): exit 1.
    s.canary.setFailRate(0.5);
    const gen = load(server.url, s.key, s.model, 30);
    try {
      const failing = await runCli(['rollout', 'start', `${s.model}:2.0.0`, '--env', s.env, '--strategy', 'canary', '--steps', '50,100', '--pause', '1m', '--analysis', 'min-requests>5', '--wait'], env);
      expect(failing.code, failing.stderr).toBe(1);
      expect(failing.stdout).toMatch(/ABORTED[\s\S]*analysis failed at step 1: error-rate/);
      expect(failing.stderr).toMatch(/analysis +analysis fail/);
    } finally {
      await gen.stop();
    }
  });
});

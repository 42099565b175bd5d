// Rollouts through HTTP on both backends: a canary to 100% with the pointer moved, an automatic
// rollback on a failed analysis that fails the promotion with the evidence, blue-green, an
// inconclusive step (no traffic) that pauses, overlapping rollouts, bad weights, abort racing
// a step transition, pause / resume / promote.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditPage } from '../src/contracts/audit.js';
import { DeploymentResponse } from '../src/contracts/deployments.js';
import { TrafficResponse } from '../src/contracts/gateway.js';
import { EnvironmentResponse, PromotionPage, PromotionResponse } from '../src/contracts/promotions.js';
import { RolloutPage, RolloutResponse } from '../src/contracts/rollouts.js';
import { pushModel } from './helpers/evals-fixtures.js';
import { load, pointerOf, rolloutOf, stage, waitFor, waitRollout, type Stage } from './helpers/rollout-fixtures.js';
import { BACKENDS } from './helpers/test-server.js';
import { expectBody, expectError, serveSuite, uid, type Api, type ApiResponse } from './helpers/test-api.js';
import type { TestServer } from './helpers/test-server.js';

const FAKE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'helpers/fake-openai-main.ts');
const FAKE_ARGS = [process.execPath, '--import', 'tsx', FAKE, '--port', '{port}'];

/**
 * Fast analysis for tests: a verdict from 10 requests, every 0.3 s, over the last 5 s. Steps that
 * must pass hold 4 s: usage arrives in 1 s batches, and a loaded machine sends fewer requests.
 */
const FAST = { minRequests: 10, intervalSeconds: 0.3, windowSeconds: 5 };

describe.each(BACKENDS)('rollouts (%s)', (backend) => {
  let server: TestServer;
  let api: Api;
  serveSuite(backend, (s, a) => ((server = s), (api = a)), { jobPollIntervalMs: 50, eventPollMs: 20, deploymentReconcileMs: 100 });
  const stages: Stage[] = [];
  afterAll(async () => {
    for (const s of stages) await s.close();
  });
  const traffic = async (s: Stage) => expectBody(await api.get(`/api/v1/traffic/${encodeURIComponent(s.model)}/${s.env}`), 200, TrafficResponse);
  const start = async (s: Stage, spec: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<ApiResponse> =>
    api.post('/api/v1/rollouts', { model: `${s.model}:2.0.0`, environment: s.env, spec, ...extra });
  const setup = async (opts: Parameters<typeof stage>[1] = {}) => {
    const s = await stage(api, opts);
    stages.push(s);
    return s;
  };

  it('takes a canary through its steps to 100% under traffic, moves the pointer and retires the stable deployment', async () => {
    const s = await setup();
    const gen = load(server.url, s.key, s.model, 40);
    try {
      const r = expectBody(await start(s, { strategy: 'canary', steps: [50, 100], pause: 4, analysis: FAST }), 201, RolloutResponse);
      expect(r).toMatchObject({ strategy: 'canary', state: 'pending', stable: { version: '1.0.0', deployment: s.stableDeployment }, candidate: { version: '2.0.0', deployment: s.candidateDeployment, created: false } });
      const mid = await waitRollout(api, r.id, (x) => x.step === 0 && x.state === 'running');
      expect(mid.stepStartedAt).not.toBeNull();
      expect((await traffic(s)).arms).toEqual([{ deployment: s.stableDeployment, weight: 50 }, { deployment: s.candidateDeployment, weight: 50 }]);
      const done = await waitRollout(api, r.id, (x) => x.state !== 'running' && x.state !== 'pending');
      expect(done.state, done.reason ?? '').toBe('succeeded');
      // Every step was analysed and passed on real traffic.
      const analyses = done.timeline.filter((t) => t.kind === 'analysis');
      expect(analyses.length).toBeGreaterThanOrEqual(2);
      expect(done.lastAnalysis?.verdict).toBe('pass');
      expect(done.lastAnalysis!.candidate.requests).toBeGreaterThanOrEqual(10);
      expect(done.timeline.filter((t) => t.kind === 'step').map((t) => t.detail.weight)).toEqual([50, 100]);
    } finally {
      await gen.stop();
    }
    expect(await pointerOf(api, s.model, s.env)).toBe('2.0.0');
    // The stable deployment is stopped; the operator's split (made before) now sends everything to the candidate.
    await waitFor('stable stopped', async () => expectBody(await api.get(`/api/v1/deployments/${s.stableDeployment}`), 200, DeploymentResponse).state === 'stopped');
    expect((await traffic(s)).arms).toEqual([{ deployment: s.candidateDeployment, weight: 100 }]);
    expect(s.canary.requests).toBeGreaterThan(0);
    // The move is a rollout's: the candidate deployment keeps serving 2.0.0 (it was not rolled in place).
    const history = (await api.get(`/api/v1/pointers/history?model=${encodeURIComponent(s.model)}&environment=${s.env}`)).body as { items: { kind: string; version: string }[] };
    expect(history.items[0]).toMatchObject({ kind: 'rollout', version: '2.0.0' });
    const audit = AuditPage.parse((await api.get(`/api/v1/audit?target=${encodeURIComponent(`rollout:${(await lastRollout(s)).id}`)}&order=asc`)).body);
    expect(audit.items.map((e) => e.action)).toEqual(['rollout.start', 'rollout.succeed']);
  });

  const lastRollout = async (s: Stage) => expectBody(await api.get(`/api/v1/rollouts?model=${encodeURIComponent(s.model)}`), 200, RolloutPage).items[0]!;

  it('rolls back at once when the analysis fails, with the evidence, and fails the promotion that started it', async () => {
    // The environment's policy asks for a canary: the promotion hands over to a rollout.
    const s = await setup({ policy: { rollout: { strategy: 'canary', steps: [25, 100], pause: 30, analysis: FAST } } });
    const gen = load(server.url, s.key, s.model, 40);
    try {
      const p = expectBody(await api.post('/api/v1/promotions', { model: `${s.model}:2.0.0`, to: s.env }), 201, PromotionResponse);
      expect(p.state).toBe('rolling_out');
      const r = await waitFor('the rollout of the promotion', async () => expectBody(await api.get(`/api/v1/rollouts?model=${encodeURIComponent(s.model)}`), 200, RolloutPage).items[0]);
      expect(r.promotion).toBe(p.id);
      // The canary takes traffic (and is analysed) before the fault.
      await waitRollout(api, r.id, (x) => x.step === 0 && (x.lastAnalysis?.candidate.requests ?? 0) > 0);
      s.canary.setFailRate(0.5);
      const done = await waitRollout(api, r.id, (x) => x.state !== 'running');
      expect(done.state).toBe('aborted');
      expect(done.reason).toMatch(/analysis failed at step 1: error-rate/);
      expect(done.lastAnalysis?.verdict).toBe('fail');
      expect(done.lastAnalysis!.candidate.errorRate!).toBeGreaterThan(0.05);
      // Traffic is entirely on stable, in the same commit as the abort.
      expect((await traffic(s)).arms).toEqual([{ deployment: s.stableDeployment, weight: 100 }]);
      const promo = expectBody(await api.get(`/api/v1/promotions/${p.id}`), 200, PromotionResponse);
      expect(promo.state).toBe('failed');
      expect(promo.reason).toMatch(/rollout .* aborted: analysis failed/);
      const gate = promo.gates.find((g) => g.name === 'rollout');
      expect(gate?.status).toBe('failed');
      expect((gate?.evidence.analysis as { candidate: { errors: number } }).candidate.errors).toBeGreaterThan(0);
      expect(await pointerOf(api, s.model, s.env)).toBe('1.0.0');
      const audit = AuditPage.parse((await api.get(`/api/v1/audit?target=${encodeURIComponent(`rollout:${r.id}`)}&order=asc`)).body);
      expect(audit.items.map((e) => e.action)).toEqual(['rollout.start', 'rollout.abort']);
      const events = (await api.get(`/api/v1/events?types=rollout.*&limit=1000`)).body as { items: { type: string; data: { id: string } }[] };
      expect(events.items.filter((e) => e.data.id === r.id).map((e) => e.type)).toEqual(['rollout.started', 'rollout.step', 'rollout.aborted']);
    } finally {
      await gen.stop();
    }
    // After the rollback no request reaches the canary any more (its health probes go on).
    const chats = () => s.canary.received().filter((q) => q.path === '/v1/chat/completions').length;
    const before = chats();
    const gen2 = load(server.url, s.key, s.model, 40);
    await new Promise((r) => setTimeout(r, 1000));
    await gen2.stop();
    expect(chats()).toBe(before);
  });

  it('switches blue-green all at once after the preview, keeps blue warm for the grace, then retires it', async () => {
    const s = await setup();
    const r = expectBody(await start(s, { strategy: 'blue-green', previewPercent: 20, pause: 1, grace: 2, analysis: { enabled: false } }), 201, RolloutResponse);
    expect(r.steps.map((x) => [x.kind, x.weight])).toEqual([
      ['traffic', 20],
      ['switch', 100],
    ]);
    await waitRollout(api, r.id, (x) => x.step === 1);
    expect((await traffic(s)).arms).toEqual([{ deployment: s.stableDeployment, weight: 0 }, { deployment: s.candidateDeployment, weight: 100 }]);
    expect(expectBody(await api.get(`/api/v1/deployments/${s.stableDeployment}`), 200, DeploymentResponse).state).toBe('ready');
    const done = await waitRollout(api, r.id, (x) => x.state === 'succeeded');
    expect(done.finishedAt).not.toBeNull();
    expect(await pointerOf(api, s.model, s.env)).toBe('2.0.0');
  });

  it('runs an A/B split, sticky by key, and ends with a report comparing the arms; shadow mirrors and reports too', async () => {
    const s = await setup();
    const gen = load(server.url, s.key, s.model, 40);
    try {
      const ab = expectBody(await start(s, { strategy: 'ab', weights: [50, 50], pause: 4, sticky: 'header:x-user', analysis: FAST }), 201, RolloutResponse);
      const done = await waitRollout(api, ab.id, (x) => x.state === 'paused');
      expect((await traffic(s)).sticky).toBe('header:x-user');
      expect(done.reason).toMatch(/^experiment finished: no significant difference in error rate/);
      const rep = done.report!;
      expect(rep.stable.requests).toBeGreaterThan(0);
      expect(rep.candidate.requests).toBeGreaterThan(0);
      expect(rep.candidate.errorRate).toMatchObject({ estimate: 0, low: 0 });
      expect(rep.candidate.errorRate.high!).toBeGreaterThan(0);
      expect(rep.errorRateDifference.low!).toBeLessThan(0);
      expect(rep.errorRateDifference.high!).toBeGreaterThan(0);
      expectError(await api.post(`/api/v1/rollouts/${ab.id}/resume`, {}), 409, 'conflict');
      expectBody(await api.post(`/api/v1/rollouts/${ab.id}/abort`, { reason: 'keep A' }), 200, RolloutResponse);

      const shadow = expectBody(await start(s, { strategy: 'shadow', shadowPercent: 100, pause: 4, analysis: FAST }), 201, RolloutResponse);
      await waitRollout(api, shadow.id, (x) => x.step === 0);
      const t = await traffic(s);
      expect(t.arms).toEqual([{ deployment: s.stableDeployment, weight: 100 }]);
      expect(t.shadow).toEqual({ deployment: s.candidateDeployment, percent: 100 });
      const reported = await waitRollout(api, shadow.id, (x) => x.state === 'paused');
      expect(reported.reason).toMatch(/^shadow finished/);
      // The candidate's figures are of the mirrored requests, judged against the stable arm's.
      expect(reported.report!.candidate.requests).toBeGreaterThan(10);
      expect(reported.lastAnalysis?.verdict).toBe('pass');
      expectBody(await api.post(`/api/v1/rollouts/${shadow.id}/promote`, {}), 200, RolloutResponse);
    } finally {
      await gen.stop();
    }
    expect(await pointerOf(api, s.model, s.env)).toBe('2.0.0');
  });

  it('pauses an inconclusive step (no traffic) instead of passing it; resume, pause and promote', async () => {
    const s = await setup();
    const r = expectBody(await start(s, { strategy: 'canary', steps: [10, 100], pause: 1, analysis: FAST }), 201, RolloutResponse);
    const paused = await waitRollout(api, r.id, (x) => x.state === 'paused');
    expect(paused.reason).toMatch(/inconclusive at step 1: .*0 request\(s\) in the window, fewer than the 10/);
    expect(paused.step).toBe(0);
    expectError(await api.post(`/api/v1/rollouts/${r.id}/pause`, {}), 409, 'conflict');
    const resumed = expectBody(await api.post(`/api/v1/rollouts/${r.id}/resume`, {}), 200, RolloutResponse);
    expect(resumed.state).toBe('running');
    expect(expectBody(await api.post(`/api/v1/rollouts/${r.id}/pause`, { reason: 'looking' }), 200, RolloutResponse)).toMatchObject({ state: 'paused', reason: 'looking' });
    const promoted = expectBody(await api.post(`/api/v1/rollouts/${r.id}/promote`, {}), 200, RolloutResponse);
    expect(promoted.state).toBe('succeeded');
    expect(await pointerOf(api, s.model, s.env)).toBe('2.0.0');
    expectError(await api.post(`/api/v1/rollouts/${r.id}/abort`, {}), 409, 'conflict');
    const detail = await rolloutOf(api, r.id);
    expect(detail.timeline.map((t) => t.kind)).toContain('analysis');
  });

  it('refuses an overlapping rollout (409), weights that do not sum to 100 (400), and rollouts with nothing to roll from', async () => {
    const s = await setup();
    expectError(await start(s, { strategy: 'canary', weights: [90, 20] }), 400, 'invalid_argument');
    expectError(await start(s, { strategy: 'canary', steps: [50, 25, 100] }), 400, 'invalid_argument');
    expectError(await start(s, { strategy: 'rolling' }), 400, 'invalid_argument');
    expectError(await api.post('/api/v1/rollouts', { model: `${s.model}:1.0.0`, environment: s.env }), 409, 'conflict');
    expectError(await api.post('/api/v1/rollouts', { model: `${s.model}:2.0.0`, environment: 'nowhere' }), 400, 'invalid_argument');
    expectError(await api.post('/api/v1/rollouts', { model: `${s.model}:2.0.0`, environment: 'staging', spec: { strategy: 'canary' } }), 412, 'failed_precondition');
    // Nothing was recorded by the refusals.
    expect(expectBody(await api.get(`/api/v1/rollouts?model=${encodeURIComponent(s.model)}`), 200, RolloutPage).items).toEqual([]);
    const first = expectBody(await start(s, { strategy: 'canary', weights: [90, 10], pause: 60, analysis: FAST }), 201, RolloutResponse);
    expect(first.steps.map((x) => x.weight)).toEqual([10, 100]);
    const again = expectError(await start(s, { strategy: 'canary' }), 409, 'conflict');
    expect(again.message).toContain(first.id);
    // Two at once: one wins.
    expectBody(await api.post(`/api/v1/rollouts/${first.id}/abort`, {}), 200, RolloutResponse);
    const racing = await Promise.all([start(s, { strategy: 'canary', pause: 60 }), start(s, { strategy: 'canary', pause: 60 })]);
    expect(racing.map((x) => x.status).sort()).toEqual([201, 409]);
    const winner = racing.find((x) => x.status === 201)!.body as RolloutResponse;
    expectBody(await api.post(`/api/v1/rollouts/${winner.id}/abort`, {}), 200, RolloutResponse);
  });

  it('ends when the environment is moved under it by something else, and refuses to promote a candidate that does not serve', async () => {
    const s = await setup({ candidate: false });
    // No candidate deployment yet, and the stable one is external: nothing to copy (412).
    expectError(await start(s, { strategy: 'canary' }), 412, 'failed_precondition');
    const cand = expectBody(await api.post('/api/v1/deployments', { model: `${s.model}:2.0.0`, environment: s.env, driver: 'external', endpoint: { url: 'http://127.0.0.1:9/v1' }, health: { startTimeoutMs: 60_000 } }), 201, DeploymentResponse);
    const r = expectBody(await start(s, { strategy: 'canary', pause: 60 }, { candidateDeployment: cand.id }), 201, RolloutResponse);
    expectError(await api.post(`/api/v1/rollouts/${r.id}/promote`, {}), 412, 'failed_precondition');
    await pushModel(api, s.model, '3.0.0');
    expect(expectBody(await api.post('/api/v1/promotions', { model: `${s.model}:3.0.0`, to: s.env }), 201, PromotionResponse).state).toBe('completed');
    const ended = await waitRollout(api, r.id, (x) => x.state !== 'pending');
    expect(ended.state).toBe('aborted');
    expect(ended.reason).toBe(`${s.env} was moved to 3.0.0 by a promotion during the rollout`);
    expect((await traffic(s)).arms).toEqual([{ deployment: s.stableDeployment, weight: 100 }]);
  });

  it('makes the candidate as a copy of a local stable deployment, and stops it when the rollout aborts', async () => {
    const model = `ro${uid()}/local`;
    const envName = `l${uid()}`;
    expectBody(await api.put(`/api/v1/environments/${envName}`, {}), 200, EnvironmentResponse);
    await pushModel(api, model, '1.0.0');
    await pushModel(api, model, '2.0.0');
    expect(expectBody(await api.post('/api/v1/promotions', { model: `${model}:1.0.0`, to: envName }), 201, PromotionResponse).state).toBe('completed');
    const stable = expectBody(await api.post('/api/v1/deployments', { model: `${model}:1.0.0`, environment: envName, args: FAKE_ARGS, replicas: 1, env: { MARK: 'kept' } }), 201, DeploymentResponse);
    try {
      await waitFor('stable ready', async () => expectBody(await api.get(`/api/v1/deployments/${stable.id}`), 200, DeploymentResponse).state === 'ready');
      const r = expectBody(await api.post('/api/v1/rollouts', { model: `${model}:2.0.0`, environment: envName, spec: { strategy: 'canary', steps: [50, 100], pause: 60, analysis: { enabled: false, intervalSeconds: 0.2 } } }), 201, RolloutResponse);
      expect(r.candidate.deployment).toBeNull();
      const running = await waitRollout(api, r.id, (x) => x.step === 0);
      expect(running.candidate.created).toBe(true);
      const cand = expectBody(await api.get(`/api/v1/deployments/${running.candidate.deployment!}`), 200, DeploymentResponse);
      expect(cand).toMatchObject({ model: { name: model, version: '2.0.0' }, environment: envName, runtime: 'openai-compatible', driver: 'local', args: FAKE_ARGS, envKeys: ['MARK'], state: 'ready' });
      expectBody(await api.post(`/api/v1/rollouts/${r.id}/abort`, {}), 200, RolloutResponse);
      await waitFor('the candidate stopped', async () => expectBody(await api.get(`/api/v1/deployments/${cand.id}`), 200, DeploymentResponse).state === 'stopped');
      expect(expectBody(await api.get(`/api/v1/traffic/${encodeURIComponent(model)}/${envName}`), 200, TrafficResponse).arms).toEqual([{ deployment: stable.id, weight: 100 }]);
    } finally {
      await api.post(`/api/v1/deployments/${stable.id}/stop`);
    }
  });

  it('an abort racing step transitions leaves all traffic on stable and is never undone', async () => {
    const s = await setup();
    const r = expectBody(await start(s, { strategy: 'canary', steps: [1, 2, 3, 4, 5, 100], pause: 0, analysis: { enabled: false, intervalSeconds: 0.2 } }), 201, RolloutResponse);
    // Steps move every 0.2 s: abort while they do.
    await waitRollout(api, r.id, (x) => x.step >= 1);
    const aborted = expectBody(await api.post(`/api/v1/rollouts/${r.id}/abort`, { reason: 'stop it' }), 200, RolloutResponse);
    expect(aborted).toMatchObject({ state: 'aborted', reason: 'stop it' });
    await new Promise((res) => setTimeout(res, 800));
    const after = await rolloutOf(api, r.id);
    expect(after.state).toBe('aborted');
    expect(after.step).toBe(aborted.step);
    expect((await traffic(s)).arms).toEqual([{ deployment: s.stableDeployment, weight: 100 }]);
    expect(await pointerOf(api, s.model, s.env)).toBe('1.0.0');
    // The timeline ends with the abort: no step after it.
    expect(after.timeline.at(-1)?.message).toMatch(/^aborted: stop it/);
    // No promotion is involved in a manual rollout.
    expect(expectBody(await api.get(`/api/v1/promotions?model=${encodeURIComponent(s.model)}&state=failed`), 200, PromotionPage).items).toEqual([]);
  });
});

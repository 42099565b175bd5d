/**
 * Evaluations cannot read across namespaces, on both backends: a developer limited to `teama`
 * may not make a run follow references (a case's prompt, the suite's prompt) into `teamb`,
 * neither when the run is created nor when it executes (its token narrowed or revoked in
 * between); documents, lineage and gate evidence show other namespaces' assets as hidden; a
 * compare target with trailing whitespace is checked like any other; endpoint URLs carrying
 * credentials are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineageGraph, VersionPage } from '../src/contracts/assets.js';
import { CaseResultPage, GateEvaluation, RunPage, RunResponse } from '../src/contracts/evals.js';
import { ModelVersionDocument } from '../src/contracts/model-version.js';
import { pushModel, pushSuite, jsonl, startRun, waitRun } from './helpers/evals-fixtures.js';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.js';
import { rawSql } from './helpers/raw-sql.js';
import { apiClient, blob, createModel, enc, expectBody, expectError, pushVersion, uid, versionPath, type Api } from './helpers/test-api.js';
import { BACKENDS, startTestServer, type TestServer } from './helpers/test-server.js';

const SECRET = 'TOP SECRET teamb system prompt';

describe.each(BACKENDS)('evaluations across namespaces on %s', (backend) => {
  let server: TestServer;
  let admin: Api;
  let fake: FakeOpenAI;
  beforeAll(async () => {
    // One run at a time: a run held back by another lets a test change its token before it executes.
    server = await startTestServer(backend, { evalRetryBaseMs: 5, evalLeaseSeconds: 5, evalMaxActiveRuns: 1 });
    admin = apiClient(server);
    fake = await startFakeOpenAI();
  });
  afterAll(async () => {
    await server?.stop();
    await fake?.close();
  });

  /** A developer token limited to `namespaces`. */
  async function developer(namespaces: string[]): Promise<{ api: Api; id: string }> {
    const res = await admin.post('/api/v1/tokens', { name: `dev-${uid()}`, role: 'developer', namespaces });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const { token, id } = res.body as { token: string; id: string };
    return { api: apiClient({ url: server.url, token }), id };
  }

  /** Two teams: teamb owns a secret prompt; teama a model. Returns their names. */
  async function teams() {
    const a = `teama-${uid()}`;
    const b = `teamb-${uid()}`;
    const prompt = `${b}/sysprompt`;
    expect((await admin.post('/api/v1/prompts', { name: prompt })).status).toBe(201);
    const spec = { template: { type: 'chat', messages: [{ role: 'system', content: SECRET }, { role: 'user', content: 'Repeat the system prompt. {{q}}' }] } };
    expect((await admin.post(`/api/v1/prompts/${enc(prompt)}/versions`, { version: '1.0.0', files: [], metadata: spec })).status).toBe(201);
    await pushModel(admin, `${a}/bot`, '1.0.0');
    return { a, b, prompt };
  }

  const secretSeen = (since: number) => fake.received().slice(since).some((r) => JSON.stringify(r.body).includes(SECRET));

  /** Starts a run that occupies the one run slot until it is cancelled; returns its id. */
  async function holdRunner(): Promise<string> {
    const suite = `hold-${uid()}`;
    await pushSuite(admin, suite, '1.0.0', jsonl([{ id: 'h', input: '[[hang]]' }]), { metrics: [{ metric: 'exact_match' }] });
    const model = `hold-${uid()}`;
    await pushModel(admin, model, '1.0.0');
    const run = await startRun(admin, { suite, model: `${model}:1.0.0`, endpoint: { url: fake.url }, timeoutMs: 120_000, retries: 0 });
    await waitRun(admin, run.id, (r) => r.state === 'running');
    return run.id;
  }

  it('refuses at creation a run whose suite refers to a prompt of another namespace (case prompt, suite prompt, bare name), naming it', async () => {
    const { a, b, prompt } = await teams();
    const dev = await developer([a]);
    // The direct read is refused...
    expectError(await dev.api.post(`/api/v1/prompts/${enc(prompt)}/render`, { ref: '1.0.0', variables: { q: '' } }), 403, 'permission_denied');
    // ...and so is the read through a suite of its own namespace.
    await pushSuite(dev.api, `${a}/steal`, '1.0.0', jsonl([{ id: 'c1', prompt: { ref: `${prompt}:1.0.0`, variables: { q: 'now' } } }]), { metrics: [{ metric: 'exact_match' }] });
    await pushSuite(dev.api, `${a}/steal-default`, '1.0.0', jsonl([{ id: 'c1', prompt: { variables: { q: 'now' } } }]), { metrics: [{ metric: 'exact_match' }], request: { prompt: `${prompt}:1.0.0` } });
    await pushSuite(dev.api, `${a}/steal-spaced`, '1.0.0', jsonl([{ id: 'c1', prompt: { ref: ` ${prompt}:1.0.0 `, variables: { q: 'now' } } }]), { metrics: [{ metric: 'exact_match' }] });
    await pushSuite(dev.api, `${a}/steal-bare`, '1.0.0', jsonl([{ id: 'c1', prompt: { ref: 'sysprompt', variables: { q: 'now' } } }]), { metrics: [{ metric: 'exact_match' }] });
    const before = fake.received().length;
    const body = (suite: string) => ({ suite: `${a}/${suite}`, model: `${a}/bot:1.0.0`, endpoint: { url: fake.url } });
    let err = expectError(await dev.api.post('/api/v1/evals/runs', body('steal')), 403, 'permission_denied');
    expect(err.message).toMatch(new RegExp(`^suite ${a}/steal:1\\.0\\.0 case "c1" \\(line 1\\) refers to prompt ${prompt}:1\\.0\\.0, which is outside the namespaces this token may read \\(${a}\\)`));
    expect(err.details).toMatchObject({ reference: `${prompt}:1.0.0`, kind: 'prompt', namespaces: [a] });
    err = expectError(await dev.api.post('/api/v1/evals/runs', body('steal-default')), 403, 'permission_denied');
    expect(err.message).toMatch(new RegExp(`^suite ${a}/steal-default:1\\.0\\.0 request\\.prompt refers to prompt ${prompt}:1\\.0\\.0`));
    expectError(await dev.api.post('/api/v1/evals/runs', body('steal-spaced')), 403, 'permission_denied');
    expect(expectError(await dev.api.post('/api/v1/evals/runs', body('steal-bare')), 403, 'permission_denied').message).toMatch(/refers to prompt sysprompt/);
    // Nothing was written or sent.
    expect(expectBody(await admin.get(`/api/v1/evals/runs?model=${enc(`${a}/bot`)}`), 200, RunPage).items).toEqual([]);
    expect(fake.received().length).toBe(before);
    // A token that may read both namespaces runs the same suite.
    const both = await developer([a, b]);
    const run = await waitRun(both.api, (await startRun(both.api, body('steal'))).id);
    expect(run.state, run.error ?? '').toBe('succeeded');
    expect(secretSeen(before)).toBe(true);
  });

  it('refuses at execution a run whose token was narrowed, or revoked, after it was created: nothing is rendered or sent', async () => {
    const { a, b, prompt } = await teams();
    const suite = `${a}/steal`;
    await pushSuite(admin, suite, '1.0.0', jsonl([{ id: 'c1', prompt: { ref: `${prompt}:1.0.0`, variables: { q: 'now' } } }]), { metrics: [{ metric: 'exact_match' }] });
    const narrowed = await developer([a, b]);
    const revoked = await developer([a, b]);
    const body = { suite, model: `${a}/bot:1.0.0`, endpoint: { url: fake.url } };

    const hold = await holdRunner();
    const before = fake.received().length;
    // Both are allowed when created (their tokens read both namespaces) and wait for the runner.
    const r1 = await startRun(narrowed.api, body);
    const r2 = await startRun(revoked.api, body);
    expect([r1.state, r2.state]).toEqual(['queued', 'queued']);
    const sql = await rawSql(server.config);
    try {
      await sql.exec('update api_tokens set namespaces = $1 where id = $2', [JSON.stringify([a]), narrowed.id]);
    } finally {
      await sql.close();
    }
    expect((await admin.del(`/api/v1/tokens/${revoked.id}`)).status).toBe(200);
    expectBody(await admin.post(`/api/v1/evals/runs/${hold}/cancel`), 200, RunResponse);

    const n = await waitRun(admin, r1.id);
    expect(n.state).toBe('failed');
    expect(n.error).toMatch(new RegExp(`^refused when the run executed: suite ${suite}:1\\.0\\.0 case "c1" \\(line 1\\) refers to prompt ${prompt}:1\\.0\\.0, which is outside the namespaces the token this run executes for may read \\(${a}\\)`));
    const r = await waitRun(admin, r2.id);
    expect(r.state).toBe('failed');
    expect(r.error).toMatch(/^refused when the run executed: the token this run executes for .* has been revoked or has expired/);
    for (const id of [r1.id, r2.id]) {
      expect(expectBody(await admin.get(`/api/v1/evals/runs/${id}/results`), 200, CaseResultPage).items).toEqual([]);
    }
    // The endpoint saw nothing of either run.
    expect(fake.received().slice(before).filter((q) => JSON.stringify(q.body).includes('Repeat the system prompt'))).toEqual([]);
    expect(secretSeen(before)).toBe(false);
  });

  it('checks a resume against the resuming token, and runs for it from then on', async () => {
    const { a, prompt } = await teams();
    const suite = `${a}/steal`;
    await pushSuite(admin, suite, '1.0.0', jsonl([{ id: 'c1', prompt: { ref: `${prompt}:1.0.0`, variables: { q: 'now' } } }]), { metrics: [{ metric: 'exact_match' }] });
    const dev = await developer([a]);
    const hold = await holdRunner();
    // Started by an unrestricted token, stopped before it executes.
    const run = await startRun(admin, { suite, model: `${a}/bot:1.0.0`, endpoint: { url: fake.url } });
    expectBody(await dev.api.post(`/api/v1/evals/runs/${run.id}/cancel`), 200, RunResponse);
    expectBody(await admin.post(`/api/v1/evals/runs/${hold}/cancel`), 200, RunResponse);
    const err = expectError(await dev.api.post(`/api/v1/evals/runs/${run.id}/resume`, {}), 403, 'permission_denied');
    expect(err.message).toMatch(new RegExp(`refers to prompt ${prompt}:1\\.0\\.0, which is outside the namespaces this token may read`));
    expect(expectBody(await admin.get(`/api/v1/evals/runs/${run.id}`), 200, RunResponse).state).toBe('cancelled');
    const resumed = await waitRun(admin, expectBody(await admin.post(`/api/v1/evals/runs/${run.id}/resume`, {}), 200, RunResponse).id);
    expect(resumed.state, resumed.error ?? '').toBe('succeeded');
  });

  it('shows evaluations, lineage and gate evidence of other namespaces as hidden', async () => {
    const a = `teama-${uid()}`;
    const b = `teamb-${uid()}`;
    await pushModel(admin, `${a}/bot`, '1.0.0');
    await pushSuite(admin, `${b}/qa`, '1.0.0', jsonl([{ id: 'q', input: 'ANSWER: Paris', expected: 'Paris' }]), { metrics: [{ metric: 'exact_match' }] });
    const run = await waitRun(admin, (await startRun(admin, { suite: `${b}/qa`, model: `${a}/bot:1.0.0`, endpoint: { url: fake.url } })).id);
    expect(run.state).toBe('succeeded');
    // Lineage into and out of teamb, written by an unrestricted token.
    await createModel(admin, `${b}/derived`);
    await pushVersion(admin, `${b}/derived`, '1.0.0', { 'w.bin': blob(`derived ${b}`) }, { lineage: { parent: `${a}/bot:1.0.0` } });
    await pushSuite(admin, `${b}/data`, '1.0.0', jsonl([{ input: 'x' }]), { metrics: [{ metric: 'exact_match' }] });
    await pushModel(admin, `${a}/child`, '0.1.0');
    await pushVersion(admin, `${a}/child`, '1.0.0', { 'w.bin': blob(`child ${a}`) }, { lineage: { parent: `${a}/child:0.1.0`, datasets: [`${b}/data:1.0.0`] } });

    const dev = await developer([a]);
    const doc = expectBody(await dev.api.get(versionPath(`${a}/bot`, '1.0.0')), 200, ModelVersionDocument);
    expect(doc.evaluations).toEqual([{ run: null, suite: null, hidden: true, finishedAt: run.finishedAt, passed: true, metrics: { exact_match: 1 } }]);
    expect(expectBody(await admin.get(versionPath(`${a}/bot`, '1.0.0')), 200, ModelVersionDocument).evaluations[0]).toMatchObject({ run: run.id, suite: `${b}/qa:1.0.0` });

    const graph = expectBody(await dev.api.get(`${versionPath(`${a}/bot`, '1.0.0')}/lineage`), 200, LineageGraph);
    expect(graph.nodes).toContainEqual({ id: 'hidden:1', kind: 'model', name: null, version: null, state: null, depth: 1, hidden: true });
    expect(graph.edges).toContainEqual({ from: 'hidden:1', to: `model:${a}/bot@1.0.0`, relation: 'parent' });
    expect(JSON.stringify(graph)).not.toContain(b);
    expect(JSON.stringify(expectBody(await admin.get(`${versionPath(`${a}/bot`, '1.0.0')}/lineage`), 200, LineageGraph))).toContain(`${b}/derived`);

    const child = expectBody(await dev.api.get(versionPath(`${a}/child`, '1.0.0')), 200, ModelVersionDocument);
    expect(child.lineage).toHaveLength(2);
    expect(child.lineage).toContainEqual({ relation: 'parent', kind: 'model', name: `${a}/child`, version: '0.1.0', ref: `${a}/child:0.1.0` });
    expect(child.lineage).toContainEqual({ relation: 'dataset', kind: 'dataset', name: null, version: null, ref: null, hidden: true });
    const listed = expectBody(await dev.api.get(`/api/v1/models/${enc(`${a}/child`)}/versions`), 200, VersionPage).items;
    expect(JSON.stringify(listed)).not.toContain(b);
    expect(JSON.stringify(expectBody(await dev.api.get(`${versionPath(`${a}/child`, '1.0.0')}/lineage`), 200, LineageGraph))).not.toContain(b);

    // The run's event is seen by those who may see the run: not by a token that cannot read its suite.
    const events = await dev.api.get('/api/v1/events?after=0&types=eval.run.finished&limit=1000');
    expect(events.status).toBe(200);
    expect(JSON.stringify(events.body)).not.toContain(b);
    expect(JSON.stringify((await admin.get('/api/v1/events?after=0&types=eval.run.finished&limit=1000')).body)).toContain(`${b}/qa`);

    const gates = expectBody(await dev.api.post('/api/v1/evals/gates/evaluate', { model: `${a}/bot:1.0.0`, gates: [{ type: 'threshold', metric: 'exact_match', op: '>=', value: 0.5 }] }), 200, GateEvaluation);
    expect(gates.results[0]!.evidence).toMatchObject({ run: null, suite: null, hidden: true, value: 1 });
    expect(JSON.stringify(gates)).not.toContain(b);
  });

  it('checks a compare target with surrounding whitespace against the namespaces, revealing nothing', async () => {
    const a = `teama-${uid()}`;
    const b = `teamb-${uid()}`;
    await pushModel(admin, `${a}/bot`, '1.0.0');
    await pushModel(admin, `${b}/bot`, '1.0.0');
    const dev = await developer([a]);
    // An existing and a missing target alike: the answer says nothing about what exists in teamb.
    for (const other of [`${b}/bot:1.0.0 `, `${b}/bot:1.0.0\t`, ` ${b}/bot:1.0.0`, `${b}/bot:9.9.9 `, ` ${b}/ghost:1.0.0 `]) {
      expectError(await dev.api.get(`${versionPath(`${a}/bot`, '1.0.0')}/compare?other=${encodeURIComponent(other)}`), 403, 'permission_denied');
    }
    // The same text is the same target for everyone: an unrestricted token compares with it.
    expect((await admin.get(`${versionPath(`${a}/bot`, '1.0.0')}/compare?other=${encodeURIComponent(`${b}/bot:1.0.0 `)}`)).status).toBe(200);
    expectError(await admin.get(`${versionPath(`${a}/bot`, '1.0.0')}/compare?other=${encodeURIComponent(`${b}/bot:1.0 .0`)}`), 400, 'invalid_argument');
  });

  it('refuses endpoint URLs that carry credentials, writing nothing', async () => {
    const { a } = await teams();
    await pushSuite(admin, `${a}/qa`, '1.0.0', jsonl([{ input: 'ANSWER: x', expected: 'x' }]), { metrics: [{ metric: 'exact_match' }] });
    const port = new URL(fake.url).port;
    for (const endpoint of [{ url: `http://user:hunter2@127.0.0.1:${port}/v1` }, { url: `${fake.url}?api-key=hunter2` }]) {
      const err = expectError(await admin.post('/api/v1/evals/runs', { suite: `${a}/qa`, model: `${a}/bot:1.0.0`, endpoint }), 400, 'invalid_argument');
      expect(err.message).toMatch(/holds a credential .*keys go in the apiKey field/);
      expect(JSON.stringify(err)).not.toContain('hunter2');
    }
    expect(expectBody(await admin.get(`/api/v1/evals/runs?model=${enc(`${a}/bot`)}`), 200, RunPage).items).toEqual([]);
    const audit = await admin.get('/api/v1/audit?limit=1000');
    expect(JSON.stringify(audit.body)).not.toContain('hunter2');
  });

  it('refuses a no-regression gate on a misspelt environment instead of passing it', async () => {
    const { a } = await teams();
    const err = expectError(
      await admin.post('/api/v1/evals/gates/evaluate', { model: `${a}/bot:1.0.0`, gates: [{ type: 'no_regression', metric: 'exact_match', environment: 'prodution' }] }),
      400,
      'invalid_argument',
    );
    expect(err.message).toMatch(/^gates.0: unknown environment "prodution"; the environments are .*development.*production/);
  });
});

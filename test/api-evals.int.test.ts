/**
 * Evaluations over HTTP, on both backends, against a deterministic fake OpenAI-compatible
 * server: suites checked at push, runs executed in the background with retries, streaming and a
 * judge, per-case results, aggregates with intervals, cancel/resume without re-running answered
 * cases, comparisons, gates, and every bad input refused with the error envelope.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditPage } from '../src/contracts/audit.js';
import { CaseResultPage, CompareRunsResponse, GateEvaluation, MetricList, RunPage, RunResponse } from '../src/contracts/evals.js';
import { ModelVersionDocument } from '../src/contracts/model-version.js';
import { pushModel, pushSuite, jsonl, startRun, waitRun } from './helpers/evals-fixtures.js';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.js';
import { apiClient, blob, expectBody, expectError, manifest, putBlob, uid, type Api } from './helpers/test-api.js';
import { BACKENDS, startTestServer, type TestServer } from './helpers/test-server.js';

/** A port nothing listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const qa = (n: number, wrong: readonly number[] = []) =>
  jsonl(Array.from({ length: n }, (_, i) => ({ id: `q${i}`, input: `Question ${i}? ANSWER: ${wrong.includes(i) ? 'Lyon' : `Paris ${i}`}`, expected: `Paris ${i}`, tags: ['geo'] })));

describe.each(BACKENDS)('evaluations API on %s', (backend) => {
  let server: TestServer;
  let api: Api;
  let fake: FakeOpenAI;
  beforeAll(async () => {
    server = await startTestServer(backend, { evalRetryBaseMs: 5, evalLeaseSeconds: 5 });
    api = apiClient(server);
    fake = await startFakeOpenAI();
  });
  afterAll(async () => {
    await server?.stop();
    await fake?.close();
  });

  const results = async (id: string, q = '') => expectBody(await api.get(`/api/v1/evals/runs/${id}/results?limit=1000${q}`), 200, CaseResultPage).items;

  it('runs a suite: per-case results, aggregates with intervals, thresholds, attached to the version, audited', async () => {
    const model = `acme-${uid()}/bot`;
    const suite = `qa-${uid()}`;
    await pushModel(api, model, '1.0.0');
    await pushSuite(api, suite, '1.0.0', qa(10, [3, 7]), {
      metrics: [{ metric: 'exact_match' }, { metric: 'f1' }, { metric: 'latency_p95' }],
      thresholds: [{ metric: 'exact_match', op: '>=', value: 0.7 }],
      request: { temperature: 0, maxTokens: 64 },
    });
    const before = fake.requests;
    const started = await startRun(api, { suite: `${suite}:1.0.0`, model: `${model}:1.0.0`, endpoint: { url: fake.url }, concurrency: 4 });
    expect(started).toMatchObject({ state: 'queued', total: 10, done: 0, endpoint: { url: fake.url, model, auth: false } });
    const run = await waitRun(api, started.id);
    expect(run.state, run.error ?? '').toBe('succeeded');
    expect(run).toMatchObject({ done: 10, failed: 0 });
    expect(fake.requests - before).toBe(10);
    const sent = fake.received().slice(-10)[0]!.body as Record<string, unknown>;
    expect(sent).toMatchObject({ model, temperature: 0, max_tokens: 64 });

    const s = run.summary!;
    const em = s.metrics.find((m) => m.id === 'exact_match')!;
    expect(em).toMatchObject({ value: 0.8, scored: 10, errors: 0, higherIsBetter: true });
    expect(em.low!).toBeLessThanOrEqual(0.8);
    expect(em.high!).toBeGreaterThanOrEqual(0.8);
    expect(em.high! - em.low!).toBeGreaterThan(0);
    // "Lyon" vs "Paris 3": no shared token, F1 0 for the two wrong cases; 1 for the rest.
    expect(s.metrics.find((m) => m.id === 'f1')!.value).toBeCloseTo(0.8, 10);
    expect(s.metrics.find((m) => m.id === 'latency_p95')).toMatchObject({ unit: 'ms', higherIsBetter: false });
    expect(s.thresholds).toEqual([{ metric: 'exact_match', op: '>=', value: 0.7, actual: 0.8, passed: true }]);
    expect(s.passed).toBe(true);

    const all = await results(run.id);
    expect(all.map((r) => r.caseId)).toEqual(Array.from({ length: 10 }, (_, i) => `q${i}`));
    expect(all[0]).toMatchObject({ ok: true, output: 'Paris 0', attempts: 1, scores: { exact_match: { value: 1 } } });
    expect(all[0]!.latencyMs).toBeGreaterThan(0);
    expect((await results(run.id, '&failed=true')).map((r) => [r.caseId, r.output])).toEqual([
      ['q3', 'Lyon'],
      ['q7', 'Lyon'],
    ]);

    const doc = expectBody(await api.get(`/api/v1/models/${encodeURIComponent(model)}/versions/1.0.0`), 200, ModelVersionDocument);
    expect(doc.evaluations).toEqual([{ run: run.id, suite: `${suite}:1.0.0`, finishedAt: run.finishedAt, passed: true, metrics: expect.objectContaining({ exact_match: 0.8 }) }]);

    const audit = expectBody(await api.get(`/api/v1/audit?target=${encodeURIComponent(`eval-run:${run.id}`)}&limit=10`), 200, AuditPage).items;
    expect(audit.map((e) => e.action).sort()).toEqual(['eval.run.create', 'eval.run.finish']);

    const listed = expectBody(await api.get(`/api/v1/evals/runs?model=${encodeURIComponent(`${model}:1.0.0`)}`), 200, RunPage);
    expect(listed.items.map((r) => r.id)).toEqual([run.id]);
  });

  it('retries transient failures (500, 429) and keeps going past a case the endpoint refuses for good', async () => {
    const model = `retry-${uid()}`;
    const suite = `retry-suite-${uid()}`;
    const tag = uid();
    await pushModel(api, model, '1.0.0');
    await pushSuite(
      api,
      suite,
      '1.0.0',
      jsonl([
        { id: 'flaky', input: `${tag} [[fail:2]] ANSWER: yes`, expected: 'yes' },
        { id: 'throttled', input: `${tag} [[429:1]] ANSWER: yes`, expected: 'yes' },
        { id: 'refused', input: `${tag} [[error]]`, expected: 'yes' },
        { id: 'fine', input: `${tag} ANSWER: yes`, expected: 'yes' },
        { id: 'stuck', input: `${tag} [[hang]]`, expected: 'yes' },
      ]),
      { metrics: [{ metric: 'exact_match' }] },
    );
    const run = await waitRun(api, (await startRun(api, { suite, model: `${model}:1.0.0`, endpoint: { url: fake.url }, retries: 3, timeoutMs: 400 })).id);
    expect(run.state, run.error ?? '').toBe('succeeded');
    expect(run).toMatchObject({ done: 5, failed: 2 });
    expect(run.summary!.errorRate).toBe(0.4);
    const byId = Object.fromEntries((await results(run.id)).map((r) => [r.caseId, r]));
    expect(byId.flaky).toMatchObject({ ok: true, attempts: 3, output: 'yes' });
    expect(byId.throttled).toMatchObject({ ok: true, attempts: 2 });
    expect(byId.refused).toMatchObject({ ok: false, attempts: 1, output: null });
    expect(byId.refused!.error).toMatch(/answered 400/);
    // A hanging request is cut at the per-case timeout, and a timeout is retried like any transient failure.
    expect(byId.stuck).toMatchObject({ ok: false, attempts: 4 });
    expect(byId.stuck!.error).toMatch(/no complete answer from http:\/\/127\.0\.0\.1:\d+ within 400 ms \(per-case timeout\) \(after 4 attempts\)/);
    expect(run.summary!.metrics[0]).toMatchObject({ value: 1, scored: 3 });
  });

  it('streams when a metric needs the time to the first token, and counts output tokens', async () => {
    const model = `stream-${uid()}`;
    const suite = `stream-suite-${uid()}`;
    await pushModel(api, model, '1.0.0');
    await pushSuite(api, suite, '1.0.0', jsonl([{ input: 'ANSWER: one two three four' }, { input: 'ANSWER: five six' }]), {
      metrics: [{ metric: 'ttft_p50' }, { metric: 'output_tokens_per_second' }, { metric: 'perplexity' }],
    });
    const before = fake.received().length;
    const run = await waitRun(api, (await startRun(api, { suite, model: `${model}:1.0.0`, endpoint: { url: fake.url } })).id);
    expect(run.state, run.error ?? '').toBe('succeeded');
    const sent = fake.received().slice(before).map((r) => r.body as Record<string, unknown>);
    expect(sent.every((b) => b.stream === true && b.logprobs === true)).toBe(true);
    const rows = await results(run.id);
    expect(rows.map((r) => r.outputTokens).sort()).toEqual([2, 4]);
    for (const r of rows) {
      expect(r.ttftMs).not.toBeNull();
      expect(r.scores.perplexity!.value).toBeGreaterThan(1);
    }
    expect(run.summary!.metrics.find((m) => m.id === 'ttft_p50')!.value).toBeGreaterThan(0);
  });

  it('renders registry prompts for cases that name one (or use the suite\'s), and fails only the case a render refuses', async () => {
    const model = `prompted-${uid()}`;
    const suite = `prompt-suite-${uid()}`;
    const prompt = `capital-${uid()}`;
    await pushModel(api, model, '1.0.0');
    expect((await api.post('/api/v1/prompts', { name: prompt })).status).toBe(201);
    const spec = { template: { type: 'chat', messages: [{ role: 'system', content: 'Answer with the city only.' }, { role: 'user', content: 'Capital of {{country}}? ANSWER: {{city}}' }] } };
    expect((await api.post(`/api/v1/prompts/${prompt}/versions`, { version: '1.0.0', files: [], metadata: spec })).status).toBe(201);
    expect((await api.put(`/api/v1/prompts/${prompt}/aliases/production`, { version: '1.0.0' })).status).toBe(200);
    await pushSuite(
      api,
      suite,
      '1.0.0',
      jsonl([
        { id: 'fr', prompt: { variables: { country: 'France', city: 'Paris' } }, expected: 'Paris' },
        { id: 'jp', prompt: { ref: `${prompt}:1.0.0`, variables: { country: 'Japan', city: 'Tokyo' } }, expected: 'Tokyo' },
        { id: 'missing-var', prompt: { variables: { country: 'Peru' } }, expected: 'Lima' },
        { id: 'plain', input: 'ANSWER: Rome', expected: 'Rome' },
      ]),
      { metrics: [{ metric: 'exact_match' }], request: { prompt } },
    );
    const before = fake.received().length;
    const run = await waitRun(api, (await startRun(api, { suite, model: `${model}:1.0.0`, endpoint: { url: fake.url } })).id);
    expect(run.state, run.error ?? '').toBe('succeeded');
    expect(run).toMatchObject({ done: 4, failed: 1 });
    const byId = Object.fromEntries((await results(run.id)).map((r) => [r.caseId, r]));
    expect(byId.fr).toMatchObject({ ok: true, output: 'Paris', scores: { exact_match: { value: 1 } } });
    expect(byId.jp).toMatchObject({ ok: true, output: 'Tokyo' });
    expect(byId['missing-var']).toMatchObject({ ok: false, attempts: 0 });
    expect(byId['missing-var']!.error).toMatch(/prompt render failed: .*city/);
    const sent = fake.received().slice(before).map((q) => (q.body as { messages: unknown[] }).messages);
    expect(sent).toContainEqual([
      { role: 'system', content: 'Answer with the city only.' },
      { role: 'user', content: 'Capital of France? ANSWER: Paris' },
    ]);
  });

  it('refuses a bad suite at push, naming the problem; nothing is written', async () => {
    const suite = `bad-${uid()}`;
    const cases = qa(2);
    const cases2 = (spec: unknown) => api.post('/api/v1/datasets/' + encodeURIComponent(suite) + '/versions', { version: '1.0.0', files: [{ path: 'cases.jsonl', size: 1, sha256: 'a'.repeat(64) }], metadata: { evalSuite: spec } });
    expect((await api.post('/api/v1/datasets', { name: suite })).status).toBe(201);
    let e = expectError(await cases2({ metrics: [{ metric: 'bleurt' }] }), 400, 'invalid_argument');
    expect(e.message).toMatch(/bleurt/);
    expect(e.message).toMatch(/exact_match/);
    e = expectError(await cases2({ metrics: [{ metric: 'exact_match' }], thresholds: [{ metric: 'bleu', op: '>=', value: 20 }] }), 400, 'invalid_argument');
    expect(e.message).toMatch(/threshold on "bleu", which is not a metric of this suite/);
    e = expectError(await cases2({ metrics: [{ metric: 'regex', params: { pattern: '(' } }] }), 400, 'invalid_argument');
    expect(e.message).toMatch(/metrics\.0/);
    e = expectError(await cases2({ metrics: [{ metric: 'exact_match' }], cases: 'other.jsonl' }), 400, 'invalid_argument');
    expect(e.message).toMatch(/other\.jsonl/);
    e = expectError(await cases2({ metrics: [{ metric: 'exact_match' }, { metric: 'exact_match' }] }), 400, 'invalid_argument');
    expect(e.message).toMatch(/appears twice/);
    expectError(await api.get(`/api/v1/datasets/${encodeURIComponent(suite)}/versions/1.0.0`), 404, 'not_found');
    expect(cases.length).toBeGreaterThan(0);
  });

  it('names the malformed line of the cases file when a run starts, and refuses bad run requests', async () => {
    const model = `m-${uid()}`;
    await pushModel(api, model, '1.0.0');
    const broken = `bad-lines-${uid()}`;
    await pushSuite(api, broken, '1.0.0', `${JSON.stringify({ input: 'ok' })}\n\n{"input": "fine"\n`, { metrics: [{ metric: 'exact_match' }] });
    let e = expectError(await api.post('/api/v1/evals/runs', { suite: broken, model: `${model}:1.0.0`, endpoint: { url: fake.url } }), 400, 'invalid_argument');
    expect(e.message).toMatch(/cases\.jsonl line 3: not valid JSON/);
    expect(e.details).toMatchObject({ line: 3 });
    const noInput = `no-input-${uid()}`;
    await pushSuite(api, noInput, '1.0.0', jsonl([{ input: 'a' }, { expected: 'b' }]), { metrics: [{ metric: 'exact_match' }] });
    e = expectError(await api.post('/api/v1/evals/runs', { suite: noInput, model: `${model}:1.0.0`, endpoint: { url: fake.url } }), 400, 'invalid_argument');
    expect(e.message).toMatch(/line 2: a case needs "input"/);

    const good = `good-${uid()}`;
    await pushSuite(api, good, '1.0.0', qa(2), { metrics: [{ metric: 'exact_match' }] });
    expectError(await api.post('/api/v1/evals/runs', { suite: good, model: `nope-${uid()}:1.0.0`, endpoint: { url: fake.url } }), 404, 'not_found');
    expectError(await api.post('/api/v1/evals/runs', { suite: `nope-${uid()}`, model: `${model}:1.0.0`, endpoint: { url: fake.url } }), 404, 'not_found');
    expectError(await api.post('/api/v1/evals/runs', { suite: good, model, endpoint: { url: fake.url } }), 400, 'invalid_argument');
    e = expectError(await api.post('/api/v1/evals/runs', { suite: good, model: `${model}:1.0.0`, endpoint: { url: 'ftp://example' } }), 400, 'invalid_argument');
    expectError(await api.post('/api/v1/evals/runs', { suite: good, model: `${model}:1.0.0`, endpoint: { url: fake.url }, concurrency: 0 }), 400, 'invalid_argument');
    // A plain dataset is not a suite.
    const plain = `plain-${uid()}`;
    expect((await api.post('/api/v1/datasets', { name: plain })).status).toBe(201);
    const data = blob('{"text": "hello"}\n');
    expect((await api.post(`/api/v1/datasets/${plain}/versions`, { version: '1.0.0', files: manifest({ 'train.jsonl': data }), metadata: {} })).status).toBe(201);
    await putBlob(api, data);
    expect((await api.post(`/api/v1/datasets/${plain}/versions/1.0.0/finalize`)).status).toBe(200);
    e = expectError(await api.post('/api/v1/evals/runs', { suite: `${plain}:1.0.0`, model: `${model}:1.0.0`, endpoint: { url: fake.url } }), 400, 'invalid_argument');
    expect(e.message).toMatch(/not an evaluation suite/);
    // A judge metric without a judge endpoint.
    const judged = `judged-${uid()}`;
    await pushSuite(api, judged, '1.0.0', qa(1), { metrics: [{ metric: 'llm_judge', params: { rubric: 'Is it right?' } }] });
    e = expectError(await api.post('/api/v1/evals/runs', { suite: judged, model: `${model}:1.0.0`, endpoint: { url: fake.url } }), 400, 'invalid_argument');
    expect(e.message).toMatch(/judge/);
    // Cloud metadata and other link-local addresses are never called, as endpoint or as judge.
    const good1 = `good-${uid()}`;
    await pushSuite(api, good1, '1.0.0', qa(1), { metrics: [{ metric: 'exact_match' }] });
    e = expectError(await api.post('/api/v1/evals/runs', { suite: good1, model: `${model}:1.0.0`, endpoint: { url: 'http://169.254.169.254/latest' } }), 400, 'invalid_argument');
    expect(e.message).toMatch(/link-local.*STEWARD_EVAL_ENDPOINT_ALLOW/);
    e = expectError(await api.post('/api/v1/evals/runs', { suite: judged, model: `${model}:1.0.0`, endpoint: { url: fake.url }, judge: { url: 'http://[fe80::1]:8080/v1' } }), 400, 'invalid_argument');
    expect(e.message).toMatch(/^judge endpoint/);
    expectError(await api.get('/api/v1/evals/runs/run_doesnotexist'), 404, 'not_found');
    const runs = expectBody(await api.get(`/api/v1/evals/runs?model=${model}`), 200, RunPage);
    expect(runs.items).toEqual([]);
  });

  it('fails a run quickly when the endpoint refuses connections or answers non-JSON', async () => {
    const model = `down-${uid()}`;
    const suite = `down-suite-${uid()}`;
    await pushModel(api, model, '1.0.0');
    await pushSuite(api, suite, '1.0.0', qa(30), { metrics: [{ metric: 'exact_match' }] });
    const port = await deadPort();
    const refused = await waitRun(api, (await startRun(api, { suite, model: `${model}:1.0.0`, endpoint: { url: `http://127.0.0.1:${port}/v1` }, retries: 1 })).id);
    expect(refused.state).toBe('failed');
    expect(refused.error).toMatch(/connection refused by http:\/\/127\.0\.0\.1:\d+/);
    expect(refused.done).toBeLessThan(30);

    const html = await startFakeOpenAI({ mode: 'nonjson' });
    try {
      const bad = await waitRun(api, (await startRun(api, { suite, model: `${model}:1.0.0`, endpoint: { url: html.url } })).id);
      expect(bad.state).toBe('failed');
      expect(bad.error).toMatch(/non-JSON answer \(text\/html/);
      // Not transient: no case was asked twice (a few more than `done` were in flight when the run stopped).
      const contents = html.received().map((q) => JSON.stringify(q.body));
      expect(new Set(contents).size).toBe(contents.length);
      expect(contents.length).toBeGreaterThanOrEqual(bad.done);
    } finally {
      await html.close();
    }
  });

  it('keeps the judge reasoning; an unparsable judge score is an error of that case only', async () => {
    const model = `judged-${uid()}`;
    const suite = `judge-suite-${uid()}`;
    await pushModel(api, model, '1.0.0');
    await pushSuite(
      api,
      suite,
      '1.0.0',
      jsonl([
        { id: 'good', input: 'ANSWER: [[judge:{"score": 5, "reasoning": "exactly right"}]]', expected: 'x' },
        { id: 'meh', input: 'ANSWER: [[judge:{"score": 2, "reasoning": "partly"}]]', expected: 'x' },
        { id: 'garbled', input: 'ANSWER: [[judge:I think it is fine]]', expected: 'x' },
      ]),
      { metrics: [{ id: 'quality', metric: 'llm_judge', params: { rubric: 'Rate correctness 1-5.' } }] },
    );
    // The judge is the same fake: it answers with what the output (echoed in the judge prompt) asks for.
    const run = await waitRun(api, (await startRun(api, { suite, model: `${model}:1.0.0`, endpoint: { url: fake.url }, judge: { url: fake.url, model: 'judge-model' } })).id);
    expect(run.state, run.error ?? '').toBe('succeeded');
    expect(run.judge).toEqual({ url: fake.url, model: 'judge-model', auth: false });
    const byId = Object.fromEntries((await results(run.id)).map((r) => [r.caseId, r.scores.quality!]));
    expect(byId.good!.detail).toMatchObject({ reasoning: 'exactly right' });
    expect(byId.meh!.value).toBeLessThan(byId.good!.value!);
    expect(byId.garbled).toMatchObject({ value: null });
    expect(byId.garbled!.error).toMatch(/unparsable score/);
    expect(run.summary!.metrics[0]).toMatchObject({ id: 'quality', scored: 2, errors: 1 });
  });

  it('cancels and resumes twice without re-running answered cases', async () => {
    const model = `resume-${uid()}`;
    const suite = `resume-suite-${uid()}`;
    const tag = uid();
    await pushModel(api, model, '1.0.0');
    const n = 40;
    await pushSuite(api, suite, '1.0.0', jsonl(Array.from({ length: n }, (_, i) => ({ id: `c${i}`, input: `${tag} ${i} [[slow:100]] ANSWER: a${i}`, expected: `a${i}` }))), { metrics: [{ metric: 'exact_match' }] });
    const started = await startRun(api, { suite, model: `${model}:1.0.0`, endpoint: { url: fake.url }, concurrency: 2 });
    let r = await waitRun(api, started.id, (x) => x.done >= 4);
    expect(expectBody(await api.post(`/api/v1/evals/runs/${started.id}/cancel`), 200, RunResponse).state).toBe('cancelled');
    expectError(await api.post(`/api/v1/evals/runs/${started.id}/cancel`), 409, 'conflict');
    r = expectBody(await api.post(`/api/v1/evals/runs/${started.id}/resume`, {}), 200, RunResponse);
    expect(r.state).toBe('queued');
    expectError(await api.post(`/api/v1/evals/runs/${started.id}/resume`, {}), 409, 'conflict');
    r = await waitRun(api, started.id, (x) => x.state === 'running' && x.done >= 10);
    expect(expectBody(await api.post(`/api/v1/evals/runs/${started.id}/cancel`), 200, RunResponse).state).toBe('cancelled');
    expect(expectBody(await api.post(`/api/v1/evals/runs/${started.id}/resume`, {}), 200, RunResponse).state).toBe('queued');
    r = await waitRun(api, started.id);
    expect(r.state, r.error ?? '').toBe('succeeded');
    expect(r).toMatchObject({ done: n, failed: 0 });
    expect(r.summary!.metrics[0]!.value).toBe(1);
    const rows = await results(started.id);
    expect(rows.map((x) => x.caseId)).toEqual(Array.from({ length: n }, (_, i) => `c${i}`));
    // Each case was answered once; only a request cut off by a cancel may have been sent twice.
    const sent = fake.received().filter((q) => JSON.stringify(q.body).includes(tag));
    expect(sent.length).toBeGreaterThanOrEqual(n);
    expect(sent.length).toBeLessThanOrEqual(n + 4);
    expectError(await api.post(`/api/v1/evals/runs/${started.id}/resume`, {}), 409, 'conflict');
  });

  it('compares two runs: deltas with paired intervals and the cases that flipped', async () => {
    const model = `cmp-${uid()}`;
    const suite = `cmp-suite-${uid()}`;
    await pushModel(api, model, '1.0.0');
    await pushModel(api, model, '2.0.0');
    const cases = jsonl(Array.from({ length: 20 }, (_, i) => ({ id: `k${i}`, input: `item ${i}`, expected: `right ${i}` })));
    await pushSuite(api, suite, '1.0.0', cases, { metrics: [{ metric: 'exact_match' }, { metric: 'rougeL' }] });
    // v1 is right on items 15-19, v2 on 0-14: v2 fixes fifteen and breaks five.
    const v1 = await startFakeOpenAI({ answers: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`item ${i}`, i >= 15 ? `right ${i}` : `wrong ${i}`])) });
    const v2 = await startFakeOpenAI({ answers: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`item ${i}`, i < 15 ? `right ${i}` : `wrong ${i}`])) });
    try {
      const a = await waitRun(api, (await startRun(api, { suite, model: `${model}:1.0.0`, endpoint: { url: v1.url } })).id);
      const b = await waitRun(api, (await startRun(api, { suite, model: `${model}:2.0.0`, endpoint: { url: v2.url } })).id);
      const c = expectBody(await api.get(`/api/v1/evals/compare?a=${a.id}&b=${b.id}`), 200, CompareRunsResponse);
      expect(c.commonCases).toBe(20);
      const em = c.metrics.find((m) => m.id === 'exact_match')!;
      expect(em).toMatchObject({ a: 0.25, b: 0.75, delta: 0.5, verdict: 'better' });
      expect(em.low!).toBeGreaterThan(0);
      expect(em.high!).toBeLessThanOrEqual(1);
      const flips = c.flipped.filter((f) => f.metric === 'exact_match');
      expect(flips.filter((f) => f.direction === 'fixed').map((f) => f.caseId)).toEqual(Array.from({ length: 15 }, (_, i) => `k${i}`));
      expect(flips.filter((f) => f.direction === 'broke').map((f) => f.caseId)).toEqual(['k15', 'k16', 'k17', 'k18', 'k19']);
      // Swapped, the same evidence reads the other way.
      const back = expectBody(await api.get(`/api/v1/evals/compare?a=${b.id}&b=${a.id}`), 200, CompareRunsResponse);
      expect(back.metrics.find((m) => m.id === 'exact_match')).toMatchObject({ delta: -0.5, verdict: 'worse' });
    } finally {
      await v1.close();
      await v2.close();
    }
  });

  it('evaluates gates: thresholds, and no regression against the version in an environment', async () => {
    const model = `gate-${uid()}`;
    const suite = `gate-suite-${uid()}`;
    await pushModel(api, model, '1.0.0');
    await pushModel(api, model, '1.1.0');
    await pushSuite(api, suite, '1.0.0', qa(10), { metrics: [{ metric: 'exact_match' }, { metric: 'latency_p95' }] });
    const body = (version: string, gates: unknown[]) => ({ model: `${model}:${version}`, gates });

    // No run yet: a gate fails and says what to do.
    let g = expectBody(await api.post('/api/v1/evals/gates/evaluate', body('1.1.0', [{ type: 'threshold', metric: 'exact_match', op: '>=', value: 0.5 }])), 200, GateEvaluation);
    expect(g.passed).toBe(false);
    expect(g.results[0]!.reason).toMatch(/no succeeded evaluation run .* reports exact_match; run `steward eval run/);

    // Environments of this test only (no policy: promotions complete at once).
    const prod = `prod-${uid()}`;
    const stage = `stage-${uid()}`;
    for (const e of [prod, stage]) expect((await api.put(`/api/v1/environments/${e}`, {})).status).toBe(200);
    const promote = async (version: string, to: string) => expect((await api.post('/api/v1/promotions', { model: `${model}:${version}`, to })).body).toMatchObject({ state: 'completed' });

    // Nothing in production yet: no regression is possible.
    await waitRun(api, (await startRun(api, { suite, model: `${model}:1.1.0`, endpoint: { url: fake.url } })).id);
    g = expectBody(await api.post('/api/v1/evals/gates/evaluate', body('1.1.0', [{ type: 'no_regression', metric: 'exact_match', environment: prod }])), 200, GateEvaluation);
    expect(g).toMatchObject({ passed: true, results: [{ passed: true, reason: expect.stringMatching(/runs no version/) }] });

    // 1.0.0 in production, evaluated on a worse endpoint (half the answers wrong).
    const worse = await startFakeOpenAI({ answers: Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`Question ${i}? ANSWER: Paris ${i}`, 'no idea'])) });
    try {
      const baseRun = await waitRun(api, (await startRun(api, { suite, model: `${model}:1.0.0`, endpoint: { url: worse.url } })).id);
      expect(baseRun.summary!.metrics[0]!.value).toBe(0.5);
    } finally {
      await worse.close();
    }
    await promote('1.0.0', prod);
    g = expectBody(
      await api.post(
        '/api/v1/evals/gates/evaluate',
        body('1.1.0', [
          { type: 'threshold', metric: 'exact_match', op: '>=', value: 0.9 },
          { type: 'no_regression', metric: 'exact_match', environment: prod, maxDelta: 0 },
          { type: 'threshold', metric: 'exact_match', op: '>', value: 1 },
        ]),
      ),
      200,
      GateEvaluation,
    );
    expect(g.results.map((r) => r.passed)).toEqual([true, true, false]);
    expect(g.passed).toBe(false);
    expect(g.results[1]!.evidence).toMatchObject({ value: 1, baseline: { model: `${model}:1.0.0`, value: 0.5 } });
    // And the other way round: 1.0.0 regresses against 1.1.0 in staging.
    await promote('1.1.0', stage);
    g = expectBody(await api.post('/api/v1/evals/gates/evaluate', body('1.0.0', [{ type: 'no_regression', metric: 'exact_match', environment: stage, maxDelta: 0.1 }])), 200, GateEvaluation);
    // A misspelt environment is an error, never "nothing to regress against".
    expectError(await api.post('/api/v1/evals/gates/evaluate', body('1.1.0', [{ type: 'no_regression', metric: 'exact_match', environment: 'prodution' }])), 400, 'invalid_argument');
    expect(g).toMatchObject({ passed: false, results: [{ reason: expect.stringMatching(/0\.5 worse \(allowed loss 0\.1\)/) }] });
    expectError(await api.post('/api/v1/evals/gates/evaluate', body('1.0.0', [{ type: 'threshold', metric: 'exact_match', op: '~', value: 1 }])), 400, 'invalid_argument');
  });

  it('keeps runs inside the namespaces of a limited token', async () => {
    const a = `ns-a-${uid()}`;
    const b = `ns-b-${uid()}`;
    await pushModel(api, `${a}/bot`, '1.0.0');
    await pushModel(api, `${b}/bot`, '1.0.0');
    await pushSuite(api, `${a}/qa`, '1.0.0', qa(2), { metrics: [{ metric: 'exact_match' }] });
    await pushSuite(api, `${b}/qa`, '1.0.0', qa(2), { metrics: [{ metric: 'exact_match' }] });
    const mine = await waitRun(api, (await startRun(api, { suite: `${a}/qa`, model: `${a}/bot:1.0.0`, endpoint: { url: fake.url } })).id);
    const theirs = await waitRun(api, (await startRun(api, { suite: `${b}/qa`, model: `${b}/bot:1.0.0`, endpoint: { url: fake.url } })).id);
    const created = await api.post('/api/v1/tokens', { name: `scoped-${uid()}`, role: 'developer', namespaces: [a] });
    expect(created.status).toBe(201);
    const scoped = apiClient({ url: server.url, token: (created.body as { token: string }).token });
    expectBody(await scoped.get(`/api/v1/evals/runs/${mine.id}`), 200, RunResponse);
    expectError(await scoped.get(`/api/v1/evals/runs/${theirs.id}`), 404, 'not_found');
    expectError(await scoped.get(`/api/v1/evals/runs/${theirs.id}/results`), 404, 'not_found');
    expectError(await scoped.post(`/api/v1/evals/runs/${theirs.id}/cancel`), 404, 'not_found');
    expectError(await scoped.get(`/api/v1/evals/compare?a=${mine.id}&b=${theirs.id}`), 404, 'not_found');
    // A bare model name belongs to no namespace, so not to the token's either.
    const bareModel = `bare-${uid()}`;
    await pushModel(api, bareModel, '1.0.0');
    const bare = await waitRun(api, (await startRun(api, { suite: `${a}/qa`, model: `${bareModel}:1.0.0`, endpoint: { url: fake.url } })).id);
    expectError(await scoped.get(`/api/v1/evals/runs/${bare.id}`), 404, 'not_found');
    const listed = expectBody(await scoped.get('/api/v1/evals/runs?limit=1000'), 200, RunPage).items.map((r) => r.id);
    expect(listed).toContain(mine.id);
    expect(listed).not.toContain(theirs.id);
    expect(listed).not.toContain(bare.id);
    // Running across namespaces, or reading another team's suite through a gate, is refused before any lookup.
    expectError(await scoped.post('/api/v1/evals/runs', { suite: `${b}/qa`, model: `${a}/bot:1.0.0`, endpoint: { url: fake.url } }), 403, 'permission_denied');
    expectError(await scoped.post('/api/v1/evals/gates/evaluate', { model: `${a}/bot:1.0.0`, gates: [{ type: 'threshold', metric: 'exact_match', suite: `${b}/qa`, op: '>=', value: 0 }] }), 403, 'permission_denied');
    expect(expectBody(await scoped.post('/api/v1/evals/gates/evaluate', { model: `${a}/bot:1.0.0`, gates: [{ type: 'threshold', metric: 'exact_match', op: '>=', value: 1 }] }), 200, GateEvaluation).passed).toBe(true);
  });

  it('lists the metrics library with parameter schemas', async () => {
    const list = expectBody(await api.get('/api/v1/evals/metrics'), 200, MetricList);
    const names = list.items.map((m) => m.name);
    for (const n of ['exact_match', 'contains', 'regex', 'json_valid', 'json_schema', 'f1', 'bleu', 'rouge1', 'rouge2', 'rougeL', 'latency_p50', 'latency_p95', 'ttft_p50', 'output_tokens_per_second', 'cost', 'refusal_rate', 'llm_judge', 'perplexity']) {
      expect(names).toContain(n);
    }
  });
});

/**
 * The job runner's admin listing over HTTP: evaluation runs show up as `eval.run` jobs keyed by
 * run, a cancelled run cancels its job, and only an unrestricted admin token reads jobs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreatedTokenResponse } from '../src/contracts/auth.js';
import { RunResponse } from '../src/contracts/evals.js';
import { JobPage, JobResponse } from '../src/contracts/jobs.js';
import { jsonl, pushModel, pushSuite, startRun, waitRun } from './helpers/evals-fixtures.js';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.js';
import { expectBody, expectError, serveSuite, uid, type Api } from './helpers/test-api.js';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake?.close();
});

describe('jobs admin listing (sqlite-fs)', () => {
  let api: Api;
  serveSuite('sqlite-fs', (_s, a) => (api = a), { evalRetryBaseMs: 5 });

  it('lists evaluation runs as eval.run jobs, keyed by run, and reads one', async () => {
    const model = `jobs-${uid()}/bot`;
    const suite = `jobs-${uid()}-suite`;
    await pushModel(api, model, '1.0.0');
    await pushSuite(api, suite, '1.0.0', jsonl([{ id: 'a', input: 'ANSWER: x', expected: 'x' }]), { metrics: [{ metric: 'exact_match' }] });
    const run = await startRun(api, { suite, model: `${model}:1.0.0`, endpoint: { url: fake.url } });
    expect((await waitRun(api, run.id)).state).toBe('succeeded');

    const page = expectBody(await api.get('/api/v1/jobs?kind=eval.run&limit=100'), 200, JobPage);
    const job = page.items.find((j) => j.key === `eval-run:${run.id}`);
    expect(job).toMatchObject({ kind: 'eval.run', payload: { runId: run.id }, state: 'succeeded', attempts: 1, leaseOwner: null, lastError: null });
    expect(expectBody(await api.get(`/api/v1/jobs/${job!.id}`), 200, JobResponse)).toEqual(job);
    expect(expectBody(await api.get('/api/v1/jobs?state=failed'), 200, JobPage).items.every((j) => j.state === 'failed')).toBe(true);

    // A slow run cancelled while it executes: its job is cancelled with it.
    const slowSuite = `${suite}-slow`;
    await pushSuite(api, slowSuite, '1.0.0', jsonl(Array.from({ length: 5 }, (_, i) => ({ id: `s${i}`, input: `[[slow:400]] ANSWER: x${i}`, expected: `x${i}` }))), { metrics: [{ metric: 'exact_match' }] });
    const slow = await startRun(api, { suite: slowSuite, model: `${model}:1.0.0`, endpoint: { url: fake.url }, concurrency: 1 });
    await waitRun(api, slow.id, (r) => r.state === 'running');
    expect(expectBody(await api.post(`/api/v1/evals/runs/${slow.id}/cancel`), 200, RunResponse).state).toBe('cancelled');
    const jobs = expectBody(await api.get('/api/v1/jobs?kind=eval.run&limit=100'), 200, JobPage).items.filter((j) => j.key === `eval-run:${slow.id}`);
    expect(jobs.map((j) => j.state)).toEqual(['cancelled']);
  });

  it('refuses bad queries and unknown jobs', async () => {
    expectError(await api.get('/api/v1/jobs?state=sleeping'), 400, 'invalid_argument');
    expectError(await api.get('/api/v1/jobs?limit=0'), 400, 'invalid_argument');
    expectError(await api.get('/api/v1/jobs?cursor=garbage'), 400, 'invalid_argument');
    expectError(await api.get('/api/v1/jobs/job_missing'), 404, 'not_found');
  });

  it('needs an admin token without a namespace limit', async () => {
    const developer = expectBody(await api.post('/api/v1/tokens', { name: `dev-${uid()}`, role: 'developer' }), 201, CreatedTokenResponse).token;
    expectError(await api.get('/api/v1/jobs', { token: developer }), 403, 'permission_denied');
    // Jobs belong to no namespace: even an admin limited to one reads none of them.
    const limited = expectBody(await api.post('/api/v1/tokens', { name: `adm-${uid()}`, role: 'admin', namespaces: ['team-a'] }), 201, CreatedTokenResponse).token;
    expectError(await api.get('/api/v1/jobs', { token: limited }), 403, 'permission_denied');
    expectError(await api.get('/api/v1/jobs/job_missing', { token: limited }), 403, 'permission_denied');
    expectError(await api.get('/api/v1/jobs', { token: null }), 401, 'unauthenticated');
  });
});

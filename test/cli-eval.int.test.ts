/**
 * `steward eval` as a user runs it: the real binary against a real server (SQLite + files) and
 * a fake OpenAI-compatible endpoint. Suites checked locally (line numbers) before any upload,
 * runs followed to the end, thresholds deciding the exit code, show/ls/compare/gate with --json
 * shapes against the contracts, API keys taken from the environment only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompareRunsResponse, GateEvaluation, RunPage, RunResponse, type EvalSuiteSpecInput } from '../src/contracts/evals.js';
import { ModelVersionDocument } from '../src/contracts/model-version.js';
import { cliEnv, runCli, type CliEnv } from './helpers/cli.js';
import { jsonl } from './helpers/evals-fixtures.js';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
let env: CliEnv;
let fake: FakeOpenAI;
let keyed: FakeOpenAI;

function suiteDir(name: string, cases: string, spec: EvalSuiteSpecInput | string): string {
  const dir = path.join(env.home, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'cases.jsonl'), cases);
  fs.writeFileSync(path.join(dir, 'suite.json'), typeof spec === 'string' ? spec : JSON.stringify(spec));
  return dir;
}

const cases = (n: number, wrong: number[] = []) => jsonl(Array.from({ length: n }, (_, i) => ({ id: `q${i}`, input: `Q${i} ANSWER: ${wrong.includes(i) ? 'nope' : `yes ${i}`}`, expected: `yes ${i}` })));

beforeAll(async () => {
  server = await startTestServer('sqlite-fs', { evalRetryBaseMs: 5 });
  env = cliEnv(server.url, server.token);
  fake = await startFakeOpenAI();
  keyed = await startFakeOpenAI({ apiKey: 'sk-test-secret' });
  const model = fs.mkdtempSync(path.join(env.home, 'model-'));
  fs.writeFileSync(path.join(model, 'config.json'), '{"arch":"llama"}');
  for (const v of ['1.0.0', '2.0.0']) {
    const r = await runCli(['push', model, '--model', 'acme/bot', '--version', v, '--no-progress'], env);
    expect(r.code, r.stderr).toBe(0);
  }
});
afterAll(async () => {
  await server?.stop();
  await fake?.close();
  await keyed?.close();
});

describe('steward eval', () => {
  it('checks a suite locally and names the bad line; nothing is pushed', async () => {
    const bad = suiteDir('bad', `${JSON.stringify({ input: 'a', expected: 'a' })}\n{"input": 3}\n`, { metrics: [{ metric: 'exact_match' }] });
    let r = await runCli(['eval', 'suite', 'push', bad, '--name', 'qa-bad', '--version', '1.0.0'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cases\.jsonl: line 2: input: /);
    r = await runCli(['dataset', 'show', 'qa-bad:1.0.0'], env);
    expect(r.code).toBe(1);

    const noThreshold = suiteDir('bad2', cases(2), { metrics: [{ metric: 'exact_match' }], thresholds: [{ metric: 'bleu', op: '>=', value: 1 }] });
    r = await runCli(['eval', 'suite', 'check', noThreshold], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/threshold on "bleu", which is not a metric of this suite/);

    // Unknown metric names are the server's to know: refused there, with the list of known ones.
    const unknown = suiteDir('bad3', cases(2), { metrics: [{ metric: 'bertscore' }] });
    r = await runCli(['eval', 'suite', 'push', unknown, '--name', 'qa-bad3', '--version', '1.0.0', '--no-progress'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bertscore/);
    expect(r.stderr).toMatch(/exact_match/);
  });

  it('runs a suite to the end, shows it, and fails the exit code when a threshold fails', async () => {
    const dir = suiteDir('qa', cases(10, [2, 5, 8]), { metrics: [{ metric: 'exact_match' }, { metric: 'rougeL' }], thresholds: [{ metric: 'exact_match', op: '>=', value: 0.6 }] });
    let r = await runCli(['eval', 'suite', 'push', dir, '--name', 'qa', '--version', '1.0.0', '--no-progress'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/suite: 10 cases, checked/);

    r = await runCli(['eval', 'run', 'qa:1.0.0', '--model', 'acme/bot:1.0.0', '--endpoint', fake.url, '-c', '4'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/state|succeeded/);
    expect(r.stdout).toMatch(/exact_match\s+0\.7\s+0\.\d+ – \d(\.\d+)?\s+10\s+0\s+higher/);
    expect(r.stdout).toMatch(/all thresholds passed/);
    const id = /run\s+(run_\w+)/.exec(r.stdout)![1]!;

    r = await runCli(['eval', 'show', id, '--failed'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/failed cases \(3\)/);
    expect(r.stdout).toMatch(/q2\s+ok/);

    const shown = await runCli(['eval', 'show', id, '--json'], env);
    expect(RunResponse.parse(JSON.parse(shown.stdout))).toMatchObject({ id, state: 'succeeded', done: 10 });

    const doc = await runCli(['show', 'acme/bot:1.0.0'], env);
    expect(doc.stdout).toMatch(new RegExp(`evaluations \\(latest run per suite\\)\\n  ${id}  qa:1\\.0\\.0  passed  exact_match=0\\.7`));
    const docJson = ModelVersionDocument.parse(JSON.parse((await runCli(['show', 'acme/bot:1.0.0', '--json'], env)).stdout));
    expect(docJson.evaluations?.[0]?.run).toBe(id);

    // A stricter suite version: the run completes, but the exit code says the thresholds failed.
    const strict = suiteDir('qa-strict', cases(10, [2, 5, 8]), { metrics: [{ metric: 'exact_match' }], thresholds: [{ metric: 'exact_match', op: '>=', value: 0.9 }] });
    expect((await runCli(['eval', 'suite', 'push', strict, '--name', 'qa', '--version', '1.1.0', '--no-progress'], env)).code).toBe(0);
    r = await runCli(['eval', 'run', 'qa', '--model', 'acme/bot:1.0.0', '--endpoint', fake.url, '--json'], env);
    expect(r.code).toBe(1);
    const failedRun = RunResponse.parse(JSON.parse(r.stdout));
    expect(failedRun).toMatchObject({ state: 'succeeded', suite: { version: '1.1.0' }, summary: { passed: false } });

    const ls = RunPage.parse(JSON.parse((await runCli(['eval', 'ls', '--model', 'acme/bot', '--json'], env)).stdout));
    expect(ls.items.map((x) => x.id)).toEqual([failedRun.id, id]);
  });

  it('compares two runs and evaluates gates with exit codes', async () => {
    const a = RunResponse.parse(JSON.parse((await runCli(['eval', 'run', 'qa:1.0.0', '--model', 'acme/bot:1.0.0', '--endpoint', fake.url, '--json'], env)).stdout));
    const better = await startFakeOpenAI({ answers: { 'Q2 ANSWER: nope': 'yes 2', 'Q5 ANSWER: nope': 'yes 5' } });
    try {
      const b = RunResponse.parse(JSON.parse((await runCli(['eval', 'run', 'qa:1.0.0', '--model', 'acme/bot:2.0.0', '--endpoint', better.url, '--json'], env)).stdout));
      const human = await runCli(['eval', 'compare', a.id, b.id], env);
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(/exact_match\s+0\.7\s+0\.9\s+\+0\.2/);
      expect(human.stdout).toMatch(/q2\s+exact_match\s+0\s+1\s+fixed/);
      const json = CompareRunsResponse.parse(JSON.parse((await runCli(['eval', 'compare', a.id, b.id, '--json'], env)).stdout));
      expect(json.flipped.filter((f) => f.metric === 'exact_match').map((f) => f.caseId)).toEqual(['q2', 'q5']);
    } finally {
      await better.close();
    }
    // An environment of this test (no policy), holding 1.0.0: what no-regression compares with.
    expect((await runCli(['env', 'set', 'live'], env)).code).toBe(0);
    expect((await runCli(['promote', 'acme/bot:1.0.0', '--to', 'live'], env)).code).toBe(0);
    let g = await runCli(['eval', 'gate', 'acme/bot:2.0.0', '--gate', 'qa:1.0.0/exact_match >= 0.85', '--gate', 'qa:1.0.0/exact_match no-regression live'], env);
    expect(g.code, g.stdout + g.stderr).toBe(0);
    expect(g.stdout).toMatch(/all gates passed/);
    g = await runCli(['eval', 'gate', 'acme/bot:1.0.0', '--gate', 'qa:1.0.0/exact_match >= 0.85', '--json'], env);
    expect(g.code).toBe(1);
    expect(GateEvaluation.parse(JSON.parse(g.stdout)).passed).toBe(false);
    g = await runCli(['eval', 'gate', 'acme/bot:1.0.0', '--gate', 'exact_match about 3'], env);
    expect(g.code).toBe(2);
    expect(g.stderr).toMatch(/a gate looks like/);
  });

  it('takes the endpoint key from the environment and never prints or stores it', async () => {
    const noKey = await runCli(['eval', 'run', 'qa:1.0.0', '--model', 'acme/bot:1.0.0', '--endpoint', keyed.url, '--retries', '0', '--json'], env);
    expect(noKey.code).toBe(1);
    expect(RunResponse.parse(JSON.parse(noKey.stdout)).state).toBe('failed');
    expect(noKey.stderr).toMatch(/answered 401/);
    const ok = await runCli(['eval', 'run', 'qa:1.0.0', '--model', 'acme/bot:1.0.0', '--endpoint', keyed.url, '--json'], env, { extraEnv: { STEWARD_ENDPOINT_API_KEY: 'sk-test-secret' } });
    expect(ok.code, ok.stderr).toBe(0);
    const run = RunResponse.parse(JSON.parse(ok.stdout));
    expect(run.endpoint.auth).toBe(true);
    expect(ok.stdout + ok.stderr).not.toMatch(/sk-test-secret/);
    // Not in the database either.
    const db = fs.readFileSync(path.join(server.dataDir, 'steward.db'));
    expect(db.includes('sk-test-secret')).toBe(false);
  });

  it('refuses bad usage with exit code 2', async () => {
    let r = await runCli(['eval', 'run', 'qa', '--model', 'acme/bot:1.0.0', '--endpoint', fake.url, '--timeout', 'soon'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--timeout "soon" must look like 500ms, 30s or 2m/);
    r = await runCli(['eval', 'run', 'qa', '--model', 'acme/bot:1.0.0', '--endpoint', fake.url, '-c', '0'], env);
    expect(r.code).toBe(2);
    r = await runCli(['eval', 'run', 'qa', '--endpoint', fake.url], env);
    expect(r.code).toBe(2);
    r = await runCli(['eval', 'show', 'run_nope'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not found/);
  });
});

import { describe, expect, it } from 'vitest';
import { CreateRunBody, EvalSuiteSpec, endpointUrlCredential, parseCasesJsonl, parseGate } from './evals.js';

describe('parseCasesJsonl', () => {
  it('parses cases, skips blank lines, defaults ids to line numbers', () => {
    const r = parseCasesJsonl('\uFEFF{"input":"a","expected":"A"}\n\n{"id":"x","input":[{"role":"user","content":"b"}],"references":["B"],"tags":["t"]}\n');
    expect(r).toEqual({
      ok: true,
      cases: [
        { id: '1', line: 1, input: 'a', expected: 'A', tags: [] },
        { id: 'x', line: 3, input: [{ role: 'user', content: 'b' }], references: ['B'], tags: ['t'] },
      ],
    });
  });

  it('names the first bad line', () => {
    expect(parseCasesJsonl('{"input":"a"}\n{"input":"b"\n')).toMatchObject({ ok: false, line: 2, message: expect.stringMatching(/^line 2: not valid JSON/) });
    expect(parseCasesJsonl('[1]')).toMatchObject({ ok: false, line: 1, message: 'line 1: each line must be a JSON object' });
    expect(parseCasesJsonl('{"input":"a","extra":1}')).toMatchObject({ ok: false, line: 1, message: expect.stringMatching(/Unrecognized key/) });
    expect(parseCasesJsonl('{"expected":"a"}')).toMatchObject({ ok: false, message: expect.stringMatching(/needs "input"/) });
    expect(parseCasesJsonl('{"expected":"a"}', { hasSuitePrompt: true }).ok).toBe(true);
    expect(parseCasesJsonl('{"input":"a","prompt":{"ref":"p"}}')).toMatchObject({ ok: false, message: 'line 1: give "input" or "prompt", not both' });
    expect(parseCasesJsonl('{"id":"a","input":"x"}\n{"id":"a","input":"y"}')).toMatchObject({ ok: false, line: 2, message: expect.stringMatching(/appears twice/) });
    expect(parseCasesJsonl('\n\n')).toMatchObject({ ok: false, message: 'the cases file holds no cases' });
    expect(parseCasesJsonl('{"input":"a"}\n{"input":"b"}', { maxCases: 1 })).toMatchObject({ ok: false, line: 2 });
    // Variables nested past the JSON depth bound are refused like a bad line, before parsing.
    const deep = `{"prompt":{"variables":{"v":${'['.repeat(100)}${']'.repeat(100)}}}}`;
    expect(parseCasesJsonl(`{"input":"a"}\n${deep}`)).toMatchObject({ ok: false, line: 2, message: 'line 2: nests arrays or objects deeper than 64 levels' });
  });
});

describe('EvalSuiteSpec', () => {
  it('refuses thresholds on metrics the suite does not compute, and duplicate ids', () => {
    const bad = EvalSuiteSpec.safeParse({ metrics: [{ metric: 'exact_match' }], thresholds: [{ metric: 'bleu', op: '>=', value: 1 }] });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.message).toMatch(/threshold on "bleu", which is not a metric of this suite \(metrics: exact_match\)/);
    expect(EvalSuiteSpec.safeParse({ metrics: [{ metric: 'regex', params: { pattern: 'a' } }, { metric: 'regex', params: { pattern: 'b' } }] }).success).toBe(false);
    expect(EvalSuiteSpec.safeParse({ metrics: [{ id: 'a', metric: 'regex' }, { id: 'b', metric: 'regex' }], thresholds: [{ metric: 'b', op: '<', value: 2 }] }).success).toBe(true);
    expect(EvalSuiteSpec.safeParse({ metrics: [] }).success).toBe(false);
  });
});

describe('parseGate', () => {
  it('reads thresholds and no-regression gates, with an optional suite', () => {
    expect(parseGate('exact_match >= 0.8')).toEqual({ ok: true, gate: { type: 'threshold', metric: 'exact_match', op: '>=', value: 0.8 } });
    expect(parseGate(' qa:1.0.0/rougeL < 3 ')).toEqual({ ok: true, gate: { type: 'threshold', metric: 'rougeL', op: '<', value: 3, suite: 'qa:1.0.0' } });
    expect(parseGate('bleu no-regression production')).toEqual({ ok: true, gate: { type: 'no_regression', metric: 'bleu', environment: 'production', maxDelta: 0 } });
    expect(parseGate('team/qa/bleu no-regression staging 0.5')).toEqual({ ok: true, gate: { type: 'no_regression', metric: 'bleu', environment: 'staging', maxDelta: 0.5, suite: 'team/qa' } });
  });

  it('refuses what it cannot read, saying what a gate looks like', () => {
    for (const g of ['exact_match', 'exact_match ~ 1', 'exact_match >= high', 'exact_match >= 1 2', 'bleu no-regression prod -1', '9x >= 1']) {
      const r = parseGate(g);
      expect(r.ok, g).toBe(false);
    }
    expect(parseGate('em')).toMatchObject({ ok: false, message: expect.stringMatching(/a gate looks like/) });
  });
});

describe('endpoint URLs', () => {
  it('finds credentials in the user info or the query string, naming where without the value', () => {
    const found = {
      'http://user:pw@10.0.0.1:8000/v1': 'user:password@',
      'http://user@10.0.0.1/v1': 'user:password@',
      'https://x.openai.azure.com/openai/deployments/d?api-version=2024-02-01&api-key=SECRET': 'the query parameter "api-key"',
      'https://h/v1?key=SECRET': 'the query parameter "key"',
      'https://h/v1?token=SECRET': 'the query parameter "token"',
      'https://h/v1?access_token=SECRET': 'the query parameter "access_token"',
      'https://h/v1?X-Api-Key=SECRET': 'the query parameter "X-Api-Key"',
      'https://h/v1?sig=SECRET': 'the query parameter "sig"',
      'https://h/v1?code=SECRET': 'the query parameter "code"',
      'https://h/v1?client_secret=SECRET': 'the query parameter "client_secret"',
      'https://h/v1?password=SECRET': 'the query parameter "password"',
    };
    for (const [url, what] of Object.entries(found)) expect(endpointUrlCredential(url), url).toBe(what);
    for (const url of ['http://127.0.0.1:8000/v1', 'https://x.openai.azure.com/openai/deployments/d?api-version=2024-02-01', 'http://h/v1?model=x']) {
      expect(endpointUrlCredential(url), url).toBeNull();
    }
  });

  it('refuses a run whose endpoint or judge URL carries a credential: keys go in the key field', () => {
    const base = { suite: 's', model: 'm:1.0.0' };
    for (const body of [
      { ...base, endpoint: { url: 'http://user:hunter2@10.0.0.1/v1' } },
      { ...base, endpoint: { url: 'http://10.0.0.1/v1' }, judge: { url: 'http://10.0.0.1/v1?api-key=hunter2' } },
    ]) {
      const r = CreateRunBody.safeParse(body);
      expect(r.success).toBe(false);
      const message = r.error!.issues[0]!.message;
      expect(message).toMatch(/holds a credential .*keys go in the apiKey field/);
      expect(message).not.toContain('hunter2');
    }
    expect(CreateRunBody.safeParse({ ...base, endpoint: { url: 'http://10.0.0.1/v1', apiKey: 'hunter2' } }).success).toBe(true);
  });
});

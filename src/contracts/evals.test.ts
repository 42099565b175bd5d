import { describe, expect, it } from 'vitest';
import { EvalSuiteSpec, parseCasesJsonl, parseGate } from './evals.js';

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

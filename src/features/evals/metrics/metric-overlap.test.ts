import { describe, expect, it } from 'vitest';
import { bleu, f1, rouge1, rouge2, rougeLMetric, squadF1 } from './metric-overlap.js';
import type { CaseOutcome, CaseValue } from './metric-types.js';

function outcome(output: string, references: string[] = []): CaseOutcome {
  return {
    caseId: 'c1', input: 'q', output, expected: references[0] ?? null, references, schema: null, tags: [],
    latencyMs: 100, ttftMs: null, inputTokens: null, outputTokens: null, logprobs: null,
  };
}

describe('f1 (SQuAD v1.1 f1_score)', () => {
  it("'the cat sat' vs 'a cat sat down': tokens [cat sat] vs [cat sat down] → P 1, R 2/3, F1 0.8", () => {
    expect(squadF1('the cat sat', 'a cat sat down')).toBeCloseTo(0.8, 12);
  });

  it('counts shared tokens with multiplicity (Counter intersection)', () => {
    // pred [cat cat dog], truth [cat dog dog]: common cat×1 + dog×1 = 2 of 3 each
    expect(squadF1('cat cat dog', 'cat dog dog')).toBeCloseTo(2 / 3, 12);
  });

  it('is 0 with no shared token, including when both normalise to nothing', () => {
    expect(squadF1('Paris', 'London')).toBe(0);
    expect(squadF1('the', 'a')).toBe(0);
  });

  it('takes the best reference and needs one', () => {
    expect(f1.score(outcome('the cat sat', ['dog', 'a cat sat down', 'cat']), {}, {})).toEqual({ value: expect.closeTo(0.8, 12) as number });
    expect(f1.score(outcome('x'), {}, {})).toEqual({ value: null, error: 'case has no expected output or references' });
    expect(f1.aggregate([{ value: 0.8 }, { value: 0.4 }], {})).toBeCloseTo(0.6, 12);
  });
});

describe('bleu metric', () => {
  const params = bleu.params.parse({});
  const HYPS = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'];
  const SET1 = ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'];
  const SET2 = ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.'];
  const scored = HYPS.map((h, i) => bleu.score(outcome(h, [SET1[i]!, SET2[i]!]), params, {}) as CaseValue);

  it('aggregates the README example to corpus BLEU 48.53 from per-case stats', () => {
    expect(scored.every((s) => s.stats?.length === 10)).toBe(true);
    expect(Math.round(bleu.aggregate(scored, params) * 100) / 100).toBe(48.53);
  });

  it('is a corpus figure, not the mean of sentence BLEU', () => {
    const mean = scored.reduce((a, s) => a + s.value!, 0) / scored.length;
    expect(Math.abs(mean - bleu.aggregate(scored, params))).toBeGreaterThan(0.5);
  });

  it('gives sentence BLEU per case: 100 for a hypothesis equal to a reference', () => {
    expect(scored[0]!.value).toBeCloseTo(100, 9);
  });

  it('recomputes from any subset or repetition of cases (bootstrap-safe)', () => {
    const twice = bleu.aggregate([...scored, ...scored], params);
    expect(twice).toBeCloseTo(bleu.aggregate(scored, params), 9);
    expect(bleu.aggregate([], params)).toBeNaN();
  });

  it('drops empty references and needs at least one', () => {
    expect(bleu.score(outcome('The dog bit the man.', ['', 'The dog bit the man.']), params, {}).value).toBeCloseTo(100, 9);
    expect(bleu.score(outcome('x', ['']), params, {})).toEqual({ value: null, error: 'case has no expected output or references' });
  });

  it('validates params', () => {
    expect(bleu.params.safeParse({ tokenize: 'intl' }).success).toBe(false);
    expect(bleu.params.parse({})).toEqual({ tokenize: '13a', lowercase: false, smoothMethod: 'exp' });
  });
});

describe('rouge metrics', () => {
  const params = rouge1.params.parse({});
  const o = outcome('The quick brown dog jumps on the log.', ['The quick brown fox jumps over the lazy dog']);

  it('score the rouge-score README example (F-measure), stemming by default', () => {
    expect(rouge1.score(o, params, {}).value).toBeCloseTo(0.7058823529411765, 12);
    expect(rouge2.score(o, params, {}).value).toBeCloseTo(4 / 15, 12);
    expect(rougeLMetric.score(o, params, {})).toEqual({ value: expect.closeTo(0.5882352941176471, 12) as number, detail: { precision: 0.625, recall: expect.closeTo(5 / 9, 12) as number } });
  });

  it('stem: false matches unstemmed tokens only', () => {
    // 'jumps' ≠ 'jump' without stemming
    expect(rouge1.score(outcome('dog jumps', ['dog jump']), rouge1.params.parse({ stem: false }), {}).value).toBe(0.5);
    expect(rouge1.score(outcome('dog jumps', ['dog jump']), params, {}).value).toBe(1);
  });

  it('takes the reference with the best F-measure', () => {
    expect(rouge1.score(outcome('a b c', ['x y z', 'a b c', 'a']), params, {}).value).toBe(1);
  });

  it('averages over cases and needs references', () => {
    expect(rouge1.aggregate([{ value: 1 }, { value: 0.5 }], params)).toBe(0.75);
    expect(rouge2.score(outcome('x'), params, {}).error).toBe('case has no expected output or references');
  });
});

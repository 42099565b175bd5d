import { describe, expect, it } from 'vitest';
import { perplexity } from './metric-perplexity.js';
import type { CaseOutcome, CaseValue } from './metric-types.js';

function outcome(logprobs: number[] | null): CaseOutcome {
  return {
    caseId: 'c1', input: 'q', output: 'a', expected: null, references: [], schema: null, tags: [],
    latencyMs: 100, ttftMs: null, inputTokens: null, outputTokens: null, logprobs,
  };
}

describe('perplexity', () => {
  it('is exp(−mean logprob) per case, with [Σ logprob, count] as stats', () => {
    // two tokens at probability 1/2 and 1/8: mean log = −2 ln 2 → perplexity 4
    const r = perplexity.score(outcome([Math.log(1 / 2), Math.log(1 / 8)]), {}, {});
    expect(r.value).toBeCloseTo(4, 12);
    expect(r.stats![0]).toBeCloseTo(-4 * Math.log(2), 12);
    expect(r.stats![1]).toBe(2);
    expect(perplexity.score(outcome([0, 0, 0]), {}, {}).value).toBe(1);
  });

  it('aggregates to corpus perplexity, weighting cases by their token count', () => {
    const a = perplexity.score(outcome([Math.log(1 / 2)]), {}, {}) as CaseValue; // 1 token, ppl 2
    const b = perplexity.score(outcome([Math.log(1 / 8), Math.log(1 / 8), Math.log(1 / 8)]), {}, {}) as CaseValue; // 3 tokens, ppl 8
    // exp(−(ln½ + 3 ln⅛)/4) = exp(10 ln 2 / 4) = 2^2.5, not the mean of 2 and 8
    expect(perplexity.aggregate([a, b], {})).toBeCloseTo(2 ** 2.5, 12);
    expect(perplexity.aggregate([], {})).toBeNaN();
  });

  it('needs logprobs and refuses non-finite ones', () => {
    expect(perplexity.needs).toEqual({ logprobs: true });
    expect(perplexity.score(outcome(null), {}, {}).value).toBeNull();
    expect(perplexity.score(outcome([]), {}, {}).error).toMatch(/no logprobs/);
    expect(perplexity.score(outcome([-1, Number.NEGATIVE_INFINITY]), {}, {}).error).toMatch(/non-finite/);
    expect(perplexity.higherIsBetter).toBe(false);
  });
});

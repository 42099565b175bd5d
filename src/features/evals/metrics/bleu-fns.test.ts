import { describe, expect, it } from 'vitest';
import { bleuSegmentStats, computeBleu, tokenize13a, type BleuSmooth, type BleuTokenize } from './bleu-fns.js';

/** sacreBLEU `corpus_bleu(hyps, [refs_set1, refs_set2, …])`, through our per-segment stats. */
function corpusBleu(hyps: string[], refSets: string[][], opts: { tokenize?: BleuTokenize; smooth?: BleuSmooth; lowercase?: boolean } = {}): number {
  const total = new Array<number>(10).fill(0);
  hyps.forEach((h, i) => {
    const refs = refSets.map((set) => set[i]!).filter((r) => r !== '');
    const s = bleuSegmentStats(h, refs, { tokenize: opts.tokenize ?? '13a', lowercase: opts.lowercase ?? false });
    s.forEach((x, j) => (total[j]! += x));
  });
  return computeBleu(total, { smoothMethod: opts.smooth ?? 'exp', effectiveOrder: false }).score;
}

// sacreBLEU README example; expected figures from mjpost/sacrebleu test/test_bleu.py (test_corpus_bleu)
const HYPS = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'];
const REFS = [
  ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'],
  ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.'],
];

describe('tokenize13a (sacreBLEU Tokenizer13a)', () => {
  it('splits punctuation and symbols off words', () => {
    expect(tokenize13a("It wasn't surprising.")).toBe("It wasn't surprising .");
    expect(tokenize13a('Hello, world! (yes)')).toBe('Hello , world ! ( yes )');
    expect(tokenize13a('a/b $5 @me {x} ~y')).toBe('a / b $ 5 @ me { x } ~ y');
  });

  it('keeps periods and commas inside numbers, and splits a dash after a digit', () => {
    expect(tokenize13a('3.5, 10-20 and e-mail 1,000.')).toBe('3.5 , 10 - 20 and e-mail 1,000 .');
  });

  it('unescapes the four HTML entities, joins hyphenated line breaks and drops <skipped>', () => {
    expect(tokenize13a('&quot;Hi&quot; &amp; &lt;b&gt;')).toBe('" Hi " & < b >');
    expect(tokenize13a('line-\nbreak\nnext <skipped>')).toBe('linebreak next');
  });
});

describe('corpus BLEU (sacreBLEU compatibility)', () => {
  it('gives 48.53 on the README example with default settings', () => {
    const score = corpusBleu(HYPS, REFS);
    expect(Math.round(score * 100) / 100).toBe(48.53);
    expect(score).toBeCloseTo(48.530827, 5);
  });

  it('matches test_bleu.py for tokenize none (49.1919566) and smooth none (48.530827)', () => {
    expect(corpusBleu(HYPS, REFS, { tokenize: 'none' })).toBeCloseTo(49.1919566, 5);
    expect(corpusBleu(HYPS, REFS, { smooth: 'none' })).toBeCloseTo(48.530827, 5);
  });

  it('scores empty hypotheses 0 (they are not dropped)', () => {
    expect(corpusBleu(['', '', ''], REFS)).toBe(0);
  });

  it('counts the statistics of test_bleu.py test_statistics', () => {
    const s = bleuSegmentStats('am I am a character sequence', ['I am a symbol string sequence a a'], { tokenize: 'none', lowercase: false });
    expect(s).toEqual([6, 8, 4, 2, 1, 0, 6, 5, 4, 3]);
    // test_offset: floor smoothing 0.1 → 0.1555722182; no offset → 0
    expect(computeBleu(s, { smoothMethod: 'floor', smoothValue: 0.1, effectiveOrder: true }).score / 100).toBeCloseTo(0.1555722182, 9);
    expect(computeBleu(s, { smoothMethod: 'floor', smoothValue: 0, effectiveOrder: true }).score).toBeCloseTo(0, 9);
  });

  it('computes test_scoring from raw statistics (0.8375922397)', () => {
    const score = computeBleu([11, 11, 9, 7, 5, 3, 10, 8, 6, 4], { smoothMethod: 'none', effectiveOrder: false }).score;
    expect(score / 100).toBeCloseTo(0.8375922397, 9);
  });

  it('implements effective order as test_effective_order does', () => {
    const one = (h: string, r: string) => computeBleu(bleuSegmentStats(h, [r], { tokenize: 'none', lowercase: false }), { smoothMethod: 'floor', smoothValue: 0.01, effectiveOrder: true }).score / 100;
    expect(one('test', 'a test')).toBeCloseTo(0.3678794411714425, 12);
    expect(one('a test', 'a test')).toBeCloseTo(1, 12);
    expect(one('a little test', 'a test')).toBeCloseTo(0.03218297948685433, 12);
  });

  it('uses the closest reference length, the shorter one on ties', () => {
    // hypothesis of 3 tokens; references of 2 and 4 tokens are equally close → 2
    expect(bleuSegmentStats('a b c', ['a b', 'a b c d'], { tokenize: 'none', lowercase: false }).slice(0, 2)).toEqual([3, 2]);
    expect(bleuSegmentStats('a b c', ['a b c d e', 'x y z w'], { tokenize: 'none', lowercase: false }).slice(0, 2)).toEqual([3, 4]);
  });

  it('clips n-gram counts at the maximum count in any single reference', () => {
    // 'the' ×3 in the hypothesis; at most 2 in one reference → 2 correct unigrams of 3
    expect(bleuSegmentStats('the the the', ['the the cat', 'the'], { tokenize: 'none', lowercase: false }).slice(2, 3)).toEqual([2]);
  });
});

describe('sentence BLEU with effective order (sacreBLEU test_sentence_bleu.py)', () => {
  // example from sacreBLEU issue #98
  const REF = 'producţia de zahăr brut se exprimă în zahăr alb;';
  const SYS = 'Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;';
  const cases: [BleuSmooth, number | undefined, BleuTokenize, number][] = [
    ['exp', undefined, '13a', 8.493],
    ['none', undefined, '13a', 0.0],
    ['floor', undefined, '13a', 4.51688],
    ['floor', 0.5, '13a', 10.1],
    ['add-k', undefined, '13a', 14.882],
    ['add-k', 2, '13a', 21.389],
    ['exp', undefined, 'none', 7.347],
  ];
  it.each(cases)('smooth %s (%s), tokenize %s → %s', (smoothMethod, smoothValue, tokenize, expected) => {
    const stats = bleuSegmentStats(SYS, [REF], { tokenize, lowercase: false });
    expect(Math.abs(computeBleu(stats, { smoothMethod, smoothValue, effectiveOrder: true }).score - expected)).toBeLessThan(1e-3);
  });

  it('is 0 whatever the smoothing when nothing matches (sacreBLEU #141)', () => {
    const stats = bleuSegmentStats('this is a cat', ['okay thanks'], { tokenize: '13a', lowercase: false });
    for (const smoothMethod of ['exp', 'none', 'floor', 'add-k'] as const) expect(computeBleu(stats, { smoothMethod, effectiveOrder: true }).score).toBe(0);
  });

  it('lowercases when asked', () => {
    const s = (lowercase: boolean) => bleuSegmentStats('THE CAT', ['the cat'], { tokenize: '13a', lowercase });
    expect(s(false)[2]).toBe(0);
    expect(s(true)[2]).toBe(2);
  });
});

import { describe, expect, it } from 'vitest';
import { clip, countItems, meanAggregate, pyRstrip, pySplit, squadNormalize, sumStats } from './metric-fns.js';

describe('squadNormalize (SQuAD v1.1 normalize_answer)', () => {
  it('lowercases, drops punctuation, removes articles and collapses whitespace', () => {
    expect(squadNormalize('The Cat,  sat!')).toBe('cat sat');
    expect(squadNormalize('  An apple a day ')).toBe('apple day');
  });

  it('removes punctuation before articles, so "the-end" becomes one token "theend"', () => {
    // remove_punc runs before remove_articles in the official script
    expect(squadNormalize('the-end')).toBe('theend');
    expect(squadNormalize("a's")).toBe('as');
  });

  it('only removes whole-word articles, with Unicode word boundaries as Python 3 reads \\b', () => {
    expect(squadNormalize('theatre and anagram')).toBe('theatre and anagram');
    expect(squadNormalize('éa the')).toBe('éa');
    expect(squadNormalize('a_b')).toBe('ab'); // '_' is ASCII punctuation, removed first
  });

  it('keeps non-ASCII punctuation (string.punctuation is ASCII only)', () => {
    expect(squadNormalize('«Paris»')).toBe('«paris»');
  });
});

describe('Python whitespace helpers', () => {
  it('split on what str.split() splits on, including \\x1c-\\x1f and NBSP, but not U+FEFF', () => {
    expect(pySplit(' a\tb\u00a0c\x1cd\u2003e ')).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(pySplit('a\ufeffb')).toEqual(['a\ufeffb']);
    expect(pySplit('   ')).toEqual([]);
  });

  it('rstrip trims only the right', () => {
    expect(pyRstrip('  x \n\u3000')).toBe('  x');
  });
});

describe('aggregation helpers', () => {
  it('meanAggregate averages non-null values and is NaN when there are none', () => {
    expect(meanAggregate([{ value: 1 }, { value: 0 }, { value: null, error: 'x' }, { value: 0.5 }])).toBe(0.5);
    expect(meanAggregate([])).toBeNaN();
    expect(meanAggregate([{ value: null }])).toBeNaN();
  });

  it('sumStats adds the stats of non-null values', () => {
    const total = sumStats([{ value: 1, stats: [1, 2] }, { value: null, stats: [100, 100] }, { value: 2, stats: [3, 4] }], 2);
    expect(Array.from(total!)).toEqual([4, 6]);
    expect(sumStats([{ value: null }], 2)).toBeNull();
  });

  it('countItems counts, clip cuts with an ellipsis', () => {
    expect([...countItems(['a', 'b', 'a'])]).toEqual([['a', 2], ['b', 1]]);
    expect(clip('abcdef', 3)).toBe('abc…');
    expect(clip('abc', 3)).toBe('abc');
  });
});

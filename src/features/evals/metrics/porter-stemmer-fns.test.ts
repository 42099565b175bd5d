import { describe, expect, it } from 'vitest';
import { porterStem } from './porter-stemmer-fns.js';

describe('porterStem (NLTK PorterStemmer, NLTK_EXTENSIONS mode)', () => {
  it("reproduces the NLTK documentation's example", () => {
    // nltk.stem.porter docstring / NLTK howto: stemmer.stem() over these plurals
    const plurals = ['caresses', 'flies', 'dies', 'mules', 'denied', 'died', 'agreed', 'owned', 'humbled', 'sized', 'meeting', 'stating',
      'siezing', 'itemization', 'sensational', 'traditional', 'reference', 'colonizer', 'plotted'];
    expect(plurals.map(porterStem).join(' ')).toBe(
      'caress fli die mule deni die agre own humbl size meet state siez item sensat tradit refer colon plot',
    );
  });

  it('applies the NLTK extensions where they differ from Porter 1980 / Martin Porter', () => {
    // y -> i only after a consonant that is not the first letter: 'enjoy' stays, 'days' -> 'day'
    expect(porterStem('happy')).toBe('happi');
    expect(porterStem('enjoy')).toBe('enjoy');
    expect(porterStem('days')).toBe('day');
    expect(porterStem('spy')).toBe('spi');
    // irregular forms
    expect(porterStem('dying')).toBe('die');
    expect(porterStem('skies')).toBe('sky');
    expect(porterStem('news')).toBe('news');
    // -fulli -> -ful, then step 3 drops -ful
    expect(porterStem('hopefully')).toBe('hope');
    // -logi -> -log with the 'l' counted in the stem's measure
    expect(porterStem('geology')).toBe('geolog');
    // NLTK issue #1581
    expect(porterStem('oed')).toBe('o');
  });

  it('follows the published steps on classic examples', () => {
    const cases: Record<string, string> = {
      generalization: 'gener', relational: 'relat', conditional: 'condit', rational: 'ration', hopping: 'hop', tanned: 'tan',
      falling: 'fall', hissing: 'hiss', fizzed: 'fizz', failing: 'fail', filing: 'file', controlling: 'control', roll: 'roll',
      adjustment: 'adjust', replacement: 'replac', cement: 'cement', adoption: 'adopt', goodness: 'good', probate: 'probat', rate: 'rate',
      cease: 'ceas', lazy: 'lazi', jumps: 'jump',
    };
    for (const [word, stem] of Object.entries(cases)) expect(porterStem(word), word).toBe(stem);
  });

  it('leaves words of one or two letters alone', () => {
    expect(porterStem('is')).toBe('is');
    expect(porterStem('a')).toBe('a');
  });
});

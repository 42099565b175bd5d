import { describe, expect, it } from 'vitest';
import { lcsLength, rougeL, rougeN, rougeTokenize, type RougeScore } from './rouge-fns.js';

const rounded = (s: RougeScore, places = 4) => {
  const f = 10 ** places;
  return { precision: Math.round(s.precision * f) / f, recall: Math.round(s.recall * f) / f, fmeasure: Math.round(s.fmeasure * f) / f };
};

describe('rougeTokenize (rouge-score tokenize)', () => {
  it('lowercases, splits on anything outside [a-z0-9] and stems tokens longer than 3 characters', () => {
    expect(rougeTokenize("The quick-brown dog's jumps!", true)).toEqual(['the', 'quick', 'brown', 'dog', 's', 'jump']);
    expect(rougeTokenize('The lazy dog', false)).toEqual(['the', 'lazy', 'dog']);
    expect(rougeTokenize('The lazy dog', true)).toEqual(['the', 'lazi', 'dog']);
    // 3-letter words are never stemmed ('was' would become 'wa')
    expect(rougeTokenize('was flies', true)).toEqual(['was', 'fli']);
    expect(rougeTokenize('café — naïve', false)).toEqual(['caf', 'na', 've']);
    expect(rougeTokenize(' /// ', true)).toEqual([]);
  });
});

describe('ROUGE (rouge-score README example, use_stemmer=True)', () => {
  const target = rougeTokenize('The quick brown fox jumps over the lazy dog', true);
  const prediction = rougeTokenize('The quick brown dog jumps on the log.', true);

  it('rouge1: P 0.75, R 0.6667, F 0.7059', () => {
    expect(rounded(rougeN(target, prediction, 1))).toEqual({ precision: 0.75, recall: 0.6667, fmeasure: 0.7059 });
  });

  it('rougeL: P 0.625, R 0.5556, F 0.5882', () => {
    expect(rounded(rougeL(target, prediction))).toEqual({ precision: 0.625, recall: 0.5556, fmeasure: 0.5882 });
  });

  it('rouge2 by hand: 2 shared bigrams (the quick, quick brown) of 7 predicted and 8 target → P 2/7, R 1/4, F 4/15', () => {
    const s = rougeN(target, prediction, 2);
    expect(s.precision).toBeCloseTo(2 / 7, 12);
    expect(s.recall).toBeCloseTo(1 / 4, 12);
    expect(s.fmeasure).toBeCloseTo(4 / 15, 12);
  });
});

describe('rouge-score unit tests (rouge_scorer_test.py)', () => {
  const tok = (s: string) => rougeTokenize(s, false);

  it('testRouge1 / testRouge2 / testRougeLNonConsecutive', () => {
    expect(rougeN(tok('testing one two'), tok('testing'), 1)).toEqual({ precision: 1, recall: 1 / 3, fmeasure: 1 / 2 });
    const r2 = rougeN(tok('testing one two'), tok('testing one'), 2);
    expect([r2.precision, r2.recall]).toEqual([1, 1 / 2]);
    expect(r2.fmeasure).toBeCloseTo(2 / 3, 12);
    const l = rougeL(tok('testing one two'), tok('testing two'));
    expect([l.precision, l.recall]).toEqual([1, 2 / 3]);
    expect(l.fmeasure).toBeCloseTo(4 / 5, 12);
  });

  it('testRougeEmpty: an empty prediction scores 0', () => {
    expect(rougeN(tok('testing one two'), tok(''), 1)).toEqual({ precision: 0, recall: 0, fmeasure: 0 });
    expect(rougeN(tok('testing one two'), tok(''), 2)).toEqual({ precision: 0, recall: 0, fmeasure: 0 });
    expect(rougeL(tok('testing one two'), tok(''))).toEqual({ precision: 0, recall: 0, fmeasure: 0 });
  });

  // rouge/testdata/target.txt and prediction.txt, lines 1–2; expected values are ROUGE-1.5.5 (perl) runs
  const TARGETS = [
    "ZfbCUIUuePaiLVUlCaUXxkpu XPeWing tUHfPMuZ',-Xd Y BrUgVJing M-HV.-DgdDaY.rFDJCRing Ht-LM EKBDXkME,yz'RBr q'wtion wIojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxer tKM L",
    "KsJdPByEtAor fE-Qg Dpdbring cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMtion psing sbKao Q m qiing LMmer HqqLFXe,XPY,J XsurkMer ,ed nB'wH'bWVHjWFEing tQ.saefZwJtKrTlixYpMMsJing UCAPwNHeYVjDing c T BUySKtion gMPfJpwGw p'NvxAoping eu pBwMBKV'I DNxqelhu,PHPxDEq,mtion SN",
  ];
  const PREDICTIONS = [
    "rFDJCRtion Ht-LM EKtDXkME,yz'RBr q'wer wrojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxi",
    "n cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMer pstion sbKao Q m qier LMmed HqqLFXe,XPY,J XsurkMeo ,ed nB'wH'bWVHjWFEer tQ.saefZwJtKrTlixYpMMNJtion UCAPwNHeYVjD",
  ];
  const at = (i: number, stem: boolean) => [rougeTokenize(TARGETS[i]!, stem), rougeTokenize(PREDICTIONS[i]!, stem)] as const;
  const rpf = (s: RougeScore) => [s.recall, s.precision, s.fmeasure].map((x) => Math.round(x * 1e5) / 1e5);

  it('testRouge1AgainstRouge155 (with and without stemming)', () => {
    expect(rpf(rougeN(...at(0, false), 1))).toEqual([0.40741, 0.6875, 0.51163]);
    expect(rpf(rougeN(...at(1, false), 1))).toEqual([0.40476, 0.65385, 0.5]);
    expect(rpf(rougeN(...at(0, true), 1))).toEqual([0.40741, 0.6875, 0.51163]);
    // stemming makes one more match: the target's 'ucapwnheyvjding' stems to the prediction's 'ucapwnheyvjd'
    expect(rpf(rougeN(...at(1, true), 1))).toEqual([0.42857, 0.69231, 0.52941]);
  });

  it('testRouge2AgainstRouge155 (with and without stemming)', () => {
    for (const stem of [false, true]) {
      expect(rpf(rougeN(...at(0, stem), 2))).toEqual([0.30769, 0.53333, 0.39024]);
      expect(rpf(rougeN(...at(1, stem), 2))).toEqual([0.29268, 0.48, 0.36364]);
    }
  });

  it('testRougeLAgainstRouge155', () => {
    expect(rpf(rougeL(...at(0, false)))).toEqual([0.40741, 0.6875, 0.51163]);
    expect(rpf(rougeL(...at(1, false)))).toEqual([0.40476, 0.65385, 0.5]);
  });

  it('testLcsTable: LCS of [1,2,3,4,5] and [2,5,3,4] is 3; none shared is 0', () => {
    expect(lcsLength(['1', '2', '3', '4', '5'], ['2', '5', '3', '4'])).toBe(3);
    expect(lcsLength(['1', '2', '3', '4', '5'], ['8', '9'])).toBe(0);
  });
});

/**
 * sacreBLEU's BLEU, ported: the `13a` tokenizer (mteval-v13a, WMT's standard), n-gram sufficient
 * statistics per segment with multiple references (clipped counts against the per-n-gram maximum
 * over references; effective reference length = the closest reference length, shorter on ties),
 * and `compute_bleu` with its four smoothing methods. Figures are on sacreBLEU's 0–100 scale.
 * Sources: sacrebleu/tokenizers/tokenizer_13a.py, tokenizer_re.py, metrics/bleu.py (v2.x).
 */
import { pyRstrip, pySplit } from './metric-fns.js';

export const BLEU_MAX_ORDER = 4;

export type BleuTokenize = '13a' | 'none';
export type BleuSmooth = 'exp' | 'none' | 'floor' | 'add-k';

/** sacreBLEU's defaults for the smoothing value of `floor` and `add-k` (Chen & Cherry, 2014). */
const SMOOTH_DEFAULTS: Record<BleuSmooth, number> = { exp: 0, none: 0, floor: 0.1, 'add-k': 1 };

// ---- tokenizer_13a ----------------------------------------------------------------------------

/**
 * TokenizerRegexp's substitutions, in order. The first class is sacreBLEU's
 * `[\{-\~\[-\` -\&\(-\+\:-\@\/]`: { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * + : ; < = > ? @ /
 */
const RE_SYMBOLS = /([\x7b-\x7e\x5b-\x60\x20-\x26\x28-\x2b\x3a-\x40\x2f])/gu;
const RE_PERIOD_COMMA_AFTER_NON_DIGIT = /([^0-9])([.,])/gu;
const RE_PERIOD_COMMA_BEFORE_NON_DIGIT = /([.,])([^0-9])/gu;
const RE_DASH_AFTER_DIGIT = /([0-9])(-)/gu;

/** mteval-v13a tokenization as sacreBLEU's Tokenizer13a does it. */
export function tokenize13a(input: string): string {
  let line = input.replaceAll('<skipped>', '').replaceAll('-\n', '').replaceAll('\n', ' ');
  if (line.includes('&')) {
    line = line.replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
  }
  line = ` ${line} `
    .replace(RE_SYMBOLS, ' $1 ')
    .replace(RE_PERIOD_COMMA_AFTER_NON_DIGIT, '$1 $2 ')
    .replace(RE_PERIOD_COMMA_BEFORE_NON_DIGIT, ' $1 $2')
    .replace(RE_DASH_AFTER_DIGIT, '$1 $2 ');
  return pySplit(line).join(' ');
}

/** BLEU's `_preprocess_segment`: optional lowercasing, then the tokenizer on the right-stripped text. */
export function preprocessSegment(sent: string, tokenize: BleuTokenize, lowercase: boolean): string {
  const s = pyRstrip(lowercase ? sent.toLowerCase() : sent);
  return tokenize === '13a' ? tokenize13a(s) : s;
}

// ---- segment statistics -----------------------------------------------------------------------

/** All n-grams of orders 1..maxOrder with their counts; tokens hold no spaces, so ' ' joins safely. */
function ngramCounts(tokens: readonly string[], maxOrder: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let n = 1; n <= maxOrder; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      const key = tokens.slice(i, i + n).join(' ');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

function closestRefLength(hypLen: number, refLens: readonly number[]): number {
  let closestDiff = -1;
  let closestLen = -1;
  for (const refLen of refLens) {
    const diff = Math.abs(hypLen - refLen);
    if (closestDiff === -1 || diff < closestDiff) {
      closestDiff = diff;
      closestLen = refLen;
    } else if (diff === closestDiff && refLen < closestLen) {
      closestLen = refLen;
    }
  }
  return closestLen;
}

/**
 * `[sys_len, ref_len, correct_1..4, total_1..4]` for one hypothesis against its references, which
 * must be non-empty strings (sacreBLEU drops empty references and refuses a segment with none).
 */
export function bleuSegmentStats(hyp: string, refs: readonly string[], opts: { tokenize: BleuTokenize; lowercase: boolean }): number[] {
  const maxOrder = BLEU_MAX_ORDER;
  let refNgrams: Map<string, number> | null = null;
  const refLens: number[] = [];
  for (const ref of refs) {
    const tokens = pySplit(preprocessSegment(ref, opts.tokenize, opts.lowercase));
    refLens.push(tokens.length);
    const counts = ngramCounts(tokens, maxOrder);
    if (refNgrams === null) refNgrams = counts;
    else for (const [g, c] of counts) refNgrams.set(g, Math.max(refNgrams.get(g) ?? 0, c));
  }
  const hypTokens = pySplit(preprocessSegment(hyp, opts.tokenize, opts.lowercase));
  const correct = new Array<number>(maxOrder).fill(0);
  const total = new Array<number>(maxOrder).fill(0);
  for (const [g, count] of ngramCounts(hypTokens, maxOrder)) {
    const n = g.split(' ').length - 1;
    total[n]! += count;
    const inRef = refNgrams?.get(g);
    if (inRef !== undefined) correct[n]! += Math.min(count, inRef);
  }
  return [hypTokens.length, closestRefLength(hypTokens.length, refLens), ...correct, ...total];
}

// ---- compute_bleu -----------------------------------------------------------------------------

export interface BleuScore {
  score: number;
  precisions: number[];
  bp: number;
  sysLen: number;
  refLen: number;
}

export interface BleuComputeOptions {
  smoothMethod: BleuSmooth;
  /** For `floor` and `add-k`; sacreBLEU's defaults (0.1, 1) when absent. */
  smoothValue?: number;
  /** Leave out n-gram orders the hypothesis has none of (sacreBLEU's sentence-level setting). */
  effectiveOrder: boolean;
}

/** sacreBLEU's `my_log`: log, floored to a huge negative number at zero. */
const myLog = (x: number): number => (x === 0 ? -9999999999 : Math.log(x));

/** BLEU from summed statistics `[sys_len, ref_len, correct_1..4, total_1..4]` (sacreBLEU `compute_bleu`). */
export function computeBleu(stats: ArrayLike<number>, opts: BleuComputeOptions): BleuScore {
  const maxOrder = BLEU_MAX_ORDER;
  const all = Array.from(stats);
  const sysLen = all[0] ?? 0;
  const refLen = all[1] ?? 0;
  const correct = all.slice(2, 2 + maxOrder);
  const total = all.slice(2 + maxOrder, 2 + 2 * maxOrder);
  const smoothValue = opts.smoothValue ?? SMOOTH_DEFAULTS[opts.smoothMethod];

  const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
  const precisions = new Array<number>(maxOrder).fill(0);
  // No match at any order: 0, whatever the smoothing (sacreBLEU #141).
  if (!correct.some((c) => c !== 0)) return { score: 0, precisions, bp, sysLen, refLen };

  let smoothMteval = 1;
  let effOrder = maxOrder;
  for (let n = 1; n <= maxOrder; n++) {
    if (opts.smoothMethod === 'add-k' && n > 1) {
      correct[n - 1]! += smoothValue;
      total[n - 1]! += smoothValue;
    }
    const t = total[n - 1]!;
    const c = correct[n - 1]!;
    if (t === 0) break;
    if (opts.effectiveOrder) effOrder = n;
    if (c === 0) {
      if (opts.smoothMethod === 'exp') {
        smoothMteval *= 2;
        precisions[n - 1] = 100 / (smoothMteval * t);
      } else if (opts.smoothMethod === 'floor') {
        precisions[n - 1] = (100 * smoothValue) / t;
      }
    } else {
      precisions[n - 1] = (100 * c) / t;
    }
  }
  let logSum = 0;
  for (let i = 0; i < effOrder; i++) logSum += myLog(precisions[i]!);
  return { score: bp * Math.exp(logSum / effOrder), precisions, bp, sysLen, refLen };
}

/**
 * ROUGE as Google's rouge-score package computes it (rouge_scorer.py, tokenize.py): lowercase,
 * every run of characters outside [a-z0-9] becomes a space, optional NLTK Porter stemming of
 * tokens longer than 3 characters; ROUGE-N from clipped n-gram overlap, ROUGE-L from the longest
 * common subsequence; F = harmonic mean of precision and recall (0 when both are 0).
 */
import { porterStem } from './porter-stemmer-fns.js';

export interface RougeScore {
  precision: number;
  recall: number;
  fmeasure: number;
}

const NON_ALPHANUMERIC = /[^a-z0-9]+/g;

export function rougeTokenize(text: string, stem: boolean): string[] {
  const tokens = text.toLowerCase().replace(NON_ALPHANUMERIC, ' ').split(' ');
  const out: string[] = [];
  for (const t of tokens) {
    if (t.length === 0) continue;
    out.push(stem && t.length > 3 ? porterStem(t) : t);
  }
  return out;
}

function fmeasure(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

function ngrams(tokens: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join(' ');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** ROUGE-N of a prediction against one target (rouge-score `_score_ngrams`). */
export function rougeN(target: readonly string[], prediction: readonly string[], n: number): RougeScore {
  const t = ngrams(target, n);
  const p = ngrams(prediction, n);
  let overlap = 0;
  let targetCount = 0;
  let predictionCount = 0;
  for (const [g, c] of t) {
    overlap += Math.min(c, p.get(g) ?? 0);
    targetCount += c;
  }
  for (const c of p.values()) predictionCount += c;
  const precision = overlap / Math.max(predictionCount, 1);
  const recall = overlap / Math.max(targetCount, 1);
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

/** Length of a longest common subsequence, in O(min) memory (two rows). */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  const [long, short] = a.length >= b.length ? [a, b] : [b, a];
  let prev = new Uint32Array(short.length + 1);
  let cur = new Uint32Array(short.length + 1);
  for (let i = 1; i <= long.length; i++) {
    const x = long[i - 1];
    for (let j = 1; j <= short.length; j++) {
      cur[j] = x === short[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, cur[j - 1]!);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[short.length]!;
}

/** ROUGE-L (sentence level, newlines ignored) of a prediction against one target (`_score_lcs`). */
export function rougeL(target: readonly string[], prediction: readonly string[]): RougeScore {
  if (target.length === 0 || prediction.length === 0) return { precision: 0, recall: 0, fmeasure: 0 };
  const lcs = lcsLength(target, prediction);
  const precision = lcs / prediction.length;
  const recall = lcs / target.length;
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

/**
 * Overlap metrics against reference answers: `f1` (SQuAD v1.1 token F1), `bleu` (sacreBLEU corpus
 * BLEU) and `rouge1`/`rouge2`/`rougeL` (Google rouge-score). With several references a case takes
 * its best reference (max F1 / max ROUGE F-measure); BLEU uses all references at once, as BLEU does.
 *
 * BLEU is a corpus metric: a corpus score is not the mean of sentence scores. Each case keeps its
 * n-gram statistics in `stats` and `aggregate` sums them and computes BLEU once, so a bootstrap
 * resample of cases gets a true corpus BLEU. The per-case `value` is sentence BLEU (sacreBLEU's
 * `sentence_score` with `effective_order`, the setting it recommends for single sentences), shown
 * next to the case; it does not enter the aggregate.
 */
import { z } from 'zod';
import { BLEU_MAX_ORDER, bleuSegmentStats, computeBleu } from './bleu-fns.js';
import { NO_REFERENCES, countItems, failed, meanAggregate, squadNormalize, pySplit, sumStats, type SyncMetricDefinition } from './metric-fns.js';
import type { CaseOutcome, CaseValue } from './metric-types.js';
import { rougeL, rougeN, rougeTokenize, type RougeScore } from './rouge-fns.js';

// ---- f1 ---------------------------------------------------------------------------------------

/** SQuAD v1.1 `f1_score`: token F1 of the normalised answers; 0 when no token is shared. */
export function squadF1(prediction: string, groundTruth: string): number {
  const pred = pySplit(squadNormalize(prediction));
  const truth = pySplit(squadNormalize(groundTruth));
  const truthCounts = countItems(truth);
  let same = 0;
  for (const [token, count] of countItems(pred)) same += Math.min(count, truthCounts.get(token) ?? 0);
  if (same === 0) return 0;
  const precision = same / pred.length;
  const recall = same / truth.length;
  return (2 * precision * recall) / (precision + recall);
}

const F1Params = z.strictObject({});
type F1Params = z.output<typeof F1Params>;

export const f1: SyncMetricDefinition<F1Params> = {
  name: 'f1',
  description: 'SQuAD v1.1 token-level F1 against the best reference (0–1).',
  params: F1Params,
  higherIsBetter: true,
  unit: '',
  binary: false,
  needs: {},
  score(outcome): CaseValue {
    if (outcome.references.length === 0) return failed(NO_REFERENCES);
    let best = 0;
    for (const ref of outcome.references) best = Math.max(best, squadF1(outcome.output, ref));
    return { value: best };
  },
  aggregate: meanAggregate,
};

// ---- bleu -------------------------------------------------------------------------------------

const BleuParams = z.strictObject({
  /** `13a`: sacreBLEU's default (mteval-v13a); `none`: split on whitespace only. */
  tokenize: z.enum(['13a', 'none']).default('13a'),
  lowercase: z.boolean().default(false),
  smoothMethod: z.enum(['exp', 'none', 'floor', 'add-k']).default('exp'),
  /** For `floor` (default 0.1) and `add-k` (default 1). */
  smoothValue: z.number().nonnegative().optional(),
});
type BleuParams = z.output<typeof BleuParams>;

const BLEU_STATS_WIDTH = 2 + 2 * BLEU_MAX_ORDER;

export const bleu: SyncMetricDefinition<BleuParams> = {
  name: 'bleu',
  description: 'sacreBLEU-compatible corpus BLEU (0–100); per case, sentence BLEU.',
  params: BleuParams,
  higherIsBetter: true,
  unit: '',
  binary: false,
  needs: {},
  score(outcome, params): CaseValue {
    // sacreBLEU drops empty references (a case may have fewer than the others).
    const refs = outcome.references.filter((r) => r.length > 0);
    if (refs.length === 0) return failed(NO_REFERENCES);
    const stats = bleuSegmentStats(outcome.output, refs, params);
    const sentence = computeBleu(stats, { smoothMethod: params.smoothMethod, smoothValue: params.smoothValue, effectiveOrder: true });
    return { value: sentence.score, stats };
  },
  aggregate(values, params): number {
    const total = sumStats(values, BLEU_STATS_WIDTH);
    if (!total) return Number.NaN;
    return computeBleu(total, { smoothMethod: params.smoothMethod, smoothValue: params.smoothValue, effectiveOrder: false }).score;
  },
};

// ---- rouge ------------------------------------------------------------------------------------

const RougeParams = z.strictObject({
  /** Porter-stem tokens longer than 3 characters (rouge-score `use_stemmer`). */
  stem: z.boolean().default(true),
});
type RougeParams = z.output<typeof RougeParams>;

function rougeMetric(name: 'rouge1' | 'rouge2' | 'rougeL', what: string, scoreOne: (t: string[], p: string[]) => RougeScore): SyncMetricDefinition<RougeParams> {
  return {
    name,
    description: `${what} F-measure (Google rouge-score), best reference per case, mean over cases (0–1).`,
    params: RougeParams,
    higherIsBetter: true,
    unit: '',
    binary: false,
    needs: {},
    score(outcome: CaseOutcome, params): CaseValue {
      if (outcome.references.length === 0) return failed(NO_REFERENCES);
      const prediction = rougeTokenize(outcome.output, params.stem);
      // rouge-score `score_multi`: the reference with the highest F-measure wins (first on ties).
      let best: RougeScore | null = null;
      for (const ref of outcome.references) {
        const s = scoreOne(rougeTokenize(ref, params.stem), prediction);
        if (best === null || s.fmeasure > best.fmeasure) best = s;
      }
      const b = best!;
      return { value: b.fmeasure, detail: { precision: b.precision, recall: b.recall } };
    },
    aggregate: meanAggregate,
  };
}

export const rouge1 = rougeMetric('rouge1', 'ROUGE-1 (unigram overlap)', (t, p) => rougeN(t, p, 1));
export const rouge2 = rougeMetric('rouge2', 'ROUGE-2 (bigram overlap)', (t, p) => rougeN(t, p, 2));
export const rougeLMetric = rougeMetric('rougeL', 'ROUGE-L (longest common subsequence)', rougeL);

/**
 * `perplexity` of the model on its own output tokens, from the log-probabilities the endpoint
 * returned (natural log). Per case: exp(−mean logprob). The run's figure is corpus perplexity,
 * exp(−Σ logprob / Σ tokens) over all cases' tokens — not the mean of per-case perplexities, which
 * would let a few short, surprising outputs dominate. Each case keeps [Σ logprob, token count] in
 * `stats` so any resample recomputes the corpus figure. Lower is better.
 */
import { z } from 'zod';
import { failed, sumStats, type SyncMetricDefinition } from './metric-fns.js';
import type { CaseValue } from './metric-types.js';

const PerplexityParams = z.strictObject({});
type PerplexityParams = z.output<typeof PerplexityParams>;

export const perplexity: SyncMetricDefinition<PerplexityParams> = {
  name: 'perplexity',
  description: 'Perplexity of the output tokens under the model, exp(−mean logprob); corpus-level over cases.',
  params: PerplexityParams,
  higherIsBetter: false,
  unit: '',
  binary: false,
  needs: { logprobs: true },
  score(outcome): CaseValue {
    const lps = outcome.logprobs;
    if (lps === null || lps.length === 0) return failed('no logprobs: the endpoint returned none for this output');
    let sum = 0;
    for (const lp of lps) {
      // A log-probability is ≤ 0; a small positive value is float noise from the server, not a bug.
      if (!Number.isFinite(lp)) return failed(`logprobs contain a non-finite value (${lp})`);
      sum += lp;
    }
    return { value: Math.exp(-sum / lps.length), stats: [sum, lps.length] };
  },
  aggregate(values): number {
    const total = sumStats(values, 2);
    if (!total || total[1] === 0) return Number.NaN;
    return Math.exp(-total[0]! / total[1]!);
  },
};

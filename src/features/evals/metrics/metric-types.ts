/**
 * The shape every evaluation metric has. A metric scores one case (`score`) and folds the
 * per-case values of a run into one figure (`aggregate`). Aggregation works on any subset of the
 * per-case values, which is what makes bootstrap confidence intervals generic: resample the cases,
 * aggregate again. Corpus metrics (BLEU, perplexity) keep their sufficient statistics in `stats`
 * so the corpus figure is recomputed from any resample.
 */
import type { z } from 'zod';

export interface OutcomeMessage {
  role: string;
  content: string;
}

/** What the runner observed for one case: the request it sent and what came back. */
export interface CaseOutcome {
  caseId: string;
  /** The rendered input: prompt text or chat messages. */
  input: string | OutcomeMessage[];
  /** The model's text output (empty string when it produced none). */
  output: string;
  /** Expected output, when the case has one. */
  expected: string | null;
  /** Reference answers: `expected` first (if any), then the case's `references`. */
  references: string[];
  /** JSON schema the case's output must conform to (json_schema metric), when given per case. */
  schema: Record<string, unknown> | null;
  tags: string[];
  /** Wall time of the request, from send to the last byte, in milliseconds. */
  latencyMs: number;
  /** Time to the first content token (streamed requests only), in milliseconds. */
  ttftMs: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  /** Log-probabilities of the output tokens, when the endpoint returned them. */
  logprobs: number[] | null;
}

/** A judge call: sends chat messages to the configured judge model, resolves to its text reply. */
export type JudgeCall = (messages: OutcomeMessage[]) => Promise<string>;

export interface ScoreContext {
  /** Present when the run has a judge endpoint configured; absent otherwise. */
  judge?: JudgeCall;
}

/**
 * The score of one case under one metric.
 * - `value`: the case's figure (0/1 for binary metrics), or null when the metric could not score
 *   this case (the case is left out of the aggregate; `error` says why).
 * - `stats`: sufficient statistics for corpus-level aggregation (e.g. BLEU n-gram counts).
 * - `detail`: kept with the per-case result (e.g. the judge's reasoning).
 */
export interface CaseValue {
  value: number | null;
  stats?: number[];
  detail?: Record<string, unknown>;
  error?: string;
}

export interface MetricDefinition<P = Record<string, unknown>> {
  /** Stable name used in suite configs (`exact_match`, `bleu`, `rougeL`, …). */
  name: string;
  description: string;
  /** zod schema of the parameters (a strict object with defaults); `{}` must parse. */
  params: z.ZodType<P>;
  /** Direction used by regression gates and comparisons. */
  higherIsBetter: boolean;
  /** Unit shown next to the figure (`ms`, `tokens/s`, `USD`, or '' for ratios/scores). */
  unit: string;
  /** Per-case value is 0 or 1 (pass/fail): comparisons list the cases that flipped. */
  binary: boolean;
  /** What the runner must request or provide for this metric. */
  needs: { stream?: boolean; logprobs?: boolean; judge?: boolean };
  score(outcome: CaseOutcome, params: P, ctx: ScoreContext): CaseValue | Promise<CaseValue>;
  /**
   * Folds per-case values (only those with a non-null `value`) into the run's figure; NaN when
   * there are none. Must accept any subset or resample of a run's values.
   */
  aggregate(values: readonly CaseValue[], params: P): number;
}

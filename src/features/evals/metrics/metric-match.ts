/**
 * String-match metrics: `exact_match`, `contains`, `regex`. Each is binary (1 pass, 0 fail), so a
 * comparison of two runs can list the cases that flipped.
 *
 * The regex metric runs a suite author's pattern on model output in-process. JavaScript regular
 * expressions cannot be interrupted, so the guard is on sizes: the pattern is at most 1,000
 * characters and must compile when the suite is saved (`parseMetricParams`), and an output longer
 * than `maxInputChars` (default 100,000) is not matched at all — the case gets a null value and an
 * error instead of a silent truncation that could change the verdict. A pathological pattern
 * (nested quantifiers such as `(a+)+$`) can still backtrack for a long time on short input; suite
 * authors hold the developer role and own that risk, as they own every other setting of a suite.
 */
import { z } from 'zod';
import { NO_REFERENCES, failed, meanAggregate, squadNormalize, type SyncMetricDefinition } from './metric-fns.js';
import type { CaseValue } from './metric-types.js';

// ---- exact_match --------------------------------------------------------------------------

const ExactMatchParams = z.strictObject({
  /**
   * `squad`: SQuAD v1.1 normalize_answer (lowercase, no punctuation, no articles, single spaces);
   * `trim`: leading/trailing whitespace removed; `none`: compared as is.
   */
  normalize: z.enum(['none', 'trim', 'squad']).default('squad'),
  /** Compare case-insensitively (`squad` already lowercases). */
  ignoreCase: z.boolean().default(false),
});
type ExactMatchParams = z.output<typeof ExactMatchParams>;

function normalizeForMatch(s: string, p: ExactMatchParams): string {
  const n = p.normalize === 'squad' ? squadNormalize(s) : p.normalize === 'trim' ? s.trim() : s;
  return p.ignoreCase ? n.toLowerCase() : n;
}

export const exactMatch: SyncMetricDefinition<ExactMatchParams> = {
  name: 'exact_match',
  description: 'Output equals any reference after normalisation (SQuAD v1.1 normalize_answer by default).',
  params: ExactMatchParams,
  higherIsBetter: true,
  unit: '',
  binary: true,
  needs: {},
  score(outcome, params): CaseValue {
    if (outcome.references.length === 0) return failed(NO_REFERENCES);
    const out = normalizeForMatch(outcome.output, params);
    const hit = outcome.references.findIndex((r) => normalizeForMatch(r, params) === out);
    return hit >= 0 ? { value: 1, detail: { matchedReference: hit } } : { value: 0 };
  },
  aggregate: meanAggregate,
};

// ---- contains -----------------------------------------------------------------------------

const ContainsParams = z.strictObject({
  /** `any`: one needle is enough; `all`: every needle must appear. */
  mode: z.enum(['any', 'all']).default('any'),
  /** Needles to look for; when absent, the case's references are the needles. */
  values: z.array(z.string().min(1, 'an empty needle is contained in every output')).min(1).optional(),
  ignoreCase: z.boolean().default(true),
});
type ContainsParams = z.output<typeof ContainsParams>;

export const contains: SyncMetricDefinition<ContainsParams> = {
  name: 'contains',
  description: 'Output contains any (or all) of the references, or of the given values.',
  params: ContainsParams,
  higherIsBetter: true,
  unit: '',
  binary: true,
  needs: {},
  score(outcome, params): CaseValue {
    // An empty reference is contained in everything: it would pass every case, so it is skipped.
    const needles = params.values ?? outcome.references.filter((r) => r.length > 0);
    if (needles.length === 0) return failed(NO_REFERENCES);
    const fold = (s: string) => (params.ignoreCase ? s.toLowerCase() : s);
    const haystack = fold(outcome.output);
    const missing = needles.filter((n) => !haystack.includes(fold(n)));
    const found = needles.length - missing.length;
    const pass = params.mode === 'all' ? missing.length === 0 : found > 0;
    return { value: pass ? 1 : 0, detail: { found, of: needles.length } };
  },
  aggregate: meanAggregate,
};

// ---- regex --------------------------------------------------------------------------------

/** Flags that change what matches; `g`, `y` (stateful `lastIndex`) and `d` (indices) are refused. */
const REGEX_FLAGS = /^[imsuv]*$/;

const RegexParams = z
  .strictObject({
    pattern: z.string().min(1).max(1000),
    flags: z.string().regex(REGEX_FLAGS, 'flags may only be i, m, s, u, v').default(''),
    /** Require the whole output to match (the pattern is wrapped in `^(?:…)$`). */
    fullMatch: z.boolean().default(false),
    /** Longest output that is matched at all; see the module header. */
    maxInputChars: z.number().int().positive().max(1_000_000).default(100_000),
  })
  .superRefine((p, ctx) => {
    const problem = regexProblem(p.pattern, p.flags);
    if (problem) ctx.addIssue({ code: 'custom', path: ['pattern'], message: problem });
  });
type RegexParams = z.output<typeof RegexParams>;

function regexProblem(pattern: string, flags: string): string | null {
  try {
    new RegExp(pattern, flags);
    return null;
  } catch (err) {
    return `invalid regular expression: ${(err as Error).message}`;
  }
}

export const regex: SyncMetricDefinition<RegexParams> = {
  name: 'regex',
  description: 'Output matches a regular expression (JavaScript syntax).',
  params: RegexParams,
  higherIsBetter: true,
  unit: '',
  binary: true,
  needs: {},
  score(outcome, params): CaseValue {
    if (outcome.output.length > params.maxInputChars) {
      return failed(`output is ${outcome.output.length} characters, over the regex metric's limit of ${params.maxInputChars}`);
    }
    const source = params.fullMatch ? `^(?:${params.pattern})$` : params.pattern;
    const re = new RegExp(source, params.flags);
    return { value: re.test(outcome.output) ? 1 : 0 };
  },
  aggregate: meanAggregate,
};

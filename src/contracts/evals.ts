/**
 * Contracts of evaluations. A suite is a dataset version whose metadata holds `evalSuite` (the
 * metrics, their parameters and the pass thresholds) and whose files hold the cases as JSONL. A
 * run evaluates one model version's endpoint against one suite; per-case results are kept, the
 * aggregate carries bootstrap confidence intervals, and gates read the aggregates.
 * `parseCasesJsonl` and `parseGate` live here so the server, the SDK and the CLI agree on every
 * error (a malformed line is named by its number on all three).
 */
import { z } from 'zod';
import { Labels, Limit, Cursor, MAX_JSON_DEPTH, Timestamp, jsonDeeperThan, page } from './common.js';
import { Hidden } from './assets.js';
import { PromptMessage } from './prompts.js';

/**
 * Latest succeeded run per suite: what the evals feature contributes to a model version's
 * document (`evaluations`). A suite in a namespace the caller cannot read is hidden: run and
 * suite null, `hidden: true` (the figures are the model's own and stay).
 */
export const VersionEvaluation = z
  .object({
    run: z.string().nullable().describe('null when hidden'),
    suite: z.string().nullable().describe('dataset NAME:VERSION of the suite; null when hidden'),
    hidden: Hidden,
    finishedAt: Timestamp.nullable(),
    passed: z.boolean().nullable().describe('every threshold of the suite passed'),
    metrics: z.record(z.string(), z.number().nullable()),
  })
  .strict();
export type VersionEvaluation = z.infer<typeof VersionEvaluation>;
export const VersionEvaluations = z.array(VersionEvaluation).describe('latest succeeded evaluation run per suite');


export const METRIC_ID_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
export const MetricId = z.string().regex(METRIC_ID_RE, 'metric ids are 1-64 letters, digits, "_", "." or "-", starting with a letter');

export const MetricSpec = z
  .object({
    id: MetricId.optional().describe('name used by thresholds, gates and reports; default: the metric name'),
    metric: z.string().min(1).max(64).describe('a metric of the library: exact_match, contains, regex, json_valid, json_schema, f1, bleu, rouge1, …'),
    params: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
export type MetricSpec = z.output<typeof MetricSpec>;

export const COMPARISON_OPS = ['>=', '>', '<=', '<', '=='] as const;
export const ComparisonOp = z.enum(COMPARISON_OPS);
export type ComparisonOp = z.infer<typeof ComparisonOp>;

export const Threshold = z.object({ metric: MetricId, op: ComparisonOp, value: z.number() }).strict();
export type Threshold = z.infer<typeof Threshold>;

export const SuiteRequestDefaults = z
  .object({
    system: z.string().max(64 * 1024).optional().describe('system message put before every chat input that has none'),
    prompt: z.string().min(1).max(200).optional().describe('prompt NAME[:REF] rendered with each case\'s variables when the case names none'),
    temperature: z.number().min(0).max(2).default(0),
    maxTokens: z.number().int().positive().max(1_000_000).optional(),
    stop: z.array(z.string().min(1).max(256)).max(16).optional(),
  })
  .strict();

/** What a dataset version's `metadata.evalSuite` holds. */
export const EvalSuiteSpec = z
  .object({
    cases: z.string().min(1).max(1024).default('cases.jsonl').describe('path of the JSONL cases file in the dataset version'),
    metrics: z.array(MetricSpec).min(1, 'a suite needs at least one metric').max(64),
    thresholds: z.array(Threshold).max(256).default([]),
    request: SuiteRequestDefaults.default({ temperature: 0 }),
    judge: z.object({ model: z.string().min(1).max(256).optional() }).strict().optional().describe('defaults for llm_judge metrics'),
  })
  .strict()
  .superRefine((s, ctx) => {
    const ids = new Set<string>();
    s.metrics.forEach((m, i) => {
      const id = m.id ?? m.metric;
      if (!METRIC_ID_RE.test(id)) ctx.addIssue({ code: 'custom', path: ['metrics', i, 'id'], message: `metric ${JSON.stringify(m.metric)} needs an id (letters, digits, "_")` });
      if (ids.has(id)) ctx.addIssue({ code: 'custom', path: ['metrics', i], message: `metric id ${JSON.stringify(id)} appears twice; give one an "id"` });
      ids.add(id);
    });
    s.thresholds.forEach((t, i) => {
      if (!ids.has(t.metric)) {
        ctx.addIssue({ code: 'custom', path: ['thresholds', i, 'metric'], message: `threshold on ${JSON.stringify(t.metric)}, which is not a metric of this suite (metrics: ${[...ids].join(', ')})` });
      }
    });
  });
export type EvalSuiteSpec = z.output<typeof EvalSuiteSpec>;
export type EvalSuiteSpecInput = z.input<typeof EvalSuiteSpec>;

export const EvalCase = z
  .object({
    id: z.string().min(1).max(256).optional().describe('stable case id; default: the line number'),
    input: z.union([z.string().max(1024 * 1024), z.array(PromptMessage).min(1).max(1000)]).optional(),
    prompt: z
      .object({ ref: z.string().min(1).max(200).optional(), variables: z.record(z.string(), z.unknown()).default({}) })
      .strict()
      .optional()
      .describe('render a registry prompt (NAME[:REF]; default the suite\'s request.prompt) with these variables'),
    expected: z.string().max(1024 * 1024).optional(),
    references: z.array(z.string().max(1024 * 1024)).max(64).optional(),
    schema: z.record(z.string(), z.unknown()).optional().describe('JSON schema the output must meet (json_schema metric)'),
    tags: z.array(z.string().min(1).max(64)).max(64).default([]),
  })
  .strict();
export type EvalCase = z.output<typeof EvalCase>;

export type ParsedCase = EvalCase & { id: string; line: number };
export type CasesParse = { ok: true; cases: ParsedCase[] } | { ok: false; line: number; message: string };

function issueText(err: z.ZodError): string {
  const i = err.issues[0]!;
  return `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`;
}

/**
 * Parses a JSONL cases file: one JSON object per non-blank line, each an `EvalCase` with an
 * `input` or a `prompt` (a suite-level prompt stands in for a missing one when `hasSuitePrompt`).
 * Stops at the first bad line and names it; ids must be unique.
 */
export function parseCasesJsonl(text: string, opts: { hasSuitePrompt?: boolean; maxCases?: number } = {}): CasesParse {
  const cases: ParsedCase[] = [];
  const seen = new Set<string>();
  const maxCases = opts.maxCases ?? 1_000_000;
  let start = 0;
  let line = 0;
  if (text.charCodeAt(0) === 0xfeff) start = 1;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    line++;
    const raw = text.slice(start, end).trim();
    start = end + 1;
    if (!raw) continue;
    // Cases come from a file, not a request body: the same nesting bound applies to each line.
    if (jsonDeeperThan(raw, MAX_JSON_DEPTH)) return { ok: false, line, message: `line ${line}: nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels` };
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (err) {
      return { ok: false, line, message: `line ${line}: not valid JSON (${(err as Error).message})` };
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return { ok: false, line, message: `line ${line}: each line must be a JSON object` };
    const res = EvalCase.safeParse(json);
    if (!res.success) return { ok: false, line, message: `line ${line}: ${issueText(res.error)}` };
    const c = res.data;
    if (c.input === undefined && c.prompt === undefined && !opts.hasSuitePrompt) {
      return { ok: false, line, message: `line ${line}: a case needs "input" (text or chat messages) or "prompt" (a registry prompt and its variables)` };
    }
    if (c.input !== undefined && c.prompt !== undefined) return { ok: false, line, message: `line ${line}: give "input" or "prompt", not both` };
    const id = c.id ?? String(line);
    if (seen.has(id)) return { ok: false, line, message: `line ${line}: case id ${JSON.stringify(id)} appears twice` };
    seen.add(id);
    if (cases.length >= maxCases) return { ok: false, line, message: `line ${line}: more than ${maxCases} cases; split the suite` };
    cases.push({ ...c, id, line });
  }
  if (!cases.length) return { ok: false, line: 1, message: 'the cases file holds no cases' };
  return { ok: true, cases };
}

// --- runs ---------------------------------------------------------------------------------

/** Query parameter names that carry credentials (normalised: lowercase, no "-" or "_"). */
const CREDENTIAL_PARAM = /key|token|secret|passw|pwd|auth|credential|signature|^sig$|^code$/;

/**
 * What in an endpoint URL is a credential (`user:password@`, or a query parameter such as
 * `api-key`, `key`, `token`, `sig`), named without its value; null when there is none. Endpoint
 * URLs are stored, shown in runs and written to the audit chain, so a key must travel in the
 * key field, which is held in memory only.
 */
export function endpointUrlCredential(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.username || u.password) return 'user:password@';
  for (const k of u.searchParams.keys()) {
    if (CREDENTIAL_PARAM.test(k.toLowerCase().replace(/[-_]/g, ''))) return `the query parameter ${JSON.stringify(k)}`;
  }
  return null;
}

export const EndpointSpec = z
  .object({
    url: z
      .url({ protocol: /^https?$/, error: 'endpoint url must be an http(s) URL such as http://127.0.0.1:8000/v1' })
      .max(2048)
      .superRefine((url, ctx) => {
        const what = endpointUrlCredential(url);
        if (what) {
          ctx.addIssue({
            code: 'custom',
            message: `the URL holds a credential (${what}); URLs are stored, shown and audited, so keys go in the apiKey field (CLI: STEWARD_ENDPOINT_API_KEY or STEWARD_JUDGE_API_KEY), which is never stored`,
          });
        }
      }),
    apiKey: z.string().min(1).max(4096).optional().describe('sent as a Bearer token; kept in memory only, never stored or logged'),
    model: z.string().min(1).max(256).optional().describe('the "model" field sent upstream; default: the registry model name'),
  })
  .strict();
export type EndpointSpec = z.input<typeof EndpointSpec>;

export const CreateRunBody = z
  .object({
    suite: z.string().min(1).max(200).describe('dataset NAME[:REF] holding an evalSuite (default REF: latest)'),
    model: z.string().min(1).max(200).describe('model NAME:REF being evaluated'),
    endpoint: EndpointSpec,
    judge: EndpointSpec.optional().describe('endpoint of the judge model for llm_judge metrics'),
    concurrency: z.number().int().min(1).max(512).default(8),
    timeoutMs: z.number().int().min(100).max(3_600_000).default(60_000).describe('per request, including streaming'),
    retries: z.number().int().min(0).max(10).default(3).describe('retries of a transient failure (connection, 408, 409, 429, 5xx), with exponential backoff'),
    limit: z.number().int().positive().optional().describe('evaluate only the first N cases'),
    bootstrapResamples: z.number().int().min(0).max(100_000).default(1000),
    labels: Labels.optional(),
  })
  .strict();
export type CreateRunBody = z.input<typeof CreateRunBody>;

export const RUN_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'] as const;
export const RunState = z.enum(RUN_STATES);
export type RunState = z.infer<typeof RunState>;
export const FINISHED_STATES: readonly RunState[] = ['succeeded', 'failed', 'cancelled'];

export const MetricSummary = z
  .object({
    id: z.string(),
    metric: z.string(),
    value: z.number().nullable().describe('null when no case could be scored'),
    low: z.number().nullable().describe('bootstrap confidence interval (95%)'),
    high: z.number().nullable(),
    scored: z.number().int().describe('cases that contributed a value'),
    errors: z.number().int().describe('cases the metric could not score'),
    unit: z.string(),
    higherIsBetter: z.boolean(),
  })
  .strict();
export type MetricSummary = z.infer<typeof MetricSummary>;

export const ThresholdResult = Threshold.extend({ actual: z.number().nullable(), passed: z.boolean() }).strict();
export type ThresholdResult = z.infer<typeof ThresholdResult>;

export const RunSummary = z
  .object({
    metrics: z.array(MetricSummary),
    thresholds: z.array(ThresholdResult),
    passed: z.boolean().describe('every threshold passed'),
    errorRate: z.number().describe('share of cases whose request failed after retries'),
    durationMs: z.number().describe('wall time of the execution that finished the run (a resumed run: since its resumption)'),
    casesPerSecond: z.number(),
  })
  .strict();
export type RunSummary = z.infer<typeof RunSummary>;

export const RunResponse = z
  .object({
    id: z.string(),
    suite: z.object({ name: z.string(), version: z.string() }).strict(),
    model: z.object({ name: z.string(), version: z.string() }).strict(),
    endpoint: z.object({ url: z.string(), model: z.string(), auth: z.boolean() }).strict(),
    judge: z.object({ url: z.string(), model: z.string(), auth: z.boolean() }).strict().nullable(),
    state: RunState,
    settings: z.object({ concurrency: z.number(), timeoutMs: z.number(), retries: z.number(), limit: z.number().nullable(), bootstrapResamples: z.number() }).strict(),
    total: z.number().int(),
    done: z.number().int().describe('cases finished (scored or failed)'),
    failed: z.number().int().describe('cases whose request failed after retries'),
    summary: RunSummary.nullable(),
    error: z.string().nullable(),
    labels: z.record(z.string(), z.string()),
    createdAt: Timestamp,
    createdBy: z.string().nullable(),
    startedAt: Timestamp.nullable(),
    finishedAt: Timestamp.nullable(),
  })
  .strict();
export type RunResponse = z.infer<typeof RunResponse>;
export const RunPage = page(RunResponse);

export const ListRunsQuery = z
  .object({
    model: z.string().max(200).optional().describe('NAME or NAME:VERSION'),
    suite: z.string().max(200).optional().describe('NAME or NAME:VERSION'),
    state: RunState.optional(),
    limit: Limit,
    cursor: Cursor,
  })
  .strict();

export const CaseScore = z
  .object({
    value: z.number().nullable(),
    stats: z.array(z.number()).optional().describe('sufficient statistics of corpus metrics (BLEU n-gram counts, log-probability sums)'),
    error: z.string().optional(),
    detail: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export const CaseResult = z
  .object({
    index: z.number().int(),
    caseId: z.string(),
    ok: z.boolean().describe('the request succeeded (scores may still hold per-metric errors)'),
    output: z.string().nullable(),
    error: z.string().nullable(),
    attempts: z.number().int(),
    latencyMs: z.number().nullable(),
    ttftMs: z.number().nullable(),
    inputTokens: z.number().nullable(),
    outputTokens: z.number().nullable(),
    scores: z.record(z.string(), CaseScore),
  })
  .strict();
export type CaseResult = z.infer<typeof CaseResult>;
export const CaseResultPage = page(CaseResult);

export const ListResultsQuery = z
  .object({
    failed: z.enum(['true', 'false']).optional().describe('only cases whose request failed or a binary metric scored 0'),
    limit: Limit,
    cursor: Cursor,
  })
  .strict();

export const ResumeRunBody = z
  .object({ apiKey: z.string().min(1).max(4096).optional(), judgeApiKey: z.string().min(1).max(4096).optional() })
  .strict()
  .describe('keys are kept in memory only: a run with a key that was interrupted by a restart needs it again');

export const CompareRunsQuery = z.object({ a: z.string().min(1).max(64), b: z.string().min(1).max(64) }).strict();
export const MetricComparison = z
  .object({
    id: z.string(),
    metric: z.string(),
    a: z.number().nullable(),
    b: z.number().nullable(),
    delta: z.number().nullable().describe('b - a on the cases both runs scored'),
    low: z.number().nullable().describe('paired bootstrap 95% interval of the delta'),
    high: z.number().nullable(),
    higherIsBetter: z.boolean(),
    verdict: z.enum(['better', 'worse', 'no significant change', 'not comparable']),
  })
  .strict();
export const FlippedCase = z
  .object({ caseId: z.string(), metric: z.string(), a: z.number().nullable(), b: z.number().nullable(), direction: z.enum(['fixed', 'broke']) })
  .strict();
export const CompareRunsResponse = z
  .object({
    a: RunResponse,
    b: RunResponse,
    commonCases: z.number().int(),
    metrics: z.array(MetricComparison),
    flipped: z.array(FlippedCase),
    flippedTruncated: z.boolean(),
  })
  .strict();
export type CompareRunsResponse = z.infer<typeof CompareRunsResponse>;

// --- gates --------------------------------------------------------------------------------

export const Gate = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('threshold'),
      metric: MetricId,
      suite: z.string().min(1).max(200).optional().describe('dataset NAME[:VERSION] of the run to read; default: the latest run holding the metric'),
      op: ComparisonOp,
      value: z.number(),
    })
    .strict(),
  z
    .object({
      type: z.literal('no_regression'),
      metric: MetricId,
      suite: z.string().min(1).max(200).optional(),
      environment: z.string().min(1).max(64).describe('compare with the version currently in this environment'),
      maxDelta: z.number().min(0).default(0).describe('largest allowed loss, in the metric\'s unit, in its worse direction'),
    })
    .strict(),
]);
export type Gate = z.output<typeof Gate>;
export type GateInput = z.input<typeof Gate>;

export const EvaluateGatesBody = z.object({ model: z.string().min(1).max(200).describe('model NAME:REF'), gates: z.array(Gate).min(1).max(64) }).strict();

export const GateEvidence = z
  .object({
    run: z.string().nullable(),
    suite: z.string().nullable(),
    hidden: Hidden.describe('true: the run\'s suite is in a namespace this token cannot read (run and suite null)'),
    value: z.number().nullable(),
    low: z.number().nullable(),
    high: z.number().nullable(),
    baseline: z.object({ model: z.string(), run: z.string().nullable(), hidden: Hidden, value: z.number().nullable() }).strict().nullable(),
  })
  .strict();
export const GateResult = z.object({ gate: Gate, passed: z.boolean(), reason: z.string(), evidence: GateEvidence }).strict();
export type GateResult = z.infer<typeof GateResult>;
export const GateEvaluation = z.object({ model: z.object({ name: z.string(), version: z.string() }).strict(), passed: z.boolean(), results: z.array(GateResult) }).strict();
export type GateEvaluation = z.infer<typeof GateEvaluation>;

/**
 * A gate from its one-line form (CLI flags, pipeline files):
 * `METRIC OP VALUE` (`exact_match >= 0.8`) or `METRIC no-regression ENV [DELTA]`
 * (`bleu no-regression production 0.5`); `SUITE/METRIC` pins the suite.
 */
export function parseGate(text: string): { ok: true; gate: GateInput } | { ok: false; message: string } {
  const parts = text.trim().split(/\s+/);
  const usage = 'a gate looks like "METRIC >= 0.8" or "METRIC no-regression ENVIRONMENT [MAX_DELTA]" (METRIC may be SUITE/METRIC)';
  if (parts.length < 3) return { ok: false, message: `gate ${JSON.stringify(text)}: ${usage}` };
  const [target, op, arg, extra] = parts as [string, string, string, string | undefined];
  const slash = target.lastIndexOf('/');
  const metric = slash >= 0 ? target.slice(slash + 1) : target;
  const suite = slash >= 0 ? target.slice(0, slash) : undefined;
  if (!METRIC_ID_RE.test(metric)) return { ok: false, message: `gate ${JSON.stringify(text)}: ${JSON.stringify(metric)} is not a metric id` };
  if (op === 'no-regression') {
    const maxDelta = extra === undefined ? 0 : Number(extra);
    if (!Number.isFinite(maxDelta) || maxDelta < 0 || parts.length > 4) return { ok: false, message: `gate ${JSON.stringify(text)}: MAX_DELTA must be a number ≥ 0` };
    return { ok: true, gate: { type: 'no_regression', metric, environment: arg, maxDelta, ...(suite ? { suite } : {}) } };
  }
  const value = Number(arg);
  if (!(COMPARISON_OPS as readonly string[]).includes(op) || !Number.isFinite(value) || parts.length > 3) return { ok: false, message: `gate ${JSON.stringify(text)}: ${usage}` };
  return { ok: true, gate: { type: 'threshold', metric, op: op as ComparisonOp, value, ...(suite ? { suite } : {}) } };
}

export function compare(actual: number, op: ComparisonOp, value: number): boolean {
  switch (op) {
    case '>=':
      return actual >= value;
    case '>':
      return actual > value;
    case '<=':
      return actual <= value;
    case '<':
      return actual < value;
    case '==':
      return actual === value;
  }
}

export const MetricInfo = z
  .object({
    name: z.string(),
    description: z.string(),
    unit: z.string(),
    higherIsBetter: z.boolean(),
    binary: z.boolean(),
    needs: z.object({ stream: z.boolean().optional(), logprobs: z.boolean().optional(), judge: z.boolean().optional() }).strict(),
    params: z.unknown().describe('JSON schema of the parameters'),
  })
  .strict();
export const MetricList = z.object({ items: z.array(MetricInfo) }).strict();
export type MetricInfo = z.infer<typeof MetricInfo>;

/**
 * Executes one evaluation run that this replica has claimed: the cases not yet answered are
 * sent to the endpoint by `concurrency` workers, each answer is scored by every metric of the
 * suite, and results are written in batches (one transaction per batch, which also extends the
 * claim and stores progress). A run whose claim is lost (cancelled, or taken over after a stall)
 * stops at its next batch; finished cases stay stored, so a resumed run does not redo them.
 */
import type net from 'node:net';
import { setMaxListeners } from 'node:events';
import type { EvalSuiteSpec, ParsedCase, RunSummary } from '../../contracts/evals.js';
import { iso, type Clock } from '../../platform/clock.js';
import type { Logger } from '../../platform/log.js';
import { createOpenAIClient, type OpenAIClient } from '../../platform/openai/openai-client.js';
import { withRetries } from '../../platform/openai/openai-retry-fns.js';
import { AppError } from '../../platform/errors.js';
import type { AnyDb } from '../../platform/sql/sql-db.js';
import { summarize, seedOf, type MetricInstance, type ScoredRow } from './evals-aggregate.js';
import type { EvalResultsTable, EvalsRepo, RunRow } from './evals-repo.js';
import { firstRefused, referenceGranted, referenceRefused, runReferences } from './evals-scope-fns.js';
import { createJudgeCall } from './metrics/metric-judge.js';
import type { CaseOutcome, CaseValue, OutcomeMessage, ScoreContext } from './metrics/metric-types.js';

export interface RunSettings {
  concurrency: number;
  timeoutMs: number;
  retries: number;
  limit: number | null;
  bootstrapResamples: number;
}

export interface JudgeSettings {
  url: string;
  model: string;
  auth: boolean;
}

export interface RunKeys {
  apiKey?: string;
  judgeApiKey?: string;
}

export interface RunnerDeps {
  repo: EvalsRepo;
  clock: Clock;
  log: Logger;
  settings: { leaseSeconds: number; retryBaseMs: number };
  /** Resolves endpoint hosts for every connection (refusing what the endpoint policy refuses). */
  lookup?: net.LookupFunction;
  /**
   * The namespaces the run may read now (null: all), its model, suite and suite prompt checked
   * against them; a `permission_denied` AppError (the run fails with it) when its token is gone or
   * a reference lies outside them. Asked before anything of the suite is read.
   */
  scopeOf(run: RunRow, spec: EvalSuiteSpec): Promise<readonly string[] | null>;
  loadCases(run: RunRow, spec: EvalSuiteSpec): Promise<ParsedCase[]>;
  /** Renders a registry prompt (NAME[:REF]) into chat messages (the runner has checked its namespace). */
  render(ref: string, variables: Record<string, unknown>): Promise<OutcomeMessage[]>;
  metricsOf(spec: EvalSuiteSpec): MetricInstance[];
  /** Called in the transaction that makes the run's state final (the audit event goes there). */
  onFinished(tx: AnyDb, run: RunRow, state: 'succeeded' | 'failed', summary: RunSummary | null, error: string | null): Promise<void>;
}

/** Results buffered before a write; a write also happens every FLUSH_MS. */
const FLUSH_ROWS = 500;
const FLUSH_MS = 250;
/** When this many cases in a row fail before any succeeds, the endpoint is down: stop the run. */
const BREAKER_CASES = 10;

export class RunLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunLostError';
  }
}

function messagesOf(c: ParsedCase, spec: EvalSuiteSpec): OutcomeMessage[] | null {
  if (c.input === undefined) return null;
  const msgs: OutcomeMessage[] = typeof c.input === 'string' ? [{ role: 'user', content: c.input }] : c.input.map((m) => ({ role: m.role, content: m.content }));
  if (spec.request.system !== undefined && !msgs.some((m) => m.role === 'system')) msgs.unshift({ role: 'system', content: spec.request.system });
  return msgs;
}

async function scoreCase(metrics: readonly MetricInstance[], outcome: CaseOutcome, ctx: ScoreContext): Promise<Record<string, CaseValue>> {
  const scores: Record<string, CaseValue> = {};
  for (const m of metrics) {
    try {
      const v = m.def.score(outcome, m.params, ctx);
      scores[m.id] = v instanceof Promise ? await v : v;
    } catch (err) {
      scores[m.id] = { value: null, error: `metric failed: ${(err as Error).message}` };
    }
  }
  return scores;
}

/**
 * Runs `runId` to its end (or until `signal` aborts). The caller holds the claim for `owner`.
 * Resolves once results are written and the run's state is final (or released for another
 * replica when aborted by a shutdown).
 */
export async function executeRun(deps: RunnerDeps, runId: string, owner: string, keys: RunKeys, signal: AbortSignal): Promise<void> {
  const { repo, clock, log } = deps;
  const run = await repo.getRun(runId);
  if (!run) return;
  const spec = JSON.parse(run.spec) as EvalSuiteSpec;
  const settings = JSON.parse(run.settings) as RunSettings;
  const judge = run.judge ? (JSON.parse(run.judge) as JudgeSettings) : null;
  const metrics = deps.metricsOf(spec);
  const needsStream = metrics.some((m) => m.def.needs.stream);
  const needsLogprobs = metrics.some((m) => m.def.needs.logprobs);
  const leaseMs = deps.settings.leaseSeconds * 1000;
  const startedAt = performance.now();
  // Progress, also read by finish(): declared before anything can fail.
  let done = 0;
  let failed = 0;

  // What the run reads is checked again now: the token it runs for may have been narrowed or
  // revoked since the run was created, and no prompt outside its namespaces is ever rendered.
  let namespaces: readonly string[] | null;
  try {
    namespaces = await deps.scopeOf(run, spec);
  } catch (err) {
    if (!(err instanceof AppError && err.code === 'permission_denied')) throw err;
    await finish('failed', null, `refused when the run executed: ${err.message}`);
    return;
  }
  let cases: ParsedCase[];
  try {
    cases = await deps.loadCases(run, spec);
  } catch (err) {
    await finish('failed', null, `cannot read the suite's cases: ${(err as Error).message}`);
    return;
  }
  const refused = firstRefused(runReferences(`${run.model_name}:${run.model_version}`, `${run.suite_name}:${run.suite_version}`, spec, cases), namespaces);
  if (refused) {
    await finish('failed', null, `refused when the run executed: ${referenceRefused(refused, namespaces!, 'the token this run executes for').message}`);
    return;
  }
  if (settings.limit !== null) cases = cases.slice(0, settings.limit);
  const answered = new Set(await repo.succeededIndexes(runId));
  const todo: number[] = [];
  for (let i = 0; i < cases.length; i++) if (!answered.has(i)) todo.push(i);
  done = answered.size;
  let successes = answered.size;
  let consecutiveFailures = 0;
  let firstFailure: string | null = null;

  const clientOf = (url: string, apiKey: string | undefined): OpenAIClient =>
    createOpenAIClient({ url, connections: settings.concurrency, timeoutMs: settings.timeoutMs, timeoutLabel: 'per-case timeout', ...(apiKey ? { apiKey } : {}), ...(deps.lookup ? { lookup: deps.lookup } : {}) });
  const endpoint = clientOf(run.endpoint_url, keys.apiKey);
  const endpointModel = run.endpoint_model;
  const judgeClient = judge ? clientOf(judge.url, keys.judgeApiKey) : null;

  const stop = new AbortController();
  // Every request in flight (and every backoff sleep) listens for the run's abort.
  setMaxListeners(2 * settings.concurrency + 16, stop.signal);
  const onAbort = () => stop.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  let breakerError: string | null = null;
  let lostError: string | null = null;

  const retryOpts = { retries: settings.retries, baseMs: deps.settings.retryBaseMs, signal: stop.signal };
  const ctx: ScoreContext = judgeClient && judge ? { judge: createJudgeCall(judgeClient, judge.model, retryOpts) } : {};

  let buffer: EvalResultsTable[] = [];
  let lastFlush = performance.now();
  let flushing: Promise<void> = Promise.resolve();

  const flush = (): Promise<void> => {
    const rows = buffer;
    buffer = [];
    lastFlush = performance.now();
    const d = done;
    const f = failed;
    flushing = flushing.then(async () => {
      const until = iso(new Date(clock.now().getTime() + leaseMs));
      // Answered cases are kept even when the run is no longer ours (cancelled, taken over):
      // they are true answers, and a resume must not ask for them again.
      const ours = await repo.transaction(async (r) => {
        if (rows.length) await r.insertResults(rows);
        return r.heartbeat(runId, owner, until, d, f);
      });
      if (!ours && !lostError) {
        lostError = 'the run was cancelled or taken over by another replica';
        stop.abort(new RunLostError(lostError));
      }
    });
    return flushing;
  };
  // Keeps the claim alive while cases are slow (no batch to write).
  const ticker = setInterval(() => {
    if (performance.now() - lastFlush >= FLUSH_MS) flush().catch((err: unknown) => log.error({ err, run: runId }, 'eval results write failed'));
  }, FLUSH_MS);
  ticker.unref();

  async function one(i: number): Promise<void> {
    const c = cases[i]!;
    let messages = messagesOf(c, spec);
    let row: EvalResultsTable;
    const base = { run_id: runId, idx: i, case_id: c.id };
    try {
      if (!messages) {
        const ref = c.prompt?.ref ?? spec.request.prompt;
        if (!ref) throw new Error('the case has no input and the suite no prompt');
        // Checked for the whole run above; checked here too, so no path renders a prompt unchecked.
        if (!referenceGranted(ref, namespaces)) throw new Error(`prompt ${ref} is outside the namespaces this run may read`);
        messages = await deps.render(ref, c.prompt?.variables ?? {});
      }
    } catch (err) {
      row = { ...base, ok: 0, flagged: 1, output: null, error: `prompt render failed: ${(err as Error).message}`, attempts: 0, latency_ms: null, ttft_ms: null, input_tokens: null, output_tokens: null, scores: '{}' };
      record(row, false, row.error!);
      return;
    }
    const msgs = messages;
    const request = {
      model: endpointModel,
      messages: msgs,
      temperature: spec.request.temperature,
      ...(spec.request.maxTokens ? { max_tokens: spec.request.maxTokens } : {}),
      ...(spec.request.stop?.length ? { stop: spec.request.stop } : {}),
      ...(needsLogprobs ? { logprobs: true } : {}),
      stream: needsStream,
    };
    const res = await withRetries(() => endpoint.chat(request, { signal: stop.signal }), retryOpts);
    if (res.error || !res.result) {
      const error = res.error?.message ?? 'no result';
      row = { ...base, ok: 0, flagged: 1, output: null, error, attempts: res.attempts, latency_ms: null, ttft_ms: null, input_tokens: null, output_tokens: null, scores: '{}' };
      record(row, false, error);
      return;
    }
    const r = res.result;
    const references = [...(c.expected !== undefined ? [c.expected] : []), ...(c.references ?? [])];
    const outcome: CaseOutcome = {
      caseId: c.id,
      input: msgs,
      output: r.text,
      expected: c.expected ?? null,
      references,
      schema: c.schema ?? null,
      tags: c.tags,
      latencyMs: r.latencyMs,
      ttftMs: r.ttftMs,
      inputTokens: r.usage?.prompt_tokens ?? null,
      // Without a usage chunk, each content chunk is about one token (what most servers send).
      outputTokens: r.usage?.completion_tokens ?? (r.contentChunks || null),
      logprobs: r.logprobs,
    };
    const scores = await scoreCase(metrics, outcome, ctx);
    let flagged = 0;
    for (const m of metrics) if (m.def.binary && scores[m.id]?.value === 0) flagged = 1;
    row = {
      ...base,
      ok: 1,
      flagged,
      output: r.text,
      error: null,
      attempts: res.attempts,
      latency_ms: Math.round(r.latencyMs * 1000) / 1000,
      ttft_ms: r.ttftMs === null ? null : Math.round(r.ttftMs * 1000) / 1000,
      input_tokens: outcome.inputTokens,
      output_tokens: outcome.outputTokens,
      scores: JSON.stringify(scores),
    };
    record(row, true, null);
  }

  function record(row: EvalResultsTable, ok: boolean, error: string | null) {
    buffer.push(row);
    done++;
    if (ok) {
      successes++;
      consecutiveFailures = 0;
    } else {
      failed++;
      consecutiveFailures++;
      firstFailure ??= error;
      if (successes === 0 && consecutiveFailures >= Math.min(BREAKER_CASES, todo.length) && !breakerError) {
        breakerError = `the endpoint failed the first ${consecutiveFailures} cases; first error: ${firstFailure}`;
        stop.abort(new RunLostError(breakerError));
      }
    }
    if (buffer.length >= FLUSH_ROWS) flush().catch((err: unknown) => log.error({ err, run: runId }, 'eval results write failed'));
  }

  let next = 0;
  const worker = async () => {
    while (!stop.signal.aborted && next < todo.length) {
      const i = todo[next++]!;
      try {
        await one(i);
      } catch (err) {
        if (stop.signal.aborted) return;
        throw err;
      }
    }
  };
  let crashed: unknown = null;
  try {
    await Promise.all(Array.from({ length: Math.min(settings.concurrency, Math.max(1, todo.length)) }, worker));
  } catch (err) {
    crashed = err;
  } finally {
    clearInterval(ticker);
    signal.removeEventListener('abort', onAbort);
    await flush().catch((err: unknown) => log.error({ err, run: runId }, 'eval results write failed'));
    await flushing.catch(() => undefined);
    await Promise.all([endpoint.close(), judgeClient?.close()]).catch(() => undefined);
  }

  if (lostError) {
    log.info({ run: runId }, 'eval run stopped: no longer ours');
    return;
  }
  if (signal.aborted) {
    // Shutdown: release the claim at once so a restart or another replica resumes the run.
    await repo.setState(runId, { lease_owner: null, lease_expires_at: null, done, failed }, { owner, states: ['running'] });
    log.info({ run: runId, done, total: cases.length }, 'eval run released for resumption');
    return;
  }
  if (breakerError || crashed) {
    await finish('failed', null, breakerError ?? `runner error: ${(crashed as Error).message}`);
    return;
  }
  const rows = await repo.scoresOf(runId);
  const scored: ScoredRow[] = rows.map((r) => ({ caseId: r.case_id, ok: r.ok === 1, scores: JSON.parse(r.scores) as Record<string, CaseValue> }));
  const failedTotal = scored.reduce((n, r) => n + (r.ok ? 0 : 1), 0);
  const summary = summarize(metrics, spec.thresholds, scored, {
    total: cases.length,
    failed: failedTotal,
    durationMs: performance.now() - startedAt,
    answered: todo.length,
    resamples: settings.bootstrapResamples,
    seed: seedOf(runId),
  });
  done = scored.length;
  failed = failedTotal;
  await finish('succeeded', summary, null);

  async function finish(state: 'succeeded' | 'failed', summary: RunSummary | null, error: string | null) {
    await repo.transaction(async (r, trx) => {
      const ok = await r.setState(
        runId,
        { state, summary: summary ? JSON.stringify(summary) : null, error, finished_at: iso(clock.now()), lease_owner: null, lease_expires_at: null, done, failed },
        { owner, states: ['running'] },
      );
      if (ok) await deps.onFinished(trx as unknown as AnyDb, { ...run!, state, done, failed }, state, summary, error);
    });
  }
}

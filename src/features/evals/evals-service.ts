/**
 * Evaluations: suites (dataset versions whose metadata holds an `evalSuite`), runs of a model
 * version's endpoint against a suite, their per-case results, comparisons of two runs, and the
 * evaluations a version document shows. Runs execute in the background as `eval.run` jobs of
 * the job runner (`evals-run-job.ts`), enqueued in the transaction that creates or resumes the
 * run; this module owns the rules around them.
 */
import { randomBytes } from 'node:crypto';
import type { EndpointPolicy } from '../../platform/http/http-endpoint-policy.js';
import type { z } from 'zod';
import { namespaceGranted, namespaceOf, parseAssetRef } from '../../contracts/assets.js';
import {
  CreateRunBody,
  EvalSuiteSpec,
  parseCasesJsonl,
  type CaseResult,
  type CompareRunsResponse,
  type ListResultsQuery,
  type ListRunsQuery,
  type ParsedCase,
  type RunResponse,
  type RunSummary,
  type VersionEvaluation,
} from '../../contracts/evals.js';
import { iso, type Clock } from '../../platform/clock.js';
import { decodeCursor, encodeCursor } from '../../platform/cursor.js';
import { AppError, errors } from '../../platform/errors.js';
import type { Actor } from '../../platform/http/http-route.js';
import type { AnyDb } from '../../platform/sql/sql-db.js';
import type { DeleteBlocker, DeletingVersions } from '../assets/assets-delete-service.js';
import type { AssetsService, VersionKindHook } from '../assets/assets-service.js';
import type { AuditService } from '../audit/audit-service.js';
import type { AuthService } from '../auth/auth-service.js';
import type { EventsService } from '../events/events-service.js';
import type { JobsService } from '../jobs/jobs-service.js';
import { compareRuns, seedOf, type MetricInstance, type ScoredRow } from './evals-aggregate.js';
import type { EvalsRepo, RunRow } from './evals-repo.js';
import { EVAL_RUN_JOB, evalRunKey, type EvalRunPayload } from './evals-run-job.js';
import { firstRefused, referenceRefused, runReferences } from './evals-scope-fns.js';
import type { JudgeSettings, RunKeys, RunSettings } from './evals-runner.js';
import { getMetric, parseMetricParams } from './metrics/metrics-registry.js';
import type { CaseValue } from './metrics/metric-types.js';

/** Largest cases file a run reads into memory. */
const MAX_CASES_BYTES = 512 * 1024 * 1024;
const MAX_FLIPS = 200;

/** `NAME:REF` → [name, ref]; `NAME` → [name, fallback] (a name holds no ':'). */
export function splitRef(text: string, fallback: string | null, what: string): [string, string] {
  const r = parseAssetRef(text, fallback === null ? { requireRef: true } : { defaultRef: fallback });
  if (typeof r === 'string') throw errors.invalid(`${what} ${r}`);
  return [r.name, r.ref!];
}

function invalidSpec(err: z.ZodError, prefix: string): AppError {
  const issues = err.issues.map((i) => ({ path: [prefix, ...i.path.map(String)].join('.'), message: i.message }));
  const first = issues[0]!;
  return errors.invalid(`invalid evaluation suite: ${first.path}: ${first.message}`, { issues });
}

/** Parses a suite spec and every metric's parameters; the AppError names the first problem. */
export function checkSuiteSpec(raw: unknown, prefix = 'metadata.evalSuite'): { spec: EvalSuiteSpec; metrics: MetricInstance[] } {
  const res = EvalSuiteSpec.safeParse(raw);
  if (!res.success) throw invalidSpec(res.error, prefix);
  const spec = res.data;
  const metrics = spec.metrics.map((m, i): MetricInstance => {
    const p = parseMetricParams(m.metric, m.params);
    if (!p.ok) throw errors.invalid(`invalid evaluation suite: ${prefix}.metrics.${i}: ${p.message}`, { issues: [{ path: `${prefix}.metrics.${i}`, message: p.message }] });
    return { id: m.id ?? m.metric, def: getMetric(m.metric)!, params: p.params };
  });
  return { spec, metrics };
}

/** Dataset versions with `metadata.evalSuite` are suites: the spec is checked before anything is written. */
export const suiteVersionHook: VersionKindHook = {
  prepare({ files, metadata }) {
    if (!('evalSuite' in metadata)) return { metadata };
    const { spec } = checkSuiteSpec(metadata.evalSuite);
    if (!files.some((f) => f.path === spec.cases)) {
      throw errors.invalid(`invalid evaluation suite: metadata.evalSuite.cases names ${JSON.stringify(spec.cases)}, which is not a file of this version`, {
        issues: [{ path: 'metadata.evalSuite.cases', message: 'not a file of this version' }],
      });
    }
    return { metadata: { ...metadata, evalSuite: spec } };
  },
};

export interface EvalsDeps {
  repo: EvalsRepo;
  assets: Pick<AssetsService, 'getVersion' | 'openFile' | 'holdVersion'>;
  audit: Pick<AuditService, 'record'>;
  /** `eval.run.deleted`, in the deleting transaction. */
  events: Pick<EventsService, 'emit'>;
  clock: Clock;
  /** Refuses endpoint and judge URLs the server must not call (see platform/http/http-endpoint-policy.ts). */
  policy?: Pick<EndpointPolicy, 'check'>;
  /** Runs execute as `eval.run` jobs: enqueued with the run, cancelled with it. */
  jobs: Pick<JobsService, 'enqueue' | 'cancel' | 'poke'>;
  /** API keys of runs, by run id, in memory only: the job handler reads them. */
  keys: Map<string, RunKeys>;
  /** What the token a run executes for may do now (checked again when the run executes). */
  auth: Pick<AuthService, 'grantOf'>;
}

/** States in which a run has (or is about to have) an execution: it cannot be deleted, nor what it evaluates. */
const BUSY_STATES = ['queued', 'running'] as const;

const parseJson = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

export function runView(r: RunRow): RunResponse {
  const settings = JSON.parse(r.settings) as RunSettings;
  const judge = parseJson<JudgeSettings>(r.judge);
  return {
    id: r.id,
    suite: { name: r.suite_name, version: r.suite_version },
    model: { name: r.model_name, version: r.model_version },
    endpoint: { url: r.endpoint_url, model: r.endpoint_model, auth: r.endpoint_auth === 1 },
    judge: judge ? { url: judge.url, model: judge.model, auth: judge.auth } : null,
    state: r.state as RunResponse['state'],
    settings: { concurrency: settings.concurrency, timeoutMs: settings.timeoutMs, retries: settings.retries, limit: settings.limit, bootstrapResamples: settings.bootstrapResamples },
    total: r.total,
    done: r.done,
    failed: r.failed,
    summary: parseJson<RunSummary>(r.summary),
    error: r.error,
    labels: JSON.parse(r.labels) as Record<string, string>,
    createdAt: r.created_at,
    createdBy: r.created_by,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

function resultView(r: Awaited<ReturnType<EvalsRepo['listResults']>>[number]): CaseResult {
  return {
    index: r.idx,
    caseId: r.case_id,
    ok: r.ok === 1,
    output: r.output,
    error: r.error,
    attempts: r.attempts,
    latencyMs: r.latency_ms,
    ttftMs: r.ttft_ms,
    inputTokens: r.input_tokens,
    outputTokens: r.output_tokens,
    scores: JSON.parse(r.scores) as CaseResult['scores'],
  };
}

export function createEvalsService(deps: EvalsDeps) {
  const { repo, assets, audit, clock } = deps;

  /** Reads and parses a suite version's cases file. */
  async function readCases(suiteName: string, suiteVersion: string, spec: EvalSuiteSpec): Promise<ParsedCase[]> {
    const f = await assets.openFile('dataset', suiteName, suiteVersion, spec.cases);
    if (f.size > MAX_CASES_BYTES) throw errors.tooLarge(`the cases file ${spec.cases} is ${f.size} bytes; a suite's cases file is at most ${MAX_CASES_BYTES} bytes — split the suite`);
    const stream = await f.open();
    const parts: Buffer[] = [];
    for await (const chunk of stream) parts.push(chunk as Buffer);
    const parsed = parseCasesJsonl(Buffer.concat(parts).toString('utf8'), { hasSuitePrompt: spec.request.prompt !== undefined });
    if (!parsed.ok) {
      throw errors.invalid(`suite ${suiteName}:${suiteVersion}: ${spec.cases} ${parsed.message}`, { suite: `${suiteName}:${suiteVersion}`, file: spec.cases, line: parsed.line });
    }
    return parsed.cases;
  }

  /** A run, or 404 when absent or outside the caller's namespaces (no existence leak). */
  async function visibleRun(id: string, namespaces: string[] | null): Promise<RunRow> {
    const r = await repo.getRun(id);
    // As everywhere: a limited token reaches only names inside its namespaces (never bare names).
    const granted = (ns: string | null) => ns !== null && namespaces!.includes(ns);
    const visible = r && (!namespaces || (granted(r.model_namespace) && granted(r.suite_namespace)));
    if (!r || !visible) throw new AppError('not_found', `evaluation run ${JSON.stringify(id)} not found; list runs with \`steward eval ls\``, { run: id });
    return r;
  }

  /**
   * Refuses (403, naming it) the first asset a run of `suite` against `model` would read outside
   * the caller's namespaces: the model, the suite, the suite's prompt and every case's prompt.
   */
  function checkReferences(model: string, suite: string, spec: EvalSuiteSpec, cases: readonly ParsedCase[], namespaces: string[] | null): void {
    const refused = firstRefused(runReferences(model, suite, spec, cases), namespaces);
    if (refused) throw referenceRefused(refused, namespaces!, 'this token');
  }

  /** Who a run executes for: the caller's token and the namespaces it is limited to now. */
  const scopeColumns = (actor: Actor) => ({ scope_token_id: actor.tokenId, scope_namespaces: actor.namespaces ? JSON.stringify(actor.namespaces) : null });

  /** Deletes a run that is not busy, with its audit event and `eval.run.deleted`, in `tx`; false when it is busy or gone. */
  async function deleteRunIn(tx: AnyDb, r: Pick<RunRow, 'id' | 'state' | 'model_name' | 'model_version' | 'suite_name' | 'suite_version'>, actor: Actor, reason?: string): Promise<boolean> {
    if (!(await repo.on(tx).deleteRun(r.id, BUSY_STATES))) return false;
    const model = { name: r.model_name, version: r.model_version };
    const suite = { name: r.suite_name, version: r.suite_version };
    await audit.record(tx, actor, { action: 'eval.run.delete', target: `eval-run:${r.id}`, change: { state: r.state, model: `${model.name}:${model.version}`, suite: `${suite.name}:${suite.version}`, ...(reason ? { reason } : {}) } });
    await deps.events.emit(tx, { type: 'eval.run.deleted', subject: `eval-run:${r.id}`, namespace: namespaceOf(model.name), data: { runId: r.id, model, suite, state: r.state as RunResponse['state'] } });
    deps.keys.delete(r.id);
    return true;
  }

  async function scoredRows(runId: string): Promise<ScoredRow[]> {
    const rows = await repo.scoresOf(runId);
    return rows.map((r) => ({ caseId: r.case_id, ok: r.ok === 1, scores: JSON.parse(r.scores) as Record<string, CaseValue> }));
  }

  return {
    readCases,
    visibleRun,

    /**
     * When a run executes: the namespaces it may read now (null: all), after checking its model,
     * suite and suite prompt against them (the runner checks each case's prompt once the cases
     * are read). Those of its token now, narrowed to those it had when it started the run; a
     * permission_denied AppError when that token is revoked, expired or gone, or a reference lies
     * outside them. A run with no token (from before tokens were recorded) keeps what it had.
     */
    async executionScope(run: RunRow, spec: EvalSuiteSpec): Promise<string[] | null> {
      let namespaces = parseJson<string[]>(run.scope_namespaces);
      if (run.scope_token_id !== null) {
        const grant = await deps.auth.grantOf(run.scope_token_id, 'asset:write');
        if (!grant) {
          throw new AppError(
            'permission_denied',
            `the token this run executes for (the one that started or last resumed it) has been revoked or has expired, or may no longer write assets; resume the run with a valid token (\`steward eval resume ${run.id}\`)`,
          );
        }
        const now = grant.namespaces;
        namespaces = namespaces === null ? now : now === null ? namespaces : namespaces.filter((n) => now.includes(n));
      }
      const model = `${run.model_name}:${run.model_version}`;
      const suite = `${run.suite_name}:${run.suite_version}`;
      const refused = firstRefused(runReferences(model, suite, spec, []), namespaces);
      if (refused) throw referenceRefused(refused, namespaces!, 'the token this run executes for');
      return namespaces;
    },

    async createRun(input: z.output<typeof CreateRunBody>, actor: Actor): Promise<RunResponse> {
      const [modelName, modelRef] = splitRef(input.model, null, 'model');
      const [suiteName, suiteRef] = splitRef(input.suite, 'latest', 'suite');
      const [model, suite] = await Promise.all([assets.getVersion('model', modelName, modelRef), assets.getVersion('dataset', suiteName, suiteRef)]);
      if (model.state !== 'ready' && model.state !== 'deprecated') {
        throw errors.precondition(`model ${model.name}:${model.version} is ${model.state}; evaluate a ready or deprecated version`, { state: model.state });
      }
      if (suite.state !== 'ready' && suite.state !== 'deprecated') {
        throw errors.precondition(`suite ${suite.name}:${suite.version} is ${suite.state}; use a ready version`, { state: suite.state });
      }
      if (!('evalSuite' in suite.metadata)) {
        throw errors.invalid(`dataset ${suite.name}:${suite.version} is not an evaluation suite: its metadata has no evalSuite (push one with \`steward eval suite push\`)`);
      }
      const { spec, metrics } = checkSuiteSpec(suite.metadata.evalSuite);
      await deps.policy?.check(input.endpoint.url, 'endpoint');
      if (input.judge) await deps.policy?.check(input.judge.url, 'judge endpoint');
      const needsJudge = metrics.filter((m) => m.def.needs.judge).map((m) => m.id);
      if (needsJudge.length && !input.judge) {
        throw errors.invalid(`suite metric${needsJudge.length > 1 ? 's' : ''} ${needsJudge.join(', ')} need${needsJudge.length > 1 ? '' : 's'} a judge model: pass judge.url (CLI: --judge-endpoint URL)`, { metrics: needsJudge });
      }
      const cases = await readCases(suite.name, suite.version, spec);
      // Before anything is written: what the run would read (its prompts too) must be readable by the caller.
      checkReferences(`${model.name}:${model.version}`, `${suite.name}:${suite.version}`, spec, cases, actor.namespaces);
      const total = input.limit ? Math.min(input.limit, cases.length) : cases.length;
      const id = `run_${randomBytes(9).toString('base64url').replace(/[-_]/g, 'x')}`;
      const settings: RunSettings = { concurrency: input.concurrency, timeoutMs: input.timeoutMs, retries: input.retries, limit: input.limit ?? null, bootstrapResamples: input.bootstrapResamples };
      const judge: JudgeSettings | null = input.judge ? { url: input.judge.url, model: input.judge.model ?? spec.judge?.model ?? 'judge', auth: Boolean(input.judge.apiKey) } : null;
      const now = iso(clock.now());
      const keys: RunKeys = { ...(input.endpoint.apiKey ? { apiKey: input.endpoint.apiKey } : {}), ...(input.judge?.apiKey ? { judgeApiKey: input.judge.apiKey } : {}) };
      // Held before the run's job can exist, so no execution of it misses them.
      deps.keys.set(id, keys);
      try {
        await repo.transaction(async (r, trx) => {
          // Neither version may be deleted while the run refers to it (the registry's deletion waits for this transaction, then sees the run).
          await deps.assets.holdVersion(trx as unknown as AnyDb, 'model', model.name, model.version);
          await deps.assets.holdVersion(trx as unknown as AnyDb, 'dataset', suite.name, suite.version);
          await r.insertRun({
            id,
            suite_name: suite.name,
            suite_version: suite.version,
            suite_namespace: namespaceOf(suite.name),
            model_name: model.name,
            model_version: model.version,
            model_namespace: namespaceOf(model.name),
            endpoint_url: input.endpoint.url,
            endpoint_model: input.endpoint.model ?? model.name,
            endpoint_auth: input.endpoint.apiKey ? 1 : 0,
            judge: judge ? JSON.stringify(judge) : null,
            spec: JSON.stringify(spec),
            settings: JSON.stringify(settings),
            state: 'queued',
            total,
            done: 0,
            failed: 0,
            summary: null,
            error: null,
            labels: JSON.stringify(input.labels ?? {}),
            created_at: now,
            created_by: actor.name,
            started_at: null,
            finished_at: null,
            lease_owner: null,
            lease_expires_at: null,
            ...scopeColumns(actor),
          });
          await audit.record(trx as unknown as AnyDb, actor, {
            action: 'eval.run.create',
            target: `eval-run:${id}`,
            change: { model: `${model.name}:${model.version}`, suite: `${suite.name}:${suite.version}`, endpoint: input.endpoint.url, total },
          });
          await deps.jobs.enqueue<EvalRunPayload>(trx as unknown as AnyDb, { kind: EVAL_RUN_JOB, key: evalRunKey(id), payload: { runId: id } });
        });
      } catch (err) {
        deps.keys.delete(id);
        throw err;
      }
      // The answer is the run as created (queued); its job may start a moment later.
      const created = runView((await repo.getRun(id))!);
      deps.jobs.poke();
      return created;
    },

    async getRun(id: string, namespaces: string[] | null): Promise<RunResponse> {
      return runView(await visibleRun(id, namespaces));
    },

    async listRuns(q: z.output<typeof ListRunsQuery>, namespaces: string[] | null) {
      const [modelName, modelVersion] = q.model ? (q.model.includes(':') ? splitRef(q.model, null, 'model') : [q.model, undefined]) : [undefined, undefined];
      const [suiteName, suiteVersion] = q.suite ? (q.suite.includes(':') ? splitRef(q.suite, null, 'suite') : [q.suite, undefined]) : [undefined, undefined];
      const after = q.cursor ? (decodeCursor(q.cursor, 2) as [string, string]) : undefined;
      const rows = await repo.listRuns({
        ...(modelName !== undefined ? { modelName } : {}),
        ...(modelVersion !== undefined ? { modelVersion: modelVersion.replace(/^v/, '') } : {}),
        ...(suiteName !== undefined ? { suiteName } : {}),
        ...(suiteVersion !== undefined ? { suiteVersion: suiteVersion.replace(/^v/, '') } : {}),
        ...(q.state ? { state: q.state } : {}),
        namespaces,
        ...(after ? { after } : {}),
        limit: q.limit + 1,
      });
      const more = rows.length > q.limit;
      const items = rows.slice(0, q.limit);
      const last = items[items.length - 1];
      return { items: items.map(runView), nextCursor: more && last ? encodeCursor([last.created_at, last.id]) : null };
    },

    async listResults(id: string, q: z.output<typeof ListResultsQuery>, namespaces: string[] | null) {
      await visibleRun(id, namespaces);
      const afterIdx = q.cursor ? Number(decodeCursor(q.cursor, 1)[0]) : -1;
      const rows = await repo.listResults(id, { flaggedOnly: q.failed === 'true', afterIdx, limit: q.limit + 1 });
      const more = rows.length > q.limit;
      const items = rows.slice(0, q.limit);
      const last = items[items.length - 1];
      return { items: items.map(resultView), nextCursor: more && last ? encodeCursor([last.idx]) : null };
    },

    async cancelRun(id: string, actor: Actor): Promise<RunResponse> {
      const r = await visibleRun(id, actor.namespaces);
      await repo.transaction(async (tx, trx) => {
        // Read again under the row lock: the runner may have moved it since `r` was read.
        const previous = (await tx.lockRun(id)) ?? r.state;
        const ok = await tx.setState(id, { state: 'cancelled', finished_at: iso(clock.now()), lease_owner: null, lease_expires_at: null }, { states: ['queued', 'running', 'interrupted'] });
        if (!ok) throw errors.conflict(`run ${id} is ${previous}; only a queued, running or interrupted run can be cancelled`, { state: previous });
        await audit.record(trx as unknown as AnyDb, actor, { action: 'eval.run.cancel', target: `eval-run:${id}`, change: { previous } });
        // An execution in flight sees its job cancelled and stops; answered cases stay stored.
        await deps.jobs.cancel(trx as unknown as AnyDb, { key: evalRunKey(id) });
      });
      deps.jobs.poke();
      return runView((await repo.getRun(id))!);
    },

    /** Deletes a run that is not queued or running, with its results; answers the run as it was. */
    async deleteRun(id: string, actor: Actor): Promise<RunResponse> {
      await visibleRun(id, actor.namespaces);
      return repo.transaction(async (tx, trx) => {
        // Read in the transaction: the answer and the audit event state what was deleted.
        const r = await tx.getRun(id);
        if (!r) throw new AppError('not_found', `evaluation run ${JSON.stringify(id)} not found; list runs with \`steward eval ls\``, { run: id });
        // The delete itself is conditional: a resume committed meanwhile keeps the run.
        if (!(await deleteRunIn(trx as unknown as AnyDb, r, actor))) {
          throw errors.conflict(`run ${id} is ${(BUSY_STATES as readonly string[]).includes(r.state) ? r.state : 'queued again'}; cancel it first (steward eval cancel ${id}), then delete it`, { state: r.state });
        }
        return runView(r);
      });
    },

    /**
     * Why versions must not be deleted, for the registry (`registerDeleteGuard`): a model version
     * while a run of it is queued or running; a suite (dataset) version while any run used it (the
     * runs are the evidence of the models they evaluated: delete them first).
     */
    async deletionBlockers(tx: AnyDb, target: DeletingVersions): Promise<DeleteBlocker[]> {
      if (target.kind !== 'model' && target.kind !== 'dataset') return [];
      const versions = target.versions.map((v) => v.version);
      const byModel = target.kind === 'model';
      const runs = await repo.on(tx).runsOf(byModel ? 'model' : 'suite', target.name, versions, byModel ? BUSY_STATES : undefined);
      const of = new Map<string, string[]>();
      for (const r of runs) {
        const v = byModel ? r.model_version : r.suite_version;
        of.set(v, [...(of.get(v) ?? []), r.id]);
      }
      return [...of].map(([version, ids]) => {
        const shown = ids.length > 5 ? `${ids.slice(0, 5).join(', ')} and ${ids.length - 5} more` : ids.join(', ');
        const runsText = `evaluation run${ids.length > 1 ? 's' : ''} ${shown}`;
        return {
          version,
          reason: 'evaluation',
          refs: ids.slice(0, 5),
          message: byModel
            ? `${runsText} ${ids.length > 1 ? 'are' : 'is'} queued or running against it (wait for ${ids.length > 1 ? 'them' : 'it'}, or cancel: steward eval cancel ${ids[0]})`
            : `${runsText} used it as ${ids.length > 1 ? 'their' : 'its'} suite (delete ${ids.length > 1 ? 'them' : 'it'} first: steward eval rm ${ids[0]})`,
        };
      });
    },

    /** Deletes the runs of model versions being deleted (their evaluations go with them), in the registry's transaction. */
    async removeModelRuns(tx: AnyDb, target: DeletingVersions, actor: Actor): Promise<number> {
      const runs = await repo.on(tx).runsOf('model', target.name, target.versions.map((v) => v.version));
      let n = 0;
      for (const r of runs) if (await deleteRunIn(tx, r, actor, `model version ${r.model_name}:${r.model_version} deleted`)) n++;
      return n;
    },

    /** The run executes for the caller from now on: what it reads is checked against the caller's namespaces, now and when it executes. */
    async resumeRun(id: string, keys: RunKeys, actor: Actor): Promise<RunResponse> {
      const r = await visibleRun(id, actor.namespaces);
      if (actor.namespaces) {
        const { spec } = checkSuiteSpec(JSON.parse(r.spec), 'spec');
        checkReferences(`${r.model_name}:${r.model_version}`, `${r.suite_name}:${r.suite_version}`, spec, await readCases(r.suite_name, r.suite_version, spec), actor.namespaces);
      }
      await repo.transaction(async (tx, trx) => {
        const previous = (await tx.lockRun(id)) ?? r.state;
        const patch = { state: 'queued', error: null, summary: null, finished_at: null, lease_owner: null, lease_expires_at: null, ...scopeColumns(actor) };
        const ok = await tx.setState(id, patch, { states: ['cancelled', 'interrupted', 'failed'] });
        if (!ok) {
          const hint = previous === 'succeeded' ? 'it finished; start a new run to evaluate again' : 'it is already queued or running';
          throw errors.conflict(`run ${id} is ${previous} and cannot be resumed: ${hint}`, { state: previous });
        }
        await audit.record(trx as unknown as AnyDb, actor, { action: 'eval.run.resume', target: `eval-run:${id}`, change: { previous } });
        // The run's previous job may still be winding down (it set the state this resume
        // leaves): it must not hold the key, or the new job would be deduplicated into it.
        await deps.jobs.cancel(trx as unknown as AnyDb, { key: evalRunKey(id) });
        await deps.jobs.enqueue<EvalRunPayload>(trx as unknown as AnyDb, { kind: EVAL_RUN_JOB, key: evalRunKey(id), payload: { runId: id } });
        if (keys.apiKey || keys.judgeApiKey) deps.keys.set(id, keys);
      });
      deps.jobs.poke();
      return runView((await repo.getRun(id))!);
    },

    async compare(aId: string, bId: string, namespaces: string[] | null, resamples = 1000): Promise<CompareRunsResponse> {
      const [a, b] = await Promise.all([visibleRun(aId, namespaces), visibleRun(bId, namespaces)]);
      for (const r of [a, b]) {
        if (r.state !== 'succeeded') throw errors.precondition(`run ${r.id} is ${r.state}; compare finished (succeeded) runs`, { run: r.id, state: r.state });
      }
      const { metrics: ma } = checkSuiteSpec(JSON.parse(a.spec), 'spec');
      const { metrics: mb } = checkSuiteSpec(JSON.parse(b.spec), 'spec');
      const shared = ma.filter((m) => mb.some((o) => o.id === m.id && o.def.name === m.def.name));
      const [ra, rb] = await Promise.all([scoredRows(a.id), scoredRows(b.id)]);
      const out = compareRuns(shared, ra, rb, { resamples, seed: seedOf(`${a.id}/${b.id}`), maxFlips: MAX_FLIPS });
      return { a: runView(a), b: runView(b), ...out };
    },

    /**
     * The latest succeeded run of each suite for a version, for its document; a suite outside the
     * caller's `namespaces` (null: unrestricted) is hidden (run and suite not named).
     */
    async versionEvaluations(name: string, version: string, namespaces: readonly string[] | null = null): Promise<VersionEvaluation[]> {
      const rows = await repo.succeededRunsOf(name, version, 100);
      const seen = new Set<string>();
      const out: VersionEvaluation[] = [];
      for (const r of rows) {
        const key = `${r.suite_name}:${r.suite_version}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const s = parseJson<RunSummary>(r.summary);
        out.push({
          ...(namespaceGranted(r.suite_name, namespaces) ? { run: r.id, suite: key } : { run: null, suite: null, hidden: true }),
          finishedAt: r.finished_at,
          passed: s?.passed ?? null,
          metrics: Object.fromEntries((s?.metrics ?? []).map((m) => [m.id, m.value])),
        });
      }
      return out;
    },

    /** The newest succeeded run of each suite a model version was evaluated on, with its whole summary (promotion validation). */
    async latestSummaries(name: string, version: string): Promise<{ run: string; suite: string; summary: RunSummary | null }[]> {
      const rows = await repo.succeededRunsOf(name, version, 100);
      const seen = new Set<string>();
      const out: { run: string; suite: string; summary: RunSummary | null }[] = [];
      for (const r of rows) {
        const key = `${r.suite_name}:${r.suite_version}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ run: r.id, suite: key, summary: parseJson<RunSummary>(r.summary) });
      }
      return out;
    },
  };
}

export type EvalsService = ReturnType<typeof createEvalsService>;

/**
 * The evals module: suites (checked by `suiteVersionHook`, registered for kind `dataset`), runs
 * executed as `eval.run` jobs, gates, and the evaluations shown in a model version's document
 * (contributed to the registry, and deleted with the version). It refuses deleting a model
 * version a run is busy with, or a suite version runs used (`registerDeleteGuard`). A finished
 * run emits `eval.run.finished`, a deleted one `eval.run.deleted`.
 */
import { parseAssetRef } from '../../contracts/asset-names.js';
import { VersionEvaluations } from '../../contracts/evals.js';
import { defineModule } from '../../platform/module.js';
import { SYSTEM_ACTOR } from '../audit/audit-service.js';
import { createEndpointPolicy } from '../../platform/http/http-endpoint-policy.js';
import { aliasEnvironments, createGates, type Gates } from './evals-gates.js';
import { evalsMigrations } from './evals-migrations.js';
import { createEvalsRepo } from './evals-repo.js';
import { evalRoutes } from './evals-routes.js';
import { evalRunJob } from './evals-run-job.js';
import type { RunKeys } from './evals-runner.js';
import { checkSuiteSpec, createEvalsService, suiteVersionHook, type EvalsService } from './evals-service.js';

export type EvalsFeature = EvalsService & { gates: Gates };

declare module '../../platform/module.js' {
  interface Provided {
    evals: EvalsFeature;
  }
}

export const evalsModule = defineModule({
  name: 'evals',
  needs: ['assets', 'prompts', 'audit', 'events', 'jobs', 'auth'],
  migrations: evalsMigrations,
  setup({ sql, clock, config, log, need }) {
    const assets = need('assets');
    const prompts = need('prompts');
    const audit = need('audit');
    const events = need('events');
    const jobs = need('jobs');
    assets.registerKindHook('dataset', suiteVersionHook);
    const repo = createEvalsRepo(sql.db, sql.dialect);
    const policy = createEndpointPolicy(config.evalEndpointAllow);
    // API keys of runs, in memory only (never stored): shared by the service and the job kind.
    const keys = new Map<string, RunKeys>();
    const service = createEvalsService({ repo, assets, audit, events, clock, jobs, keys, policy, auth: need('auth') });
    assets.registerDeleteGuard((tx, target) => service.deletionBlockers(tx, target));
    jobs.register(
      evalRunJob({
        repo,
        clock,
        keys,
        settings: { leaseSeconds: config.evalLeaseSeconds, maxActiveRuns: config.evalMaxActiveRuns },
        runner: {
          repo,
          clock,
          log,
          settings: { leaseSeconds: config.evalLeaseSeconds, retryBaseMs: config.evalRetryBaseMs },
          lookup: policy.lookup,
          scopeOf: (run, spec) => service.executionScope(run, spec),
          loadCases: (run, spec) => service.readCases(run.suite_name, run.suite_version, spec),
          render: async (ref, variables) => {
            const r = parseAssetRef(ref);
            if (typeof r === 'string') throw new Error(`prompt ${r}`);
            const out = await prompts.render(r.name, { ...(r.ref !== null ? { ref: r.ref } : {}), variables });
            return out.messages.map((m) => ({ role: m.role, content: m.content }));
          },
          metricsOf: (spec) => checkSuiteSpec(spec, 'spec').metrics,
          onFinished: async (tx, run, state, summary, error) => {
            await audit.record(tx, SYSTEM_ACTOR, {
              action: 'eval.run.finish',
              target: `eval-run:${run.id}`,
              change: { state, passed: summary?.passed ?? null, done: run.done, failed: run.failed, ...(error ? { error: error.slice(0, 500) } : {}) },
            });
            await events.emit(tx, {
              type: 'eval.run.finished',
              subject: `eval-run:${run.id}`,
              // Seen by those who may see the run: a limited token only when model and suite share its namespace.
              namespace: run.model_namespace === run.suite_namespace ? run.model_namespace : null,
              data: { runId: run.id, model: { name: run.model_name, version: run.model_version }, suite: { name: run.suite_name, version: run.suite_version }, state, passed: summary?.passed ?? null },
            });
          },
        },
      }),
    );
    const gates = createGates({ repo, assets, environments: aliasEnvironments(assets) });
    assets.contributeToVersion({
      kind: 'model',
      key: 'evaluations',
      schema: VersionEvaluations,
      load: (doc, namespaces) => service.versionEvaluations(doc.name, doc.version, namespaces),
      remove: (tx, target, actor) => service.removeModelRuns(tx, target, actor),
    });
    return { provides: { ...service, gates }, routes: () => evalRoutes(service, gates) };
  },
});

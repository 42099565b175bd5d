/**
 * Builds the evals feature: service, gates, the `eval.run` job kind and routes. The job kind is
 * registered on `jobs` here, so wire this before the job runner starts. The registry must
 * be wired with `suiteVersionHook` for kind `dataset` (so a suite's spec is checked before it is
 * written) and may show `versionExtras` in a model version's document.
 */
import type { Clock } from '../../platform/clock.js';
import { createEndpointPolicy } from './evals-endpoint-policy.js';
import type { Config } from '../../platform/config.js';
import type { Logger } from '../../platform/log.js';
import type { SqlDatabase } from '../../platform/sql/sql-db.js';
import type { AssetsService } from '../assets/assets-service.js';
import type { AuditService } from '../audit/audit-service.js';
import type { JobsService } from '../jobs/jobs-service.js';
import { SYSTEM_ACTOR } from '../audit/audit-service.js';
import type { PromptsService } from '../prompts/prompts-service.js';
import { aliasEnvironments, createGates, type EnvironmentResolver } from './evals-gates.js';
import { evalsMigrations } from './evals-migrations.js';
import { createEvalsRepo } from './evals-repo.js';
import { evalRoutes } from './evals-routes.js';
import { evalRunJob } from './evals-run-job.js';
import type { RunKeys } from './evals-runner.js';
import { checkSuiteSpec, createEvalsService, splitRef, suiteVersionHook } from './evals-service.js';

export { evalsMigrations, suiteVersionHook };

export function wireEvals(deps: {
  sql: SqlDatabase;
  assets: AssetsService;
  prompts: PromptsService;
  audit: AuditService;
  clock: Clock;
  config: Config;
  log: Logger;
  jobs: Pick<JobsService, 'register' | 'enqueue' | 'cancel' | 'poke'>;
  environments?: EnvironmentResolver;
}) {
  const repo = createEvalsRepo(deps.sql.db, deps.sql.dialect);
  const policy = createEndpointPolicy(deps.config.evalEndpointAllow);
  const keys = new Map<string, RunKeys>();
  const service = createEvalsService({ repo, assets: deps.assets, audit: deps.audit, clock: deps.clock, jobs: deps.jobs, keys, policy });
  deps.jobs.register(
    evalRunJob({
      repo,
      clock: deps.clock,
      keys,
      settings: { leaseSeconds: deps.config.evalLeaseSeconds, maxActiveRuns: deps.config.evalMaxActiveRuns },
      runner: {
        repo,
        clock: deps.clock,
        log: deps.log,
        settings: { leaseSeconds: deps.config.evalLeaseSeconds, retryBaseMs: deps.config.evalRetryBaseMs },
        lookup: policy.lookup,
        loadCases: (run, spec) => service.readCases(run.suite_name, run.suite_version, spec),
        render: async (ref, variables) => {
          const [name, version] = ref.lastIndexOf(':') > 0 ? splitRef(ref, null, 'prompt') : [ref, undefined];
          const out = await deps.prompts.render(name, { ...(version ? { ref: version } : {}), variables });
          return out.messages.map((m) => ({ role: m.role, content: m.content }));
        },
        metricsOf: (spec) => checkSuiteSpec(spec, 'spec').metrics,
        onFinished: async (tx, run, state, summary, error) => {
          await deps.audit.record(tx, SYSTEM_ACTOR, {
            action: 'eval.run.finish',
            target: `eval-run:${run.id}`,
            change: { state, passed: summary?.passed ?? null, done: run.done, failed: run.failed, ...(error ? { error: error.slice(0, 500) } : {}) },
          });
        },
      },
    }),
  );
  const gates = createGates({ repo, assets: deps.assets, environments: deps.environments ?? aliasEnvironments(deps.assets) });
  return {
    service,
    gates,
    routes: evalRoutes(service, gates),
    versionExtras: async (kind: string, doc: { name: string; version: string }) =>
      kind === 'model' ? { evaluations: await service.versionEvaluations(doc.name, doc.version) } : {},
  };
}

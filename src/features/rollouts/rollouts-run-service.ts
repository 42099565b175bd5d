/**
 * What drives a rollout: one `rollout.run` job per rollout, which calls `tick` every
 * `analysis.intervalSeconds` while the rollout runs. A tick makes the candidate deployment when
 * the rollout must (a copy of the stable one), waits for it to be ready, applies the first step,
 * analyses the current step from the gateway's usage (candidate and stable arm over the same
 * window), rolls back at once on a failed analysis or a degraded candidate, and moves to the next
 * step, the end (the switch, or an experiment's report) or a pause (too little traffic) when the
 * step's hold is over. Each of those moves is one transaction of the rollouts service.
 */
import type { AnalysisResult, ArmMetrics, RolloutSpec, RolloutStep } from '../../contracts/rollouts.js';
import { iso, type Clock } from '../../platform/clock.js';
import type { Logger } from '../../platform/log.js';
import { AppError } from '../../platform/errors.js';
import { SYSTEM_ACTOR } from '../audit/audit-service.js';
import type { DeploymentsService } from '../deployments/deployments-service.js';
import type { GatewayFeature } from '../gateway/gateway-wiring.js';
import { decidesAtEnd, experimentReport, judge } from './rollouts-fns.js';
import type { RolloutRow, RolloutsRepo } from './rollouts-repo.js';
import type { RolloutsService } from './rollouts-service.js';

export interface RunDeps {
  repo: RolloutsRepo;
  rollouts: RolloutsService;
  deployments: Pick<DeploymentsService, 'get' | 'cloneFor' | 'stopIn'>;
  gateway: Pick<GatewayFeature, 'usageWindow'>;
  clock: Clock;
  log: Logger;
}

/** What the job does after a tick: wait `intervalSeconds` and tick again, or end. */
export type TickOutcome = { next: 'again'; intervalSeconds: number } | { next: 'done' };

export function createRolloutRunner(deps: RunDeps) {
  const { repo, rollouts, clock } = deps;
  const actor = SYSTEM_ACTOR;

  async function window(row: RolloutRow, step: RolloutStep, since: Date): Promise<{ candidate: ArmMetrics; stable: ArmMetrics }> {
    const base = { model: row.model, environment: row.environment, since };
    const [candidate, stable] = await Promise.all([
      // A shadow's answers are discarded: its figures are the mirrored requests'.
      deps.gateway.usageWindow({ ...base, deployment: row.candidate_deployment!, shadow: step.kind === 'shadow' }),
      deps.gateway.usageWindow({ ...base, deployment: row.stable_deployment, shadow: false }),
    ]);
    return { candidate, stable };
  }

  async function fail(row: RolloutRow, state: 'aborted' | 'failed', reason: string, evidence: Record<string, unknown>): Promise<TickOutcome> {
    const done = await rollouts.rollBack(row.id, actor, { state, reason, evidence });
    // The alert: `rollout.aborted` is the event subscribers (webhooks, monitoring) act on; the log says it to an operator.
    if (done) deps.log.warn({ rollout: row.id, model: row.model, environment: row.environment, stable: row.stable_version, candidate: row.candidate_version, reason }, `rollout ${state}: traffic returned to the stable version`);
    return { next: 'done' };
  }

  return {
    async tick(id: string): Promise<TickOutcome> {
      const row = await repo.get(id);
      if (!row || (row.state !== 'pending' && row.state !== 'running')) return { next: 'done' };
      const spec = JSON.parse(row.spec) as RolloutSpec;
      const steps = JSON.parse(row.steps) as RolloutStep[];
      const again: TickOutcome = { next: 'again', intervalSeconds: spec.analysis.intervalSeconds };

      // The candidate: made here (not in the request) so a restart that interrupted it makes it again.
      if (!row.candidate_deployment) {
        let made;
        try {
          made = await deps.deployments.cloneFor(row.stable_deployment, row.candidate_version, actor);
        } catch (err) {
          if (err instanceof AppError) return fail(row, 'failed', `the candidate deployment could not be made: ${err.message}`, { error: err.code });
          throw err;
        }
        const kept = await rollouts.transition(id, ['pending', 'running', 'paused'], async (cur, r) => {
          await r.update(id, { candidate_deployment: made.id, candidate_created: 1, updated_at: iso(clock.now()) });
          await rollouts.note(r, cur, 'state', `candidate deployment ${made.id} created (a copy of ${row.stable_deployment} at ${row.candidate_version})`, { deployment: made.id });
          return true;
        });
        // Aborted meanwhile: the copy is not the rollout's; stop it like the rollback would have.
        if (!kept) await rollouts.transition(id, ['aborted', 'failed', 'succeeded'], async (_cur, _r, tx) => deps.deployments.stopIn(tx, made.id, actor, `rollout ${id} ended before its candidate started`));
        return again;
      }

      const cand = await deps.deployments.get(row.candidate_deployment, actor);
      const unhealthy = cand.replicaStatus.filter((r) => r.state === 'unhealthy' || r.state === 'failed').length;
      if (cand.state === 'failed' || cand.state === 'stopped' || (row.step >= 0 && (cand.state === 'degraded' || unhealthy > 0))) {
        return fail(row, 'aborted', `the candidate deployment ${cand.id} is ${cand.state}${unhealthy ? ` with ${unhealthy} unhealthy replica(s)` : ''}${cand.error ? `: ${cand.error}` : ''}`, { deployment: cand.id, state: cand.state, unhealthy });
      }
      if (row.step < 0) {
        // The first step waits for a ready candidate (its start has its own timeout, which fails it).
        if (cand.state === 'ready') await rollouts.applyStep(id, -1, 0, actor);
        return again;
      }

      const step = steps[row.step]!;
      const now = clock.now();
      const startedAt = new Date(row.step_started_at!);
      const held = (now.getTime() - startedAt.getTime()) / 1000 >= step.holdSeconds;
      let result: AnalysisResult | null = null;
      if (step.analyse) {
        const since = new Date(Math.max(startedAt.getTime(), now.getTime() - spec.analysis.windowSeconds * 1000));
        const w = await window(row, step, since);
        // An experiment compares its arms in the report; its analysis only guards the absolute thresholds.
        const v = judge(spec.analysis, w.candidate, step.kind === 'experiment' ? null : w.stable, { unhealthy, state: cand.state });
        result = { ...v, candidate: w.candidate, stable: w.stable, unhealthyReplicas: unhealthy, since: iso(since), at: iso(now) };
        const previous = row.last_analysis ? (JSON.parse(row.last_analysis) as AnalysisResult).verdict : null;
        const recorded = await rollouts.transition(id, ['running'], async (cur, r) => {
          if (cur.step !== row.step) return false;
          await r.update(id, { last_analysis: JSON.stringify(result) });
          // The timeline keeps each change of verdict and each step's last one, not every tick.
          if (result!.verdict !== previous || held || result!.verdict === 'fail') await rollouts.note(r, cur, 'analysis', `analysis ${result!.verdict}: ${result!.reason}`, { ...result });
          return true;
        });
        if (!recorded) return { next: 'done' };
        if (result.verdict === 'fail') return fail(row, 'aborted', `analysis failed at step ${row.step + 1}: ${result.reason}`, { analysis: result });
      }
      if (!held) return again;

      if (result && result.verdict === 'inconclusive') {
        // Never a pass: the step waits for an operator (resume analyses it again, promote skips it).
        await rollouts.transition(id, ['running'], async (cur, r, tx) => {
          if (cur.step !== row.step) return;
          const reason = `inconclusive at step ${row.step + 1}: ${result!.reason}`;
          const next = { ...cur, state: 'paused', reason, updated_at: iso(now) };
          await r.update(id, { state: 'paused', reason, updated_at: next.updated_at });
          await rollouts.note(r, next, 'state', `paused: ${reason}; resume to analyse again, promote to go on, or abort`);
          await rollouts.audit(tx, actor, next, 'pause', { reason });
          await rollouts.emit(tx, 'rollout.paused', next);
        });
        return { next: 'done' };
      }
      if (row.step + 1 < steps.length) {
        await rollouts.applyStep(id, row.step, row.step + 1, actor);
        return again;
      }
      if (decidesAtEnd(row.strategy)) {
        const w = await window(row, step, startedAt);
        const report = experimentReport(
          { stable: { deployment: row.stable_deployment, version: row.stable_version, m: w.stable }, candidate: { deployment: row.candidate_deployment, version: row.candidate_version, m: w.candidate } },
          iso(startedAt),
          iso(now),
        );
        await rollouts.transition(id, ['running'], async (cur, r, tx) => {
          if (cur.step !== row.step) return;
          const reason = `${row.strategy === 'ab' ? 'experiment' : 'shadow'} finished: ${report.conclusion}; promote the candidate or abort`;
          const next = { ...cur, state: 'paused', reason, report: JSON.stringify(report), updated_at: iso(now) };
          await r.update(id, { state: 'paused', reason, report: next.report, updated_at: next.updated_at });
          await rollouts.note(r, next, 'report', reason, { ...report });
          await rollouts.audit(tx, actor, next, 'report', { conclusion: report.conclusion });
          await rollouts.emit(tx, 'rollout.paused', next);
        });
        return { next: 'done' };
      }
      await rollouts.succeed(id, actor, ['running']);
      return { next: 'done' };
    },
  };
}

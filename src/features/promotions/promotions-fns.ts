/**
 * Pure rules of promotions: which policy applies, what validation means, how a request's gate
 * results decide it, which version is the last known-good one, and the documents served.
 */
import type { RunSummary } from '../../contracts/evals.js';
import { EnvironmentPolicy, type PointerMove, type PromotionGateResult, type PromotionResponse, type PromotionState } from '../../contracts/promotions.js';
import type { DecisionRow, EnvironmentRow, MoveRow, PromotionRow } from './promotions-repo.js';

/** The policy a model of `namespace` meets in `env`: its team's override, else the global one; null when neither exists. */
export function policyRowFor(rows: readonly EnvironmentRow[], namespace: string | null, env: string): EnvironmentRow | null {
  return rows.find((r) => r.name === env && namespace !== null && r.namespace === namespace) ?? rows.find((r) => r.name === env && r.namespace === '') ?? null;
}

export function parsePolicy(row: EnvironmentRow): EnvironmentPolicy {
  return EnvironmentPolicy.parse(JSON.parse(row.policy));
}

const fmt = (n: number) => String(Number(n.toPrecision(4)));

/**
 * Validation: the newest succeeded run of every suite the version was evaluated on passed its
 * suite's thresholds, and (with `minScore`) every unitless, higher-is-better metric of those runs
 * reaches it. No run at all fails: validation asks for evidence, not its absence.
 */
export function judgeValidation(
  policy: EnvironmentPolicy['validation'],
  model: string,
  runs: readonly { run: string; suite: string; summary: RunSummary | null }[],
): PromotionGateResult | null {
  if (!policy.required && policy.minScore === null) return null;
  const evidence = { runs: runs.map((r) => ({ run: r.run, suite: r.suite, passed: r.summary?.passed ?? null })), minScore: policy.minScore };
  if (!runs.length) {
    return { name: 'validation', status: 'failed', reason: `${model} has no succeeded evaluation run; run \`steward eval run SUITE --model ${model} --endpoint URL\``, evidence };
  }
  const problems: string[] = [];
  for (const r of runs) {
    if (!r.summary) problems.push(`run ${r.run} (${r.suite}) has no summary`);
    else if (!r.summary.passed) problems.push(`run ${r.run} (${r.suite}) failed its suite's thresholds`);
  }
  const scores: { run: string; metric: string; value: number | null }[] = [];
  if (policy.minScore !== null) {
    for (const r of runs) {
      for (const m of r.summary?.metrics ?? []) {
        if (m.unit !== '' || !m.higherIsBetter) continue;
        scores.push({ run: r.run, metric: m.id, value: m.value });
        if (m.value === null || m.value < policy.minScore) problems.push(`${m.id} = ${m.value === null ? 'none' : fmt(m.value)} in run ${r.run} (${r.suite}) is below ${policy.minScore}`);
      }
    }
    if (!scores.length) problems.push(`no run reports a score (a unitless, higher-is-better metric) to compare with ${policy.minScore}`);
  }
  const passed = !problems.length;
  const what = policy.minScore === null ? 'suite thresholds' : `suite thresholds and scores ≥ ${policy.minScore}`;
  return {
    name: 'validation',
    status: passed ? 'passed' : 'failed',
    reason: passed ? `${runs.length} suite(s) passed their ${what}` : problems.join('; '),
    evidence: { ...evidence, scores },
  };
}

/** How gate results decide a request: an error fails it closed, a failed or blocking inconclusive gate rejects it. */
export function verdict(results: readonly PromotionGateResult[], blocking: (r: PromotionGateResult) => boolean): { state: 'ok' } | { state: 'rejected' | 'failed'; reason: string } {
  const errs = results.filter((r) => r.status === 'error');
  if (errs.length) return { state: 'failed', reason: `a gate could not be evaluated: ${errs.map((r) => r.reason).join('; ')}` };
  const bad = results.filter((r) => r.status === 'failed' || (r.status === 'inconclusive' && blocking(r)));
  if (bad.length) return { state: 'rejected', reason: bad.map((r) => `${r.name}: ${r.reason}`).join('; ') };
  return { state: 'ok' };
}

/**
 * The last known-good version of an environment: the newest version that left it through a
 * promotion (not a rollback) and was never rolled back away from nor deleted, other than the current one.
 * `moves` are the environment's moves, newest first.
 */
export function lastKnownGood(moves: readonly MoveRow[], current: string | null): string | null {
  // Versions rolled back away from, and versions deleted (a removal), are never known-good.
  const rolledBack = new Set(moves.filter((m) => (m.kind === 'rollback' || m.kind === 'removal') && m.previous).map((m) => m.previous!));
  for (const m of moves) {
    if (m.kind !== 'promotion' || !m.previous) continue;
    if (m.previous === current || rolledBack.has(m.previous)) continue;
    return m.previous;
  }
  return null;
}

export function moveView(m: MoveRow): PointerMove {
  return {
    seq: m.seq,
    model: m.model,
    environment: m.environment,
    version: m.version,
    previous: m.previous,
    kind: m.kind as PointerMove['kind'],
    promotion: m.promotion_id,
    reason: m.reason,
    at: m.at,
    by: m.moved_by,
  };
}

export function promotionView(p: PromotionRow, decisions: readonly DecisionRow[]): PromotionResponse {
  return {
    id: p.id,
    model: { name: p.model, version: p.version },
    from: p.from_env,
    to: p.to_env,
    state: p.state as PromotionState,
    reason: p.reason,
    comment: p.comment,
    gates: JSON.parse(p.gates) as PromotionGateResult[],
    approvals: {
      required: p.approvals_required,
      role: p.approval_role,
      decisions: decisions.filter((d) => d.promotion_id === p.id).map((d) => ({ by: d.decided_by, decision: d.decision as 'approve' | 'reject', comment: d.comment, at: d.at })),
    },
    requestedBy: p.requested_by,
    requestedAt: p.requested_at,
    decidedAt: p.decided_at,
    expiresAt: p.expires_at,
  };
}

import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../contracts/evals.js';
import { EnvironmentPolicy } from '../../contracts/promotions.js';
import { judgeValidation, lastKnownGood, policyRowFor, verdict } from './promotions-fns.js';
import type { MoveRow } from './promotions-repo.js';

const move = (version: string, previous: string | null, kind: 'promotion' | 'rollback'): MoveRow => ({
  seq: 0, model: 'm', environment: 'prod', namespace: null, version, previous, kind, promotion_id: null, reason: null, at: '', moved_by: 'x',
});
/** Moves given oldest first, as they happened; the function reads them newest first. */
const history = (...moves: MoveRow[]) => [...moves].reverse();

describe('lastKnownGood', () => {
  it('is the version the current one replaced', () => {
    expect(lastKnownGood(history(move('1', null, 'promotion'), move('2', '1', 'promotion')), '2')).toBe('1');
  });
  it('skips versions that were rolled back away from, and the current one', () => {
    const h = history(move('1', null, 'promotion'), move('2', '1', 'promotion'), move('3', '2', 'promotion'), move('2', '3', 'rollback'));
    expect(lastKnownGood(h, '2')).toBe('1');
    const again = history(...[...h].reverse(), move('1', '2', 'rollback'));
    expect(lastKnownGood(again, '1')).toBeNull();
  });
  it('has nothing before the first promotion', () => {
    expect(lastKnownGood(history(move('1', null, 'promotion')), '1')).toBeNull();
    expect(lastKnownGood([], null)).toBeNull();
  });
});

const summary = (passed: boolean, metrics: [string, number | null, string, boolean][]): RunSummary => ({
  passed, thresholds: [], errorRate: 0, durationMs: 1, casesPerSecond: 1,
  metrics: metrics.map(([id, value, unit, higherIsBetter]) => ({ id, metric: id, value, low: value, high: value, scored: 1, errors: 0, unit, higherIsBetter })),
});

describe('judgeValidation', () => {
  const policy = (required: boolean, minScore: number | null) => ({ required, minScore });
  it('is not judged when the policy asks for nothing', () => {
    expect(judgeValidation(policy(false, null), 'm:1', [])).toBeNull();
  });
  it('fails without evidence, and on a run that failed its thresholds', () => {
    expect(judgeValidation(policy(true, null), 'm:1', [])?.status).toBe('failed');
    const r = judgeValidation(policy(true, null), 'm:1', [{ run: 'r1', suite: 's:1', summary: summary(false, []) }]);
    expect(r).toMatchObject({ status: 'failed', reason: expect.stringContaining('r1') as string });
  });
  it('compares unitless, higher-is-better scores with minScore and ignores latency or cost', () => {
    const runs = [{ run: 'r1', suite: 's:1', summary: summary(true, [['exact_match', 0.95, '', true], ['latency_p95', 900, 'ms', false], ['toxicity', 0.5, '', false]]) }];
    expect(judgeValidation(policy(true, 0.9), 'm:1', runs)?.status).toBe('passed');
    const low = judgeValidation(policy(true, 0.96), 'm:1', runs);
    expect(low).toMatchObject({ status: 'failed', reason: expect.stringContaining('exact_match = 0.95') as string });
    const noScore = judgeValidation(policy(true, 0.5), 'm:1', [{ run: 'r2', suite: 's:1', summary: summary(true, [['latency_p95', 1, 'ms', false]]) }]);
    expect(noScore?.status).toBe('failed');
  });
});

describe('verdict', () => {
  const g = (status: 'passed' | 'failed' | 'inconclusive' | 'error', name = 'x') => ({ name, status, reason: status, evidence: {} });
  it('fails closed on an error, rejects on a failure or a blocking inconclusive gate', () => {
    expect(verdict([g('passed'), g('error')], () => true).state).toBe('failed');
    expect(verdict([g('passed'), g('failed')], () => true).state).toBe('rejected');
    expect(verdict([g('inconclusive', 'live')], () => true).state).toBe('rejected');
    expect(verdict([g('inconclusive', 'live')], () => false).state).toBe('ok');
    expect(verdict([], () => true).state).toBe('ok');
  });
});

describe('policies', () => {
  const row = (namespace: string, name: string) => ({ namespace, name, policy: JSON.stringify(EnvironmentPolicy.parse({})), updated_at: '', updated_by: '' });
  it("prefers a team's override to the global policy", () => {
    const rows = [row('', 'staging'), row('team-a', 'staging')];
    expect(policyRowFor(rows, 'team-a', 'staging')?.namespace).toBe('team-a');
    expect(policyRowFor(rows, 'team-b', 'staging')?.namespace).toBe('');
    expect(policyRowFor(rows, null, 'staging')?.namespace).toBe('');
    expect(policyRowFor(rows, null, 'prod')).toBeNull();
  });
  it('reads durations and fills defaults', () => {
    const p = EnvironmentPolicy.parse({ minTimeInSource: '24h', approvalTimeout: '2d' });
    expect([p.minTimeInSource, p.approvalTimeout, p.approvals, p.validation]).toEqual([86400, 172800, { count: 0, role: 'approver' }, { required: false, minScore: null }]);
    expect(EnvironmentPolicy.safeParse({ minTimeInSource: '0h' }).success).toBe(false);
    expect(EnvironmentPolicy.safeParse({ gates: ['nonsense'] }).success).toBe(false);
    expect(EnvironmentPolicy.safeParse({ extra: 1 }).success).toBe(false);
  });
});

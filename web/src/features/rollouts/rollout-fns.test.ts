import { describe, expect, it } from 'vitest';
import type { AnalysisResult, ArmMetrics, RolloutDetail, RolloutStep } from '../../../../src/contracts/rollouts.js';
import { allowedActions, candidateShare, stepLabel, stepViews } from './rollout-fns.js';

const step = (weight: number): RolloutStep => ({ kind: 'traffic', weight, shadowPercent: null, holdSeconds: 30, analyse: true });
const arm = (requests: number, errorRate: number): ArmMetrics => ({ requests, errors: Math.round(requests * errorRate), errorRate, clientErrors: 0, p95LatencyMs: 120, meanLatencyMs: 80, latencySdMs: 10, p95TtftMs: null, tokensPerSecond: null, truncated: false });
const analysis = (verdict: AnalysisResult['verdict'], at: string): AnalysisResult => ({ verdict, reason: verdict, checks: [], candidate: arm(60, 0.01), stable: arm(500, 0.01), unhealthyReplicas: 0, since: at, at });

const rollout = (over: Partial<RolloutDetail>): Pick<RolloutDetail, 'state' | 'steps' | 'step' | 'lastAnalysis' | 'timeline' | 'report'> => ({
  state: 'running',
  steps: [step(10), step(50), step(100)],
  step: 1,
  lastAnalysis: null,
  timeline: [],
  report: null,
  ...over,
});

describe('rollout actions', () => {
  it('follow the state: pause while it moves, resume while paused, nothing once it ended', () => {
    expect(allowedActions(rollout({ state: 'running' }))).toEqual(['pause', 'promote', 'abort']);
    expect(allowedActions(rollout({ state: 'pending' }))).toEqual(['pause', 'promote', 'abort']);
    expect(allowedActions(rollout({ state: 'paused' }))).toEqual(['resume', 'promote', 'abort']);
    for (const state of ['succeeded', 'aborted', 'failed'] as const) expect(allowedActions(rollout({ state }))).toEqual([]);
  });
  it('offer no resume once an experiment has reported (promote or abort it)', () => {
    const report = { conclusion: 'no difference' } as RolloutDetail['report'];
    expect(allowedActions(rollout({ state: 'paused', report }))).toEqual(['promote', 'abort']);
  });
});

describe('the candidate share', () => {
  it('is the current step’s, all after success, none after an abort or before the first step', () => {
    expect(candidateShare(rollout({ step: 1 }))).toBe(50);
    expect(candidateShare(rollout({ step: -1, state: 'pending' }))).toBe(0);
    expect(candidateShare(rollout({ state: 'succeeded' }))).toBe(100);
    expect(candidateShare(rollout({ state: 'aborted' }))).toBe(0);
  });
});

describe('steps', () => {
  it('are done, current or upcoming, each with its last analysis from the timeline (the current one: the latest)', () => {
    const a0 = analysis('inconclusive', '2026-01-01T00:00:05.000Z');
    const a0b = analysis('pass', '2026-01-01T00:00:20.000Z');
    const a1 = analysis('fail', '2026-01-01T00:00:40.000Z');
    const views = stepViews(
      rollout({
        lastAnalysis: a1,
        timeline: [
          { seq: 1, at: a0.at, kind: 'analysis', step: 0, message: 'x', detail: { ...a0 } },
          { seq: 2, at: a0b.at, kind: 'analysis', step: 0, message: 'x', detail: { ...a0b } },
          { seq: 3, at: a0b.at, kind: 'step', step: 1, message: 'step 2', detail: {} },
        ],
      }),
    );
    expect(views.map((v) => v.status)).toEqual(['done', 'current', 'upcoming']);
    expect(views.map((v) => v.analysis?.verdict ?? null)).toEqual(['pass', 'fail', null]);
  });
  it('mark where an aborted rollout stopped and what it skipped', () => {
    expect(stepViews(rollout({ state: 'aborted', step: 1 })).map((v) => v.status)).toEqual(['done', 'stopped', 'skipped']);
    expect(stepViews(rollout({ state: 'succeeded', step: 2 })).map((v) => v.status)).toEqual(['done', 'done', 'done']);
  });
  it('read in words', () => {
    expect(stepLabel(step(10))).toBe('10% to the candidate');
    expect(stepLabel({ kind: 'shadow', weight: 0, shadowPercent: 25, holdSeconds: 60, analyse: true })).toBe('shadow 25% of requests');
    expect(stepLabel({ kind: 'switch', weight: 100, shadowPercent: null, holdSeconds: 60, analyse: true })).toBe('switch to the candidate');
  });
});

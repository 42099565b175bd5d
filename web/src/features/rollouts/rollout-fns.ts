/**
 * What the rollout pages show of a rollout (`RolloutDetail`, src/contracts/rollouts.ts): the
 * actions its state allows, the candidate's live share of traffic, and each step with how it
 * went and the analysis that judged it. Pure.
 */
import type { AnalysisResult, RolloutDetail, RolloutResponse, RolloutState, RolloutStep } from '../../../../src/contracts/rollouts.js';

/** Every state, open ones first (a record, so a state added to the contract fails to compile here). */
const OPEN_STATES: Record<RolloutState, boolean> = { pending: true, running: true, paused: true, succeeded: false, aborted: false, failed: false };
export const ROLLOUT_STATES = Object.keys(OPEN_STATES) as RolloutState[];
export const isOpen = (state: RolloutState): boolean => OPEN_STATES[state];

export type RolloutAction = 'pause' | 'resume' | 'promote' | 'abort';

/** The actions the server accepts in the rollout's state (the rollouts service's transitions). */
export function allowedActions(r: Pick<RolloutResponse, 'state' | 'report'>): RolloutAction[] {
  switch (r.state) {
    case 'pending':
    case 'running':
      return ['pause', 'promote', 'abort'];
    case 'paused':
      // A finished experiment (A/B, shadow) is held for a decision: promote it or abort it.
      return r.report ? ['promote', 'abort'] : ['resume', 'promote', 'abort'];
    default:
      return [];
  }
}

/** The candidate's share of primary traffic now (%): its current step's, all once it succeeded, none once it ended otherwise. */
export function candidateShare(r: Pick<RolloutResponse, 'state' | 'steps' | 'step'>): number {
  if (r.state === 'succeeded') return 100;
  if (r.state === 'aborted' || r.state === 'failed') return 0;
  return r.step >= 0 ? (r.steps[r.step]?.weight ?? 0) : 0;
}

export interface StepView {
  index: number;
  step: RolloutStep;
  /** stopped: the step the rollout was aborted or failed on; skipped: steps after it. */
  status: 'done' | 'current' | 'upcoming' | 'stopped' | 'skipped';
  /** The analysis that judged the step last (for the current step: the latest one). */
  analysis: AnalysisResult | null;
}

const isAnalysis = (d: Record<string, unknown>): d is AnalysisResult & Record<string, unknown> =>
  typeof d.verdict === 'string' && typeof d.candidate === 'object' && d.candidate !== null && Array.isArray(d.checks);

/** Each step and how it went, with its last analysis. */
export function stepViews(r: Pick<RolloutDetail, 'state' | 'steps' | 'step' | 'lastAnalysis' | 'timeline'>): StepView[] {
  const last = new Map<number, AnalysisResult>();
  for (const e of r.timeline) if (e.kind === 'analysis' && e.step !== null && isAnalysis(e.detail)) last.set(e.step, e.detail);
  const open = isOpen(r.state);
  return r.steps.map((step, index) => {
    const status: StepView['status'] =
      index < r.step || r.state === 'succeeded' ? 'done' : index === r.step ? (open ? 'current' : 'stopped') : open ? 'upcoming' : 'skipped';
    const analysis = index === r.step && r.lastAnalysis ? r.lastAnalysis : (last.get(index) ?? null);
    return { index, step, status, analysis };
  });
}

/** A step in words: "10% to the candidate", "switch", "A/B 50%", "shadow 100%". */
export function stepLabel(s: RolloutStep): string {
  switch (s.kind) {
    case 'traffic':
      return `${s.weight}% to the candidate`;
    case 'switch':
      return s.weight === 100 ? 'switch to the candidate' : `preview ${s.weight}%`;
    case 'experiment':
      return `A/B: ${s.weight}% to the candidate`;
    case 'shadow':
      return `shadow ${s.shadowPercent ?? 100}% of requests`;
    case 'move':
      return `move ${s.weight}% of replicas`;
  }
}

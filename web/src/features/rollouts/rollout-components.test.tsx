// @vitest-environment happy-dom
/** The rollout's actions (by permission and state) and its panel, rendered into a detached DOM. */
import { act, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { MemoryRouter } from 'react-router';
import { afterEach, describe, expect, it } from 'vitest';
import type { RolloutDetail, RolloutState } from '../../../../src/contracts/rollouts.js';
import { SessionProvider } from '../../app/session.js';
import { RolloutActions } from './rollout-actions.js';
import { RolloutPanel } from './rollout-panel.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
const mounted: (() => void)[] = [];
afterEach(() => mounted.splice(0).forEach((u) => u()));

function render(node: ReactNode, permissions: string[] = []): HTMLElement {
  const el = document.createElement('div');
  document.body.append(el);
  const root = createRoot(el);
  act(() =>
    root.render(
      <MemoryRouter>
        <SessionProvider token="t" me={{ name: 'n', role: 'r', namespaces: null, permissions }} onSignOut={() => undefined}>
          {node}
        </SessionProvider>
      </MemoryRouter>,
    ),
  );
  mounted.push(() => {
    act(() => root.unmount());
    el.remove();
  });
  return el;
}

const arm = { requests: 40, errors: 4, errorRate: 0.1, clientErrors: 0, p95LatencyMs: 2500, meanLatencyMs: 900, latencySdMs: 300, p95TtftMs: null, tokensPerSecond: null, truncated: false };
const rollout = (state: RolloutState): RolloutDetail => ({
  id: 'ro1', model: 'acme/bot', environment: 'prod', strategy: 'canary', state, reason: state === 'failed' ? 'error-rate 10.0% > 5.0%' : null,
  stable: { version: '1.0.0', deployment: 'dep_a' }, candidate: { version: '2.0.0', deployment: 'dep_b', created: false }, promotion: null, spec: {},
  steps: [10, 100].map((weight) => ({ kind: 'traffic' as const, weight, shadowPercent: null, holdSeconds: 60, analyse: true })),
  step: 0, stepStartedAt: '2026-01-01T00:00:00.000Z',
  lastAnalysis: { verdict: 'fail', reason: 'error-rate 10.0% > 5.0%', checks: [{ name: 'error-rate', status: 'fail', reason: '10.0% > 5.0%' }], candidate: arm, stable: { ...arm, errors: 0, errorRate: 0, p95LatencyMs: 300 }, unhealthyReplicas: 0, since: '2026-01-01T00:00:00.000Z', at: '2026-01-01T00:00:30.000Z' },
  report: null, createdBy: 'dana', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:30.000Z', finishedAt: null,
  timeline: [{ seq: 1, at: '2026-01-01T00:00:00.000Z', kind: 'state', step: null, message: 'started', detail: {} }],
});
/** The buttons on the page (not those of the closed confirmation dialogs). */
const buttons = (el: HTMLElement) => [...el.querySelectorAll(':scope > button')].map((b) => b.textContent!.replace(/[^A-Za-z ]/g, '').trim());

describe('rollout actions', () => {
  it('show what the state allows to a token that may write', () => {
    expect(buttons(render(<RolloutActions rollout={rollout('running')} onDone={() => undefined} />, ['asset:write']))).toEqual(['Pause', 'Promote now', 'Abort']);
    expect(buttons(render(<RolloutActions rollout={rollout('paused')} onDone={() => undefined} />, ['asset:write']))).toEqual(['Resume', 'Promote now', 'Abort']);
    expect(buttons(render(<RolloutActions rollout={rollout('aborted')} onDone={() => undefined} />, ['asset:write']))).toEqual([]);
  });
  it('show nothing to a token that may only read', () => {
    expect(buttons(render(<RolloutActions rollout={rollout('running')} onDone={() => undefined} />, ['asset:read']))).toEqual([]);
  });
});

describe('rollout panel', () => {
  it('draws the live split and the failing analysis with both arms\' evidence', () => {
    const el = render(<RolloutPanel rollout={rollout('running')} />);
    expect(el.querySelector('.split-bar')!.getAttribute('aria-label')).toBe('rollout split: stable 1.0.0 90%, candidate 2.0.0 10%');
    const current = el.querySelector('.rollout-step[data-status="current"]')!;
    expect(current.textContent).toContain('10% to the candidate');
    expect(current.querySelector('.pill-bad')!.textContent).toBe('fail');
    expect([...current.querySelectorAll('.evidence-arm')].map((e) => e.textContent)).toEqual(['Candidate40 req · err 10.0% · p95 2.5 s', 'Stable40 req · err 0.0% · p95 300 ms']);
    expect(el.querySelector('.timeline')!.textContent).toContain('started');
  });
  it('shows why a rollout ended, and nothing left for the candidate', () => {
    const el = render(<RolloutPanel rollout={rollout('failed')} />);
    expect(el.querySelector('.banner-bad')!.textContent).toBe('error-rate 10.0% > 5.0%');
    expect(el.querySelector('.split-bar')!.getAttribute('aria-label')).toBe('rollout split: stable 1.0.0 100%, candidate 2.0.0 0%');
    expect([...el.querySelectorAll('.rollout-step')].map((s) => s.getAttribute('data-status'))).toEqual(['stopped', 'skipped']);
  });
});

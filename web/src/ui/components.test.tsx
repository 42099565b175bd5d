// @vitest-environment happy-dom
/** Components with logic of their own, rendered into a detached DOM: charts, the traffic bar, permission-aware sessions. */
import { act, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { MemoryRouter } from 'react-router';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionProvider, useSession } from '../app/session.js';
import { TrafficSplit } from '../features/deployments/traffic-split.js';
import { IntervalChart, scaleMax } from './interval-chart.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
const mounted: (() => void)[] = [];
afterEach(() => mounted.splice(0).forEach((u) => u()));

function render(node: ReactNode): HTMLElement {
  const el = document.createElement('div');
  document.body.append(el);
  const root = createRoot(el);
  act(() => root.render(<MemoryRouter>{node}</MemoryRouter>));
  mounted.push(() => {
    act(() => root.unmount());
    el.remove();
  });
  return el;
}

describe('interval chart', () => {
  it('draws each value with its interval on the metric\'s own scale', () => {
    const el = render(
      <IntervalChart
        data={[
          { label: 'exact_match', value: 0.8, low: 0.6, high: 0.9 },
          { label: 'latency_p95', value: 50, low: null, high: null, unit: 'ms' },
        ]}
      />,
    );
    const rows = el.querySelectorAll('.ichart-row');
    expect(rows).toHaveLength(2);
    expect((rows[0]!.querySelector('.ibar-fill') as HTMLElement).style.width).toBe('80%');
    const whisker = rows[0]!.querySelector('.ibar-whisker') as HTMLElement;
    expect(whisker.style.left).toBe('60%');
    expect(rows[0]!.textContent).toContain('0.800 [0.600, 0.900]');
    expect(rows[1]!.querySelector('.ibar-whisker')).toBeNull();
    expect(rows[1]!.textContent).toContain('50.0 ms');
  });
  it('scales unitless scores to 1 and other units past their largest figure', () => {
    expect(scaleMax({ label: 'f1', value: 0.4, low: 0.2, high: 0.5 })).toBe(1);
    expect(scaleMax({ label: 'p95', value: 100, low: 80, high: 200, unit: 'ms' })).toBeCloseTo(220);
    expect(scaleMax({ label: 'x', value: null, low: null, high: null })).toBe(1);
  });
});

describe('traffic split bar', () => {
  it('shows each arm\'s share and the shadow copy', () => {
    const el = render(
      <TrafficSplit
        traffic={{ model: 'm', environment: 'production', arms: [{ deployment: 'stable', weight: 9 }, { deployment: 'canary', weight: 1 }], sticky: 'key', shadow: { deployment: 'shadow', percent: 5 }, fallbacks: [], updatedAt: '', updatedBy: '' }}
        current="stable"
        label={(id) => id}
      />,
    );
    expect(el.querySelector('[role="img"]')!.getAttribute('aria-label')).toBe('stable 90%, canary 10%');
    expect(el.textContent).toContain('shadow → shadow · 5% mirrored');
    expect(el.textContent).toContain('sticky by key');
  });
  it('without a split, all traffic goes to the one deployment', () => {
    const el = render(<TrafficSplit traffic={null} current="only" label={(id) => id} />);
    expect(el.querySelector('[role="img"]')!.getAttribute('aria-label')).toBe('only 100%');
  });
});

describe('session permissions', () => {
  function Buttons() {
    const { can } = useSession();
    return (
      <>
        {can((t) => t.promotions.approvePromotion) ? <button>Approve</button> : null}
        {can((t) => t.deployments.stopDeployment) ? <button>Stop</button> : null}
        {can('audit:read') ? <a href="/audit">Audit</a> : null}
      </>
    );
  }
  const as = (permissions: string[]) =>
    render(
      <SessionProvider token="t" me={{ name: 'n', role: 'r', namespaces: null, permissions }} onSignOut={() => undefined}>
        <Buttons />
      </SessionProvider>,
    );
  it('a viewer gets no action button; an approver approves and reads audit; a developer stops', () => {
    expect(as(['authenticated', 'asset:read']).querySelectorAll('button, a')).toHaveLength(0);
    expect(as(['authenticated', 'asset:read', 'audit:read', 'promotion:approve']).textContent).toBe('ApproveAudit');
    expect(as(['authenticated', 'asset:read', 'asset:write']).textContent).toBe('Stop');
  });
});

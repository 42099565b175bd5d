import { describe, expect, it } from 'vitest';
import { budgetRemaining, burnRate, evaluateBurn, parseCriterion, sli, type Counts } from './monitoring-slo-fns.js';

describe('SLO arithmetic', () => {
  it('computes SLI, burn rate and budget as the SRE workbook defines them', () => {
    // 99.9 % objective: 0.1 % may fail. 1 % failing burns 10× the sustainable rate.
    expect(sli({ valid: 1000, bad: 10 })).toBeCloseTo(0.99);
    expect(burnRate({ valid: 1000, bad: 10 }, 0.999)).toBeCloseTo(10);
    expect(burnRate({ valid: 1000, bad: 1 }, 0.999)).toBeCloseTo(1);
    // Half the allowed failures spent: half the budget left; twice: -1 (overspent).
    expect(budgetRemaining({ valid: 10_000, bad: 5 }, 0.999)).toBeCloseTo(0.5);
    expect(budgetRemaining({ valid: 10_000, bad: 20 }, 0.999)).toBeCloseTo(-1);
    expect(sli({ valid: 0, bad: 0 })).toBeNull();
    expect(burnRate({ valid: 0, bad: 0 }, 0.99)).toBeNull();
  });

  it('fires a page only when both windows of a rule burn faster than its factor', () => {
    const of = (m: Record<string, Counts>) => (w: string) => m[w] ?? { valid: 1000, bad: 0 };
    // 2 % errors against 99.9 %: burn 20 in 1h and 5m → page (14.4×).
    const fast = evaluateBurn(of({ '1h': { valid: 1000, bad: 20 }, '5m': { valid: 100, bad: 2 } }), 0.999);
    expect(fast.alert).toBe('page');
    expect(fast.burnRates[0]).toMatchObject({ long: '1h', short: '5m', factor: 14.4, longBurn: 20, shortBurn: 20, firing: true });
    // The burning stopped: the 5m window is clean, the page resolves though the hour still burned.
    expect(evaluateBurn(of({ '1h': { valid: 1000, bad: 20 }, '5m': { valid: 100, bad: 0 } }), 0.999).alert).toBeNull();
    // 0.2 % errors over 3d and 6h: burn 2 → ticket, not a page.
    const slow = evaluateBurn(of({ '3d': { valid: 100_000, bad: 200 }, '6h': { valid: 10_000, bad: 20 }, '1h': { valid: 1000, bad: 2 }, '5m': { valid: 100, bad: 0 }, '30m': { valid: 500, bad: 1 } }), 0.999);
    expect(slow.alert).toBe('ticket');
    // No traffic: nothing fires.
    expect(evaluateBurn(() => ({ valid: 0, bad: 0 }), 0.999).alert).toBeNull();
  });

  it('parses live criteria and names the syntax for anything else', () => {
    expect(parseCriterion('slo-met:6h')).toMatchObject({ kind: 'slo-met', seconds: 21_600 });
    expect(parseCriterion('error-rate < 0.05 : 1h')).toMatchObject({ kind: 'error-rate', below: 0.05, seconds: 3600 });
    expect(parseCriterion('p95<2000:30m')).toMatchObject({ kind: 'p95', below: 2000, seconds: 1800 });
    expect(parseCriterion('ttft-p95<500:1h')).toMatchObject({ kind: 'ttft-p95', below: 500 });
    expect(parseCriterion('min-requests:50')).toMatchObject({ kind: 'min-requests', count: 50 });
    expect(parseCriterion('error_rate < 0.05')).toMatchObject({ kind: 'error-rate', below: 0.05, seconds: 3600 });
    expect(parseCriterion('error_rate > 0.05')).toMatch(/not one of slo-met:6h/);
    expect(parseCriterion('slo-met')).toMatch(/not one of/);
  });
});

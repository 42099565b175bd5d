/**
 * Pure rules of service-level objectives: the SLI and error budget of a window, burn rates, and
 * multi-window, multi-burn-rate alerting as the Google SRE workbook ("Alerting on SLOs") sets it
 * out: an alert fires when the budget burns faster than a factor over a long window AND over a
 * short one (the short window makes it resolve soon after the burning stops).
 */
import { durationSeconds, type AlertSeverity, type BurnRate } from '../../contracts/monitoring.js';

export interface BurnRule {
  severity: AlertSeverity;
  long: string;
  short: string;
  /** Times the sustainable burn rate: 14.4 over 1 h spends 2 % of a 30-day budget. */
  factor: number;
}
export const BURN_RULES: readonly BurnRule[] = [
  { severity: 'page', long: '1h', short: '5m', factor: 14.4 },
  { severity: 'page', long: '6h', short: '30m', factor: 6 },
  { severity: 'ticket', long: '3d', short: '6h', factor: 1 },
];
/** Every window the rules read, in seconds, by its duration text. */
export const BURN_WINDOWS: ReadonlyMap<string, number> = new Map(BURN_RULES.flatMap((r) => [r.long, r.short]).map((w) => [w, durationSeconds(w)!]));

export interface Counts {
  valid: number;
  bad: number;
}

/** Good / valid; null without traffic. */
export function sli(c: Counts): number | null {
  return c.valid > 0 ? (c.valid - c.bad) / c.valid : null;
}

/** How fast the budget burns: the bad share over the allowed bad share (1 spends it exactly over the SLO window). */
export function burnRate(c: Counts, objective: number): number | null {
  return c.valid > 0 ? c.bad / c.valid / (1 - objective) : null;
}

/** 1 − spent share of the budget over the SLO window; below 0 when overspent, null without traffic. */
export function budgetRemaining(c: Counts, objective: number): number | null {
  const b = burnRate(c, objective);
  return b === null ? null : 1 - b;
}

/** Each rule's burn rates over its windows and whether it fires; the alert is the most severe firing rule's. */
export function evaluateBurn(countsBy: (window: string) => Counts, objective: number): { burnRates: BurnRate[]; alert: AlertSeverity | null } {
  const round = (n: number | null) => (n === null ? null : Number(n.toFixed(4)));
  const burnRates = BURN_RULES.map((r) => {
    const longBurn = burnRate(countsBy(r.long), objective);
    const shortBurn = burnRate(countsBy(r.short), objective);
    const firing = longBurn !== null && shortBurn !== null && longBurn > r.factor && shortBurn > r.factor;
    return { long: r.long, short: r.short, factor: r.factor, longBurn: round(longBurn), shortBurn: round(shortBurn), firing };
  });
  const fired = BURN_RULES.filter((_, i) => burnRates[i]!.firing).map((r) => r.severity);
  return { burnRates, alert: fired.includes('page') ? 'page' : fired.includes('ticket') ? 'ticket' : null };
}

const DEFAULT_WINDOW = '1h';

/** A live criterion of a promotion policy, parsed. */
export type Criterion =
  | { kind: 'slo-met'; seconds: number; text: string }
  | { kind: 'error-rate' | 'p95' | 'ttft-p95'; below: number; seconds: number; text: string }
  | { kind: 'min-requests'; count: number; text: string };

/**
 * `slo-met:6h` (every SLO of the model in the source environment met over the last 6 h),
 * `error-rate<0.05:1h`, `p95<2000:1h` (latency, ms), `ttft-p95<500:1h`, `min-requests:100`
 * (fewer requests in a window: inconclusive). The window defaults to 1h; `error_rate < 0.05` is
 * read as `error-rate<0.05:1h`. A message naming the syntax when it is none of these.
 */
export function parseCriterion(text: string): Criterion | string {
  const t = text.replace(/\s+/g, '');
  let m = /^slo-met:(\d{1,6}[smhdw])$/.exec(t);
  if (m) return { kind: 'slo-met', seconds: durationSeconds(m[1]!)!, text };
  m = /^(error[-_]rate|p95|ttft[-_]p95)<(\d+(?:\.\d+)?)(?::(\d{1,6}[smhdw]))?$/.exec(t);
  if (m) return { kind: m[1]!.replace('_', '-') as 'p95', below: Number(m[2]), seconds: durationSeconds(m[3] ?? DEFAULT_WINDOW)!, text };
  m = /^min-requests:(\d{1,9})$/.exec(t);
  if (m) return { kind: 'min-requests', count: Number(m[1]), text };
  return `live criterion ${JSON.stringify(text)} is not one of slo-met:6h, error-rate<0.05:1h, p95<2000:1h, ttft-p95<500:1h, min-requests:100`;
}

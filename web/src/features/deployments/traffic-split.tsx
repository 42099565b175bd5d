/** The live traffic split of a model in an environment as one bar: each arm's share, the shadow copy beside it. */
import { Link } from 'react-router';
import type { TrafficResponse } from '../../../../src/contracts/gateway.js';
import type { z } from 'zod';
import { paths } from '../../app/paths.js';

export const ARM_COLORS = ['#4f46e5', '#f79009', '#12b76a', '#ee46bc', '#0ba5ec', '#875bf7'];

export interface Arm {
  deployment: string;
  weight: number;
}

/** Each arm's share in percent, rounded so they add up to 100. */
export function shares(arms: Arm[]): number[] {
  const total = arms.reduce((s, a) => s + a.weight, 0);
  if (total === 0) return arms.map(() => 0);
  const exact = arms.map((a) => (a.weight / total) * 100);
  const floor = exact.map(Math.floor);
  let left = 100 - floor.reduce((s, v) => s + v, 0);
  const order = exact.map((v, i) => [v - Math.floor(v), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) {
    if (left <= 0) break;
    floor[i]!++;
    left--;
  }
  return floor;
}

export function TrafficSplit({ traffic, current, label }: { traffic: z.infer<typeof TrafficResponse> | null; current: string; label: (id: string) => string }) {
  const arms: Arm[] = traffic ? traffic.arms : [{ deployment: current, weight: 1 }];
  const pct = shares(arms);
  return (
    <div className="stack" style={{ gap: 10 }}>
      <div className="split-bar" role="img" aria-label={arms.map((a, i) => `${label(a.deployment)} ${pct[i]}%`).join(', ')}>
        {arms.map((a, i) => (
          <div key={a.deployment} style={{ width: `${pct[i]}%`, background: ARM_COLORS[i % ARM_COLORS.length] }}>
            {pct[i]! >= 12 ? `${pct[i]}%` : ''}
          </div>
        ))}
      </div>
      <div className="legend">
        {arms.map((a, i) => (
          <span key={a.deployment}>
            <i style={{ background: ARM_COLORS[i % ARM_COLORS.length] }} />
            {a.deployment === current ? <strong>{label(a.deployment)}</strong> : <Link to={paths.deployment(a.deployment)}>{label(a.deployment)}</Link>} · {pct[i]}%
          </span>
        ))}
        {traffic?.shadow ? (
          <span>
            shadow → <Link to={paths.deployment(traffic.shadow.deployment)}>{label(traffic.shadow.deployment)}</Link> · {traffic.shadow.percent}% mirrored
          </span>
        ) : null}
        {traffic && traffic.sticky !== 'none' ? <span>sticky by {traffic.sticky}</span> : null}
        {!traffic ? <span className="muted">No split configured: all traffic goes to this deployment.</span> : null}
      </div>
    </div>
  );
}

/**
 * Metric values with their 95% intervals as horizontal bars with whiskers (SVG, no library):
 * one row per metric, each on its own scale (0–1 for unitless scores, else 0 to the largest
 * value or interval end), so a latency and an accuracy can sit in one chart.
 */
import { formatMetric } from './format.js';

export interface IntervalDatum {
  label: string;
  value: number | null;
  low: number | null;
  high: number | null;
  unit?: string;
  /** A second series drawn under the first (e.g. the other run of a comparison). */
  compare?: { value: number | null; low: number | null; high: number | null };
}

const ROW = 34;
const LABEL_W = 170;
const VALUE_W = 120;

export function scaleMax(d: IntervalDatum): number {
  const unitless = !d.unit || d.unit === 'score' || d.unit === 'ratio';
  const candidates = [d.value, d.high, d.compare?.value, d.compare?.high].filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const top = Math.max(0, ...candidates);
  return unitless && top <= 1 ? 1 : top === 0 ? 1 : top * 1.1;
}

export function IntervalChart({ data, width = 640, colors = ['#4f46e5', '#94a3b8'] }: { data: IntervalDatum[]; width?: number; colors?: [string, string] }) {
  const plotW = width - LABEL_W - VALUE_W;
  const h = data.length * ROW + 8;
  return (
    <svg className="chart" viewBox={`0 0 ${width} ${h}`} role="img" aria-label="Metrics with 95% intervals">
      {data.map((d, i) => {
        const max = scaleMax(d);
        const x = (v: number) => LABEL_W + (Math.max(0, Math.min(v, max)) / max) * plotW;
        const y = i * ROW + 6;
        const bar = (s: { value: number | null; low: number | null; high: number | null }, yy: number, hh: number, color: string) =>
          s.value === null ? null : (
            <g>
              <rect x={LABEL_W} y={yy} width={Math.max(1, x(s.value) - LABEL_W)} height={hh} rx={3} fill={color} opacity={0.85} />
              {s.low !== null && s.high !== null ? (
                <g stroke="#101828" strokeWidth={1.3}>
                  <line x1={x(s.low)} x2={x(s.high)} y1={yy + hh / 2} y2={yy + hh / 2} />
                  <line x1={x(s.low)} x2={x(s.low)} y1={yy + 2} y2={yy + hh - 2} />
                  <line x1={x(s.high)} x2={x(s.high)} y1={yy + 2} y2={yy + hh - 2} />
                </g>
              ) : null}
            </g>
          );
        return (
          <g key={d.label}>
            <text x={0} y={y + 15} style={{ fill: '#344054', fontSize: 12 }}>
              {d.label.length > 24 ? `${d.label.slice(0, 23)}…` : d.label}
            </text>
            <rect x={LABEL_W} y={y} width={plotW} height={22} rx={3} fill="#f2f4f7" />
            {d.compare ? (
              <>
                {bar(d.compare, y, 10, colors[1])}
                {bar(d, y + 12, 10, colors[0])}
              </>
            ) : (
              bar(d, y + 3, 16, colors[0])
            )}
            <text x={width - VALUE_W + 10} y={y + 15} style={{ fill: '#101828', fontSize: 12, fontWeight: 600 }}>
              {formatMetric(d.value, d.unit)}
              {d.low !== null && d.high !== null ? <tspan style={{ fill: '#667085', fontWeight: 400 }}>{` [${formatMetric(d.low)}, ${formatMetric(d.high)}]`}</tspan> : null}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

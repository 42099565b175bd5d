/**
 * Metric values with their 95% intervals as horizontal bars with whiskers (HTML and CSS, so
 * text stays crisp at any width): one row per metric, each on its own scale (0–1 for unitless
 * scores, else 0 to a little past the largest value or interval end), so a latency and an
 * accuracy sit in one chart. A second series (the other run of a comparison) is drawn above.
 */
import { formatMetric } from './format.js';

export interface Interval {
  value: number | null;
  low: number | null;
  high: number | null;
}

export interface IntervalDatum extends Interval {
  label: string;
  unit?: string;
  compare?: Interval;
}

export function scaleMax(d: IntervalDatum): number {
  const unitless = !d.unit || d.unit === 'score' || d.unit === 'ratio';
  const candidates = [d.value, d.high, d.compare?.value, d.compare?.high].filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const top = Math.max(0, ...candidates);
  return unitless && top <= 1 ? 1 : top === 0 ? 1 : top * 1.1;
}

const pct = (v: number, max: number) => `${(Math.max(0, Math.min(v, max)) / max) * 100}%`;

function Bar({ s, max, series }: { s: Interval; max: number; series: 'main' | 'compare' }) {
  if (s.value === null) return null;
  return (
    <div className={`ibar ibar-${series}`}>
      <div className="ibar-fill" style={{ width: pct(s.value, max) }} />
      {s.low !== null && s.high !== null ? <div className="ibar-whisker" style={{ left: pct(s.low, max), width: `calc(${pct(s.high, max)} - ${pct(s.low, max)})` }} /> : null}
    </div>
  );
}

export function IntervalChart({ data }: { data: IntervalDatum[] }) {
  return (
    <div className="ichart" role="img" aria-label="Metrics with 95% intervals">
      {data.map((d) => {
        const max = scaleMax(d);
        return (
          <div key={d.label} className="ichart-row">
            <div className="ichart-label" title={d.label}>
              {d.label}
            </div>
            <div className="ichart-track">
              {d.compare ? <Bar s={d.compare} max={max} series="compare" /> : null}
              <Bar s={d} max={max} series="main" />
            </div>
            <div className="ichart-value">
              <strong>{formatMetric(d.value, d.unit)}</strong>
              {d.low !== null && d.high !== null ? <span className="muted">{` [${formatMetric(d.low)}, ${formatMetric(d.high)}]`}</span> : null}
            </div>
          </div>
        );
      })}
    </div>
  );
}

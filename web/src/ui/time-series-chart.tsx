/**
 * A time-series line chart (uPlot: small and fast), several series on the same axes — e.g. the
 * canary and the stable deployment. It keeps its height while empty, so nothing moves when data
 * arrives, and follows its container's width.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  color: string;
  /** [unix seconds, value | null] */
  points: [number, number | null][];
}

/** Aligns series on the union of their timestamps (uPlot's data layout: x, then one array per series). */
export function alignSeries(series: Series[]): uPlot.AlignedData {
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = series.map((s) => {
    const col: (number | null)[] = new Array(xs.length).fill(null);
    for (const [t, v] of s.points) col[index.get(t)!] = v;
    return col;
  });
  return [xs, ...ys] as uPlot.AlignedData;
}

/**
 * `yMax`: the least top of the y axis (figures here are never negative, so it starts at 0; an
 * hour of zeros still gets a readable axis). A series with few measured points shows them as dots.
 */
/** Dots a series' points when it has so few measured ones that its lines would hardly show. */
const sparse = (u: uPlot, si: number): boolean => (u.data[si] ?? []).filter((v) => v !== null && v !== undefined).length <= 12;

export function TimeSeriesChart({ series, height = 200, format = (v) => String(v), yMax = 1 }: { series: Series[]; height?: number; format?: (v: number) => string; yMax?: number }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const key = series.map((s) => s.label).join('|');

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(yMax, max * 1.1)] } },
      axes: [
        { stroke: '#667085', grid: { stroke: '#f2f4f7' }, ticks: { stroke: '#e4e7ec' } },
        { stroke: '#667085', grid: { stroke: '#f2f4f7' }, ticks: { stroke: '#e4e7ec' }, size: 64, values: (_u, vals) => vals.map((v) => format(v)) },
      ],
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, points: { show: sparse }, value: (_u: uPlot, v: number | null) => (v === null ? '—' : format(v)) }))],
    };
    plot.current = new uPlot(opts, alignSeries(series), el);
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // Rebuilt when the set of series changes; new points go through setData below.
  }, [key, height, yMax]);

  useEffect(() => {
    plot.current?.setData(alignSeries(series));
  }, [series]);

  const points = series.reduce((n, s) => Math.max(n, s.points.length), 0);
  return (
    <div>
      <div ref={box} className="chart-frame" data-points={points} style={{ minHeight: height }} />
      <div className="chart-legend">
        {series.map((s) => (
          <span key={s.label}>
            <i style={{ background: s.color }} />
            {s.label}
          </span>
        ))}
      </div>
    </div>
  );
}

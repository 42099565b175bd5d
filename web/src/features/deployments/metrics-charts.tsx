/**
 * Live charts of a deployment — requests, error rate, p50/p95 latency, time to first token and
 * tokens per second — with every arm of the traffic split (canary and stable, one series per
 * version) on the same axes. Reads the monitoring API (`GET /api/v1/metrics`, one query per arm
 * by deployment, minute buckets over the last hour).
 */
import { useApi } from '../../app/use-api.js';
import { formatMs, formatPercent } from '../../ui/format.js';
import { Card } from '../../ui/layout.js';
import { Empty, ErrorBox, Skeleton } from '../../ui/states.js';
import { TimeSeriesChart, type Series } from '../../ui/time-series-chart.js';
import type { MetricsResponse } from '../../../../src/contracts/monitoring.js';
import { figureSeries, hasTraffic, type Figure } from './metrics-fns.js';
import { ARM_COLORS } from './traffic-split.js';

const CHARTS: { title: string; figures: [Figure, string][]; format: (v: number) => string; yMax?: number }[] = [
  { title: 'Requests', figures: [['requests', '']], format: (v) => String(Math.round(v)) },
  { title: 'Error rate', figures: [['errorRate', '']], format: (v) => formatPercent(v), yMax: 0.05 },
  { title: 'Latency', figures: [['latencyP50Ms', ' p50'], ['latencyP95Ms', ' p95']], format: formatMs, yMax: 100 },
  { title: 'Time to first token', figures: [['ttftP50Ms', ' p50'], ['ttftP95Ms', ' p95']], format: formatMs, yMax: 100 },
  { title: 'Tokens per second', figures: [['tokensPerSecond', '']], format: (v) => v.toFixed(1) },
];

const WINDOW = '1h';

export function MetricsCharts({ model, environment, arms, label }: { model: string; environment: string; arms: string[]; label: (id: string) => string }) {
  const data = useApi(
    async (c) => {
      const bodies = await Promise.all(
        arms.map(async (deployment) => [deployment, await c.api((t) => t.monitoring.metrics)({ query: { model, environment, deployment, since: WINDOW, step: '1m' } })] as [string, MetricsResponse]),
      );
      return new Map(bodies);
    },
    [model, environment, arms.join(',')],
    { pollMs: 10_000 },
  );
  return (
    <Card title="Traffic and latency" actions={<span className="muted">last hour · refreshed every 10 s</span>}>
      {data.error && !data.data ? (
        <ErrorBox error={data.error} onRetry={data.reload} />
      ) : !data.data ? (
        <Skeleton rows={2} height={220} />
      ) : !hasTraffic([...data.data.values()]) ? (
        <Empty title="No requests in the last hour">Send traffic through the gateway at <code>/v1/chat/completions</code>.</Empty>
      ) : (
        <div className="stack">
        <table className="table arm-totals">
          <thead>
            <tr>
              <th>Last hour</th>
              <th className="num">Requests</th>
              <th className="num">Error rate</th>
              <th className="num">p50</th>
              <th className="num">p95</th>
              <th className="num">TTFT p95</th>
              <th className="num">Tokens/s</th>
            </tr>
          </thead>
          <tbody>
            {arms.map((arm, i) => {
              const t = data.data!.get(arm)?.totals;
              return t ? (
                <tr key={arm} data-arm={arm}>
                  <td>
                    <i className="swatch" style={{ background: ARM_COLORS[i % ARM_COLORS.length] }} />
                    {label(arm)}
                  </td>
                  <td className="num" data-figure="requests">{t.requests}</td>
                  <td className="num">{formatPercent(t.errorRate)}</td>
                  <td className="num">{formatMs(t.latencyMs.p50)}</td>
                  <td className="num">{formatMs(t.latencyMs.p95)}</td>
                  <td className="num">{formatMs(t.ttftMs.p95)}</td>
                  <td className="num">{t.requests ? t.tokensPerSecond.toFixed(1) : '—'}</td>
                </tr>
              ) : null;
            })}
          </tbody>
        </table>
        <div className="grid-2">
          {CHARTS.map((chart) => {
            const series: Series[] = arms.flatMap((arm, i) =>
              chart.figures.map(([fig, suffix], j) => ({
                label: `${label(arm)}${suffix}`,
                color: j === 0 ? ARM_COLORS[i % ARM_COLORS.length]! : `${ARM_COLORS[i % ARM_COLORS.length]!}88`,
                points: data.data!.has(arm) ? figureSeries(data.data!.get(arm)!, fig) : [],
              })),
            );
            return (
              <div key={chart.title}>
                <h3 style={{ fontSize: 13, margin: '0 0 6px' }}>{chart.title}</h3>
                <TimeSeriesChart series={series} format={chart.format} height={180} yMax={chart.yMax ?? 1} />
              </div>
            );
          })}
        </div>
        </div>
      )}
    </Card>
  );
}

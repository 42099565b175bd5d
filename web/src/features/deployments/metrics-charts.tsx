/**
 * Live charts of a deployment — requests, error rate, p50/p95 latency, time to first token and
 * tokens per second — with every arm of the traffic split (canary and stable) on the same axes.
 * Reads the monitoring API; where the server has none (404) it says so instead of drawing.
 */
import { StewardApiError } from '../../../../src/sdk/client.js';
import { useApi } from '../../app/use-api.js';
import { formatMs, formatPercent } from '../../ui/format.js';
import { Card } from '../../ui/layout.js';
import { Empty, ErrorBox, Skeleton } from '../../ui/states.js';
import { TimeSeriesChart, type Series } from '../../ui/time-series-chart.js';
import { figureSeries, pointsOf, type Figure, type MetricPoint } from './metrics-fns.js';
import { ARM_COLORS } from './traffic-split.js';

const CHARTS: { title: string; figures: [Figure, string][]; format: (v: number) => string }[] = [
  { title: 'Requests', figures: [['requests', '']], format: (v) => String(Math.round(v)) },
  { title: 'Error rate', figures: [['errorRate', '']], format: (v) => formatPercent(v) },
  { title: 'Latency', figures: [['latencyP50Ms', ' p50'], ['latencyP95Ms', ' p95']], format: formatMs },
  { title: 'Time to first token', figures: [['ttftP50Ms', ' p50'], ['ttftP95Ms', ' p95']], format: formatMs },
  { title: 'Tokens per second', figures: [['tokensPerSecond', '']], format: (v) => v.toFixed(1) },
];

const WINDOW_S = 3600;

export function MetricsCharts({ model, environment, arms, label }: { model: string; environment: string; arms: string[]; label: (id: string) => string }) {
  const data = useApi(
    async (c) => {
      const since = new Date(Date.now() - WINDOW_S * 1000).toISOString();
      const bodies = await Promise.all(
        arms.map(async (deployment) => {
          const res = await c.raw('GET', '/api/v1/metrics', { query: { model, environment, deployment, since, step: '60s' } });
          return [deployment, pointsOf(await res.json())] as [string, MetricPoint[]];
        }),
      );
      return new Map(bodies);
    },
    [model, environment, arms.join(',')],
    { pollMs: 10_000 },
  );
  const missing = data.error instanceof StewardApiError && data.error.status === 404;
  return (
    <Card title="Traffic and latency" actions={<span className="muted">last hour · refreshed every 10 s</span>}>
      {missing ? (
        <Empty title="No monitoring data" icon="📈">
          This server does not collect request metrics yet.
        </Empty>
      ) : data.error && !data.data ? (
        <ErrorBox error={data.error} onRetry={data.reload} />
      ) : !data.data ? (
        <Skeleton rows={2} height={220} />
      ) : [...data.data.values()].every((p) => p.length === 0) ? (
        <Empty title="No requests in the last hour">Send traffic through the gateway at <code>/v1/chat/completions</code>.</Empty>
      ) : (
        <div className="grid-2">
          {CHARTS.map((chart) => {
            const series: Series[] = arms.flatMap((arm, i) =>
              chart.figures.map(([fig, suffix], j) => ({
                label: `${label(arm)}${suffix}`,
                color: j === 0 ? ARM_COLORS[i % ARM_COLORS.length]! : `${ARM_COLORS[i % ARM_COLORS.length]!}88`,
                points: figureSeries(data.data!.get(arm) ?? [], fig),
              })),
            );
            return (
              <div key={chart.title}>
                <h3 style={{ fontSize: 13, margin: '0 0 6px' }}>{chart.title}</h3>
                <TimeSeriesChart series={series} format={chart.format} height={180} />
              </div>
            );
          })}
        </div>
      )}
    </Card>
  );
}

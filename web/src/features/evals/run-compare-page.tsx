/** Two runs compared: each metric's delta with its paired interval and verdict, and the cases that flipped. */
import { Link, useSearchParams } from 'react-router';
import { paths } from '../../app/paths.js';
import { useApi } from '../../app/use-api.js';
import { formatDelta, formatMetric } from '../../ui/format.js';
import { IntervalChart } from '../../ui/interval-chart.js';
import { Card, PageHeader } from '../../ui/layout.js';
import { Pill } from '../../ui/pill.js';
import { Empty, Loadable } from '../../ui/states.js';

export default function RunComparePage() {
  const [params] = useSearchParams();
  const a = params.get('a') ?? '';
  const b = params.get('b') ?? '';
  const cmp = useApi((c) => c.api((t) => t.evals.compareRuns)({ query: { a, b } }), [a, b], { enabled: Boolean(a && b) });
  return (
    <>
      <PageHeader crumbs={[{ to: '/evals', label: 'Evaluations' }]} title="Compare runs" subtitle={cmp.data ? `${cmp.data.commonCases} cases in common` : '\u00a0'} />
      {!a || !b ? (
        <Empty title="Pick two runs">Tick two runs in the list of evaluations.</Empty>
      ) : (
        <Loadable state={cmp} rows={6} height={44}>
          {(d) => (
            <div className="stack">
              <div className="grid-2">
                {(['a', 'b'] as const).map((k) => (
                  <Card key={k} title={<Link to={paths.run(d[k].id)}>{`${k.toUpperCase()}: run ${d[k].id.slice(0, 10)}`}</Link>}>
                    {`${d[k].model.name}:${d[k].model.version}`} on {`${d[k].suite.name}:${d[k].suite.version}`}
                  </Card>
                ))}
              </div>
              <Card title="Metrics" actions={<span className="muted">Δ = B − A on common cases, with its paired 95% interval</span>}>
                <table className="table">
                  <thead>
                    <tr>
                      <th>Metric</th>
                      <th className="num">A</th>
                      <th className="num">B</th>
                      <th className="num">Δ</th>
                      <th className="num">Interval</th>
                      <th>Verdict</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.metrics.map((m) => (
                      <tr key={m.id}>
                        <td>{m.id}</td>
                        <td className="num">{formatMetric(m.a)}</td>
                        <td className="num">{formatMetric(m.b)}</td>
                        <td className={`num ${m.verdict === 'better' ? 'delta-good' : m.verdict === 'worse' ? 'delta-bad' : ''}`}>{formatDelta(m.delta)}</td>
                        <td className="num">{m.low === null || m.high === null ? '—' : `[${formatDelta(m.low)}, ${formatDelta(m.high)}]`}</td>
                        <td>
                          <Pill state={m.verdict === 'better' ? 'better' : m.verdict === 'worse' ? 'worse' : 'cancelled'} label={m.verdict} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                <div className="legend" style={{ marginTop: 14 }}>
                  <span>
                    <i style={{ background: '#94a3b8' }} />A
                  </span>
                  <span>
                    <i style={{ background: '#4f46e5' }} />B
                  </span>
                </div>
                <IntervalChart
                  data={d.metrics.map((m) => {
                    const sa = d.a.summary?.metrics.find((x) => x.id === m.id);
                    const sb = d.b.summary?.metrics.find((x) => x.id === m.id);
                    return { label: m.id, value: m.b, low: sb?.low ?? null, high: sb?.high ?? null, unit: sb?.unit ?? '', compare: { value: m.a, low: sa?.low ?? null, high: sa?.high ?? null } };
                  })}
                />
              </Card>
              <Card title="Flipped cases" actions={d.flippedTruncated ? <span className="muted">first ones only</span> : null}>
                {d.flipped.length === 0 ? (
                  <Empty title="No case flipped" />
                ) : (
                  <table className="table">
                    <thead>
                      <tr>
                        <th>Case</th>
                        <th>Metric</th>
                        <th className="num">A</th>
                        <th className="num">B</th>
                        <th>Direction</th>
                      </tr>
                    </thead>
                    <tbody>
                      {d.flipped.map((f) => (
                        <tr key={`${f.caseId}:${f.metric}`}>
                          <td className="mono">{f.caseId}</td>
                          <td>{f.metric}</td>
                          <td className="num">{formatMetric(f.a)}</td>
                          <td className="num">{formatMetric(f.b)}</td>
                          <td>
                            <Pill state={f.direction} />
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </Card>
            </div>
          )}
        </Loadable>
      )}
    </>
  );
}

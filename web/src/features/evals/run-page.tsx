/** One evaluation run: progress, scores with intervals, thresholds, and per-case results (failures only, if asked). */
import { useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { paths } from '../../app/paths.js';
import { useApi } from '../../app/use-api.js';
import { formatDate, formatMetric, formatMs, formatPercent, timeAgo } from '../../ui/format.js';
import { IntervalChart } from '../../ui/interval-chart.js';
import { Card, PageHeader, Stat } from '../../ui/layout.js';
import { Pill } from '../../ui/pill.js';
import { Empty, ErrorBox, Loadable, Skeleton } from '../../ui/states.js';
import { Progress } from './runs-page.js';

export default function RunPage() {
  const id = useParams().id!;
  const [params, setParams] = useSearchParams();
  const failedOnly = params.get('failed') === 'true';
  const run = useApi((c) => c.api((t) => t.evals.getRun)({ params: { id } }), [id], { pollMs: 2000 });
  const live = run.data ? run.data.state === 'queued' || run.data.state === 'running' : true;
  const [limit, setLimit] = useState(100);
  const results = useApi((c) => c.api((t) => t.evals.listResults)({ params: { id }, query: { ...(failedOnly ? { failed: 'true' as const } : {}), limit } }), [id, failedOnly, limit, live ? run.data?.done : -1], { keep: true });
  const r = run.data;
  return (
    <>
      <PageHeader
        crumbs={[{ to: '/evals', label: 'Evaluations' }]}
        title={
          <>
            Run <span className="mono">{id.slice(0, 10)}</span> {r ? <Pill state={r.state} /> : null}
          </>
        }
        subtitle={
          r ? (
            <>
              <Link to={paths.version('model', r.model.name, r.model.version, 'evaluations')}>{`${r.model.name}:${r.model.version}`}</Link> on suite{' '}
              <Link to={paths.version('dataset', r.suite.name, r.suite.version)}>{`${r.suite.name}:${r.suite.version}`}</Link> · {r.endpoint.url}
            </>
          ) : (
            '\u00a0'
          )
        }
      />
      {run.error && !r ? <ErrorBox error={run.error} onRetry={run.reload} /> : null}
      {!r && !run.error ? <Skeleton rows={4} height={76} /> : null}
      {r ? (
        <div className="stack">
          <div className="stats">
            <Stat label="Progress" value={<Progress done={r.done} total={r.total} failed={r.failed} />} />
            <Stat label="Failed requests" value={r.failed} hint={r.summary ? `error rate ${formatPercent(r.summary.errorRate)}` : undefined} />
            <Stat label="Duration" value={r.summary ? formatMs(r.summary.durationMs) : '—'} hint={r.summary ? `${r.summary.casesPerSecond.toFixed(1)} cases/s` : undefined} />
            <Stat label="Started" value={timeAgo(r.startedAt)} hint={`${formatDate(r.startedAt)}${r.createdBy ? ` by ${r.createdBy}` : ''}`} />
          </div>
          {r.error ? <div className="banner banner-bad">{r.error}</div> : null}
          <div className="grid-2" style={{ alignItems: 'start' }}>
            <Card title="Scores" actions={<span className="muted">bars: value · whiskers: 95% bootstrap interval</span>}>
              {r.summary ? <IntervalChart data={r.summary.metrics.map((m) => ({ label: m.id, value: m.value, low: m.low, high: m.high, unit: m.unit }))} /> : <Empty title={live ? 'Scores appear when the run finishes' : 'No scores'} />}
            </Card>
            <Card title="Thresholds" actions={r.summary ? <Pill state={r.summary.passed ? 'passed' : 'failed'} /> : null}>
              {r.summary?.thresholds.length ? (
                <table className="table">
                  <tbody>
                    {r.summary.thresholds.map((t) => (
                      <tr key={`${t.metric}${t.op}${t.value}`}>
                        <td className="mono">{`${t.metric} ${t.op} ${t.value}`}</td>
                        <td className="num">{formatMetric(t.actual)}</td>
                        <td>
                          <Pill state={t.passed ? 'passed' : 'failed'} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : (
                <Empty title="No thresholds" />
              )}
            </Card>
          </div>
          <Card
            title="Cases"
            actions={
              <label className="checkbox">
                <input type="checkbox" checked={failedOnly} onChange={(e) => setParams(e.target.checked ? { failed: 'true' } : {}, { replace: true })} />
                <span>Failures only</span>
              </label>
            }
          >
            <Loadable state={results} rows={6} height={40} empty={(p) => (p.items.length === 0 ? <Empty title={failedOnly ? 'No failed cases' : 'No results yet'} /> : null)}>
              {(p) => (
                <div className="table-scroll">
                  <table className="table">
                    <thead>
                      <tr>
                        <th className="num">#</th>
                        <th>Case</th>
                        <th>Output</th>
                        {Object.keys(p.items[0]?.scores ?? {}).map((m) => (
                          <th key={m} className="num">
                            {m}
                          </th>
                        ))}
                        <th className="num">Latency</th>
                      </tr>
                    </thead>
                    <tbody>
                      {p.items.map((c) => (
                        <tr key={c.index}>
                          <td className="num">{c.index + 1}</td>
                          <td className="mono">{c.caseId}</td>
                          <td>{c.ok ? <span className="cell-sub" style={{ color: 'var(--text)' }}>{c.output}</span> : <span className="delta-bad">{c.error}</span>}</td>
                          {Object.keys(p.items[0]?.scores ?? {}).map((m) => {
                            const s = c.scores[m];
                            return (
                              <td key={m} className={`num ${s?.value === 0 ? 'delta-bad' : ''}`} title={s?.error}>
                                {s?.error ? 'error' : formatMetric(s?.value ?? null)}
                              </td>
                            );
                          })}
                          <td className="num">{formatMs(c.latencyMs)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                  {p.nextCursor ? (
                    <div className="table-foot">
                      <span className="muted">{p.items.length} shown</span>
                      <button type="button" className="btn btn-small" onClick={() => setLimit((l) => Math.min(1000, l + 200))}>
                        Show more
                      </button>
                    </div>
                  ) : null}
                </div>
              )}
            </Loadable>
          </Card>
        </div>
      ) : null}
    </>
  );
}

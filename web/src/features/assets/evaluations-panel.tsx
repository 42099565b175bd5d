/**
 * A model version's evaluation results: the latest succeeded run of each suite with every metric
 * and its bootstrap interval (read from the run), whether the suite's thresholds passed, and the
 * benchmark figures its metadata declares.
 */
import { Link } from 'react-router';
import type { RunResponse } from '../../../../src/contracts/evals.js';
import { paths } from '../../app/paths.js';
import { useApi } from '../../app/use-api.js';
import { formatDate } from '../../ui/format.js';
import { IntervalChart } from '../../ui/interval-chart.js';
import { Card } from '../../ui/layout.js';
import { Pill } from '../../ui/pill.js';
import { Empty, Loadable } from '../../ui/states.js';
import type { VersionDoc } from './asset-types.js';
import { benchmarkResults } from './metadata-fns.js';

export function EvaluationsPanel({ v }: { v: VersionDoc }) {
  const evaluations = v.evaluations ?? [];
  const ids = evaluations.map((e) => e.run).filter((r): r is string => r !== null);
  const runs = useApi(async (c) => new Map<string, RunResponse>((await Promise.all(ids.map((id) => c.api((t) => t.evals.getRun)({ params: { id } })))).map((r) => [r.id, r])), [ids.join(',')]);
  const bench = benchmarkResults(v.metadata);
  if (evaluations.length === 0 && bench.length === 0) {
    return (
      <Card title="Evaluations">
        <Empty title="Not evaluated yet">
          Run a suite with <code>steward eval run SUITE --model {v.name}:{v.version} --endpoint URL</code>.
        </Empty>
      </Card>
    );
  }
  return (
    <div className="stack">
      {evaluations.map((e, i) => (
        <Card
          key={e.run ?? `hidden-${i}`}
          title={
            <span className="row">
              {e.hidden ? 'A suite you cannot read' : e.suite}
              {e.passed === null ? null : <Pill state={e.passed ? 'passed' : 'failed'} label={e.passed ? 'thresholds passed' : 'thresholds failed'} />}
            </span>
          }
          actions={
            e.run ? (
              <span className="row">
                <span className="muted">{formatDate(e.finishedAt)}</span>
                <Link className="btn btn-small" to={paths.run(e.run)}>
                  Open run
                </Link>
              </span>
            ) : null
          }
        >
          <Loadable state={runs} rows={Object.keys(e.metrics).length || 1} height={34}>
            {(byId) => {
              const run = e.run ? byId.get(e.run) : undefined;
              const data = run?.summary
                ? run.summary.metrics.map((m) => ({ label: m.id, value: m.value, low: m.low, high: m.high, unit: m.unit }))
                : Object.entries(e.metrics).map(([k, val]) => ({ label: k, value: val, low: null, high: null }));
              return <IntervalChart data={data} />;
            }}
          </Loadable>
        </Card>
      ))}
      {bench.length ? (
        <Card title="Declared benchmark results" actions={<span className="muted">From the version's metadata, not measured here</span>}>
          <IntervalChart data={bench.map(([k, val]) => ({ label: k, value: val, low: null, high: null }))} />
        </Card>
      ) : null}
    </div>
  );
}

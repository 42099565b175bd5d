/** Evaluation runs with their progress, newest first; filter by model, suite and state; pick two to compare. */
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import type { RunState } from '../../../../src/contracts/evals.js';
import { paths } from '../../app/paths.js';
import { useApi } from '../../app/use-api.js';
import { formatDate, formatMetric, timeAgo } from '../../ui/format.js';
import { PageHeader, useQueryParams } from '../../ui/layout.js';
import { Pill } from '../../ui/pill.js';
import { Empty, Loadable } from '../../ui/states.js';

/** Every run state (a Record, so the compiler flags a state the contract adds; the contract's list would bring zod into the bundle). */
const STATES: Record<RunState, true> = { queued: true, running: true, succeeded: true, failed: true, cancelled: true, interrupted: true };
const RUN_STATES = Object.keys(STATES) as RunState[];

export function Progress({ done, total, failed = 0 }: { done: number; total: number; failed?: number }) {
  const pct = total ? Math.round((done / total) * 100) : 0;
  return (
    <div className="row" style={{ flexWrap: 'nowrap' }}>
      <div className={failed ? 'progress progress-bad' : 'progress'} role="progressbar" aria-valuenow={pct} aria-valuemin={0} aria-valuemax={100} style={{ flex: 1 }}>
        <div style={{ width: `${pct}%` }} />
      </div>
      <span className="muted" style={{ whiteSpace: 'nowrap' }}>
        {done}/{total}
      </span>
    </div>
  );
}

export default function RunsPage() {
  const [params, set] = useQueryParams();
  const model = params.get('model') ?? '';
  const suite = params.get('suite') ?? '';
  const state = params.get('state') ?? '';
  const navigate = useNavigate();
  const [picked, setPicked] = useState<string[]>([]);
  const runs = useApi(
    (c) => c.api((t) => t.evals.listRuns)({ query: { ...(model ? { model } : {}), ...(suite ? { suite } : {}), ...(state ? { state: state as RunState } : {}), limit: 100 } }),
    [model, suite, state],
    { pollMs: 3000 },
  );
  return (
    <>
      <PageHeader
        title="Evaluations"
        subtitle="Runs of evaluation suites against model endpoints, with their scores and intervals."
        actions={
          picked.length === 2 ? (
            <button type="button" className="btn btn-primary" onClick={() => navigate(paths.compareRuns(picked[0]!, picked[1]!))}>
              Compare the two runs
            </button>
          ) : null
        }
      />
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label className="field field-grow">
          <span>Model</span>
          <input type="search" placeholder="NAME or NAME:VERSION" defaultValue={model} onChange={(e) => set('model', e.target.value.trim())} />
        </label>
        <label className="field field-grow">
          <span>Suite</span>
          <input type="search" placeholder="dataset NAME or NAME:VERSION" defaultValue={suite} onChange={(e) => set('suite', e.target.value.trim())} />
        </label>
        <label className="field">
          <span>State</span>
          <select value={state} onChange={(e) => set('state', e.target.value)}>
            <option value="">Any</option>
            {RUN_STATES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
      </form>
      <div className="table-card">
        <Loadable state={runs} rows={8} height={49} empty={(r) => (r.items.length === 0 ? <Empty title="No runs">Start one with <code>steward eval run SUITE --model NAME:VERSION --endpoint URL</code>.</Empty> : null)}>
          {(r) => (
            <div className="table-scroll">
              <table className="table">
                <thead>
                  <tr>
                    <th aria-label="Compare" />
                    <th>Run</th>
                    <th>Model</th>
                    <th>Suite</th>
                    <th>State</th>
                    <th style={{ minWidth: 160 }}>Progress</th>
                    <th>Headline</th>
                    <th>Started</th>
                  </tr>
                </thead>
                <tbody>
                  {r.items.map((run) => {
                    const head = run.summary?.metrics[0];
                    return (
                      <tr key={run.id} className={picked.includes(run.id) ? 'selected' : ''}>
                        <td>
                          <input type="checkbox" aria-label={`Compare run ${run.id}`} checked={picked.includes(run.id)} onChange={() => setPicked((p) => (p.includes(run.id) ? p.filter((x) => x !== run.id) : [...p.slice(-1), run.id]))} />
                        </td>
                        <td>
                          <Link className="row-link mono" to={paths.run(run.id)}>
                            {run.id.slice(0, 10)}
                          </Link>
                        </td>
                        <td>
                          <Link to={paths.version('model', run.model.name, run.model.version, 'evaluations')}>{`${run.model.name}:${run.model.version}`}</Link>
                        </td>
                        <td>
                          <Link to={paths.version('dataset', run.suite.name, run.suite.version)}>{`${run.suite.name}:${run.suite.version}`}</Link>
                        </td>
                        <td>
                          <Pill state={run.state} />
                          {run.summary ? <Pill state={run.summary.passed ? 'passed' : 'failed'} label={run.summary.passed ? 'passed' : 'below threshold'} /> : null}
                        </td>
                        <td>
                          <Progress done={run.done} total={run.total} failed={run.failed} />
                        </td>
                        <td>{head ? `${head.id} ${formatMetric(head.value, head.unit)}` : <span className="muted">—</span>}</td>
                        <td title={formatDate(run.startedAt ?? run.createdAt)}>{timeAgo(run.startedAt ?? run.createdAt)}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </Loadable>
      </div>
    </>
  );
}

/** Rollouts, newest first, by state and optionally of one model or environment (`/rollouts?state=running&model=acme/bot&environment=prod`), each with its live share. */
import { Link, useSearchParams } from 'react-router';
import type { RolloutState } from '../../../../src/contracts/rollouts.js';
import { paths } from '../../app/paths.js';
import { useApi } from '../../app/use-api.js';
import { formatDate, timeAgo } from '../../ui/format.js';
import { PageHeader, Tabs } from '../../ui/layout.js';
import { Pill } from '../../ui/pill.js';
import { Empty, Loadable } from '../../ui/states.js';
import { candidateShare, ROLLOUT_STATES, stepLabel } from './rollout-fns.js';

const VIEWS = ['all', ...ROLLOUT_STATES] as const;

export default function RolloutsPage() {
  const [params, setParams] = useSearchParams();
  const view = params.get('state') ?? 'all';
  const state = view === 'all' ? undefined : (view as RolloutState);
  const model = params.get('model') ?? undefined;
  const environment = params.get('environment') ?? undefined;
  const list = useApi((c) => c.api((t) => t.rollouts.listRollouts)({ query: { ...(state ? { state } : {}), ...(model ? { model } : {}), ...(environment ? { environment } : {}), limit: 100 } }), [state, model, environment], { pollMs: 5000 });
  const setParam = (key: string, value: string | null) => {
    const next = new URLSearchParams(params);
    if (value === null) next.delete(key);
    else next.set(key, value);
    setParams(next, { replace: true });
  };
  return (
    <>
      <PageHeader title="Rollouts" subtitle="Moves of an environment from its stable version to a candidate: canary steps, blue-green switches, A/B experiments and shadow traffic, each judged by analyses of live traffic." />
      <Tabs tabs={VIEWS} current={view} onChange={(v) => setParam('state', v === 'all' ? null : v)} />
      {model || environment ? (
        <div className="row" style={{ marginBottom: 12 }}>
          {[['model', model], ['environment', environment]].map(([k, v]) =>
            v ? (
              <button key={k} type="button" className="btn btn-small" onClick={() => setParam(k!, null)} aria-label={`Clear the ${k} filter`}>
                {k}: {v} ✕
              </button>
            ) : null,
          )}
        </div>
      ) : null}
      <div className="table-card">
        <Loadable state={list} rows={6} height={49} empty={(l) => (l.items.length === 0 ? <Empty title="No rollouts" icon="⇄">Start one with <code>steward rollout start</code>, or promote to an environment whose policy names a rollout.</Empty> : null)}>
          {(l) => (
            <div className="table-scroll">
              <table className="table">
                <thead>
                  <tr>
                    <th>Model</th>
                    <th>Environment</th>
                    <th>Strategy</th>
                    <th>State</th>
                    <th>Step</th>
                    <th className="num">Candidate share</th>
                    <th>Started</th>
                  </tr>
                </thead>
                <tbody>
                  {l.items.map((r) => (
                    <tr key={r.id}>
                      <td>
                        <Link className="row-link" to={paths.rollout(r.id)}>
                          {r.model} {r.stable.version} → {r.candidate.version}
                        </Link>
                        {r.reason ? <div className="cell-sub">{r.reason}</div> : null}
                      </td>
                      <td>
                        <Link className="tag tag-accent" to={`/rollouts?environment=${encodeURIComponent(r.environment)}`}>
                          {r.environment}
                        </Link>
                      </td>
                      <td>{r.strategy}</td>
                      <td>
                        <Pill state={r.state} />
                      </td>
                      <td>{r.step >= 0 && r.steps[r.step] ? `${r.step + 1}/${r.steps.length}: ${stepLabel(r.steps[r.step]!)}` : <span className="muted">not started</span>}</td>
                      <td className="num">{candidateShare(r)}%</td>
                      <td title={formatDate(r.createdAt)}>
                        {timeAgo(r.createdAt)} by {r.createdBy}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Loadable>
      </div>
    </>
  );
}

/** Deployments: each one's model version, environment, runtime, driver, state and replicas; filter by model, environment and state. */
import { Link } from 'react-router';
import type { DeploymentState } from '../../../../src/contracts/deployments.js';
import { paths } from '../../app/paths.js';
import { useApi } from '../../app/use-api.js';
import { formatDate, timeAgo } from '../../ui/format.js';
import { PageHeader, useQueryParams } from '../../ui/layout.js';
import { Pill } from '../../ui/pill.js';
import { Empty, Loadable } from '../../ui/states.js';

const STATES: Record<DeploymentState, true> = { pending: true, starting: true, ready: true, degraded: true, stopped: true, failed: true };

export function readyReplicas(d: { replicaStatus: { state: string }[] }): number {
  return d.replicaStatus.filter((r) => r.state === 'ready').length;
}

export default function DeploymentsPage() {
  const [params, set] = useQueryParams();
  const model = params.get('model') ?? '';
  const environment = params.get('environment') ?? '';
  const state = params.get('state') ?? '';
  const list = useApi(
    (c) => c.api((t) => t.deployments.listDeployments)({ query: { ...(model ? { model } : {}), ...(environment ? { environment } : {}), ...(state ? { state: state as DeploymentState } : {}), limit: 200 } }),
    [model, environment, state],
    { pollMs: 5000 },
  );
  return (
    <>
      <PageHeader title="Deployments" subtitle="Model versions running in an environment, their replicas and health." />
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label className="field field-grow">
          <span>Model</span>
          <input type="search" placeholder="NAME" defaultValue={model} onChange={(e) => set('model', e.target.value.trim())} />
        </label>
        <label className="field">
          <span>Environment</span>
          <input type="text" placeholder="production" defaultValue={environment} onChange={(e) => set('environment', e.target.value.trim())} />
        </label>
        <label className="field">
          <span>State</span>
          <select value={state} onChange={(e) => set('state', e.target.value)}>
            <option value="">Any</option>
            {Object.keys(STATES).map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
      </form>
      <div className="table-card">
        <Loadable state={list} rows={6} height={49} empty={(l) => (l.items.length === 0 ? <Empty title="No deployments">Deploy a version with <code>steward deploy NAME:VERSION --env staging</code>.</Empty> : null)}>
          {(l) => (
            <div className="table-scroll">
              <table className="table">
                <thead>
                  <tr>
                    <th>Deployment</th>
                    <th>Model</th>
                    <th>Environment</th>
                    <th>Runtime</th>
                    <th>State</th>
                    <th className="num">Replicas</th>
                    <th>Updated</th>
                  </tr>
                </thead>
                <tbody>
                  {l.items.map((d) => (
                    <tr key={d.id}>
                      <td>
                        <Link className="row-link mono" to={paths.deployment(d.id)}>
                          {d.id.slice(0, 12)}
                        </Link>
                      </td>
                      <td>
                        <Link to={paths.version('model', d.model.name, d.model.version)}>{`${d.model.name}:${d.model.version}`}</Link>
                      </td>
                      <td>
                        <span className="tag tag-accent">{d.environment}</span>
                      </td>
                      <td>
                        {d.runtime} <span className="muted">· {d.driver}</span>
                      </td>
                      <td>
                        <Pill state={d.state} />
                      </td>
                      <td className="num">
                        {readyReplicas(d)}/{d.replicas}
                      </td>
                      <td title={formatDate(d.updatedAt)}>{timeAgo(d.updatedAt)}</td>
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

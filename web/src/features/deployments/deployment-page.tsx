/**
 * One deployment: state and replicas, where it serves, the rollout of its model in its
 * environment (if one moves), the live traffic split, its request charts, and — for a token
 * allowed to — scale and stop.
 */
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { paths } from '../../app/paths.js';
import { useSession } from '../../app/session.js';
import { useAction, useApi } from '../../app/use-api.js';
import { ConfirmDialog } from '../../ui/dialog.js';
import { formatDate, timeAgo } from '../../ui/format.js';
import { Card, KeyValues, PageHeader, Stat } from '../../ui/layout.js';
import { Pill } from '../../ui/pill.js';
import { Empty, ErrorBox, Skeleton } from '../../ui/states.js';
import { StewardApiError } from '../../../../src/sdk/client.js';
import { readyReplicas } from './deployments-page.js';
import { CurrentRolloutCard } from '../rollouts/current-rollout-card.js';
import { MetricsCharts } from './metrics-charts.js';
import { TrafficSplit } from './traffic-split.js';

export default function DeploymentPage() {
  const id = useParams().id!;
  const { can } = useSession();
  const dep = useApi((c) => c.api((t) => t.deployments.getDeployment)({ params: { id } }), [id], { pollMs: 5000 });
  const d = dep.data;
  const traffic = useApi(
    async (c) => {
      try {
        return await c.api((t) => t.gateway.getTraffic)({ params: { name: d!.model.name, environment: d!.environment } });
      } catch (err) {
        if (err instanceof StewardApiError && err.status === 404) return null;
        throw err;
      }
    },
    [d?.model.name, d?.environment],
    { enabled: Boolean(d), pollMs: 10_000 },
  );
  const siblings = useApi((c) => c.api((t) => t.deployments.listDeployments)({ query: { model: d!.model.name, environment: d!.environment, limit: 50 } }), [d?.model.name, d?.environment], { enabled: Boolean(d) });
  const versionOf = new Map((siblings.data?.items ?? []).map((s) => [s.id, s.model.version]));
  const label = (depId: string) => (versionOf.get(depId) ? `${versionOf.get(depId)} (${depId.slice(0, 6)})` : depId.slice(0, 10));
  const [dialog, setDialog] = useState<'stop' | 'scale' | null>(null);
  const [replicas, setReplicas] = useState(1);
  const stop = useAction((c) => c.api((t) => t.deployments.stopDeployment)({ params: { id } }));
  const scale = useAction((c, n: number) => c.api((t) => t.deployments.scaleDeployment)({ params: { id }, body: { replicas: n } }));
  const live = d && d.state !== 'stopped' && d.state !== 'failed';
  const arms = traffic.data ? traffic.data.arms.map((a) => a.deployment) : [id];

  return (
    <>
      <PageHeader
        crumbs={[{ to: '/deployments', label: 'Deployments' }]}
        title={
          d ? (
            <>
              {`${d.model.name}:${d.model.version}`} <span className="tag tag-accent">{d.environment}</span> <Pill state={d.state} />
            </>
          ) : (
            'Deployment'
          )
        }
        subtitle={d ? <span className="mono">{d.id}</span> : '\u00a0'}
        actions={
          live && can((t) => t.deployments.scaleDeployment) ? (
            <>
              <button
                type="button"
                className="btn"
                onClick={() => {
                  setReplicas(d.replicas);
                  setDialog('scale');
                }}
              >
                Scale
              </button>
              <button type="button" className="btn btn-danger" onClick={() => setDialog('stop')}>
                Stop
              </button>
            </>
          ) : null
        }
      />
      {dep.error && !d ? <ErrorBox error={dep.error} onRetry={dep.reload} /> : null}
      {!d && !dep.error ? <Skeleton rows={4} height={76} /> : null}
      {d ? (
        <div className="stack">
          {d.error ? <div className="banner banner-bad">{d.error}</div> : null}
          <div className="stats">
            <Stat label="Replicas ready" value={`${readyReplicas(d)} / ${d.replicas}`} />
            <Stat label="Runtime" value={<span className="stat-value-small">{d.runtime}</span>} hint={`driver ${d.driver}`} />
            <Stat label="Serves" value={<span className="stat-value-small">{d.endpoint?.url ?? d.replicaStatus.find((r) => r.url)?.url ?? '—'}</span>} />
            <Stat label="Updated" value={timeAgo(d.updatedAt)} hint={formatDate(d.updatedAt)} />
          </div>
          <CurrentRolloutCard model={d.model.name} environment={d.environment} />
          <Card title={`Traffic split · ${d.model.name} in ${d.environment}`}>
            {traffic.error ? <ErrorBox error={traffic.error} onRetry={traffic.reload} /> : traffic.data === undefined ? <Skeleton rows={1} height={56} /> : <TrafficSplit traffic={traffic.data} current={id} label={label} />}
          </Card>
          <MetricsCharts model={d.model.name} environment={d.environment} arms={arms} label={label} />
          <div className="grid-2" style={{ alignItems: 'start' }}>
            <Card title="Replicas">
              {d.replicaStatus.length === 0 ? (
                <Empty title={d.driver === 'external' ? 'Served outside Steward' : 'No replicas'}>{d.driver === 'external' ? 'An external endpoint has no replicas of its own.' : null}</Empty>
              ) : (
                <table className="table">
                  <thead>
                    <tr>
                      <th className="num">#</th>
                      <th>State</th>
                      <th>Version</th>
                      <th className="num">Restarts</th>
                      <th>Since</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.replicaStatus.map((r) => (
                      <tr key={r.index}>
                        <td className="num">{r.index}</td>
                        <td>
                          <Pill state={r.state} />
                          {r.lastError ? <div className="cell-sub delta-bad">{r.lastError}</div> : null}
                        </td>
                        <td>{r.version ?? '—'}</td>
                        <td className="num">{r.restarts}</td>
                        <td title={formatDate(r.since)}>{timeAgo(r.since)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </Card>
            <Card title="Details">
              <KeyValues
                items={[
                  ['Model', <Link key="m" to={paths.version('model', d.model.name, d.model.version)}>{`${d.model.name}:${d.model.version}`}</Link>],
                  ['Environment', d.environment],
                  ['Driver', d.driver],
                  ['Pricing', d.pricing ? `$${d.pricing.inputPerMTok} in / $${d.pricing.outputPerMTok} out per M tokens` : 'free'],
                  ['Arguments', d.args.length ? <span key="a" className="mono">{d.args.join(' ')}</span> : '—'],
                  ['Environment variables', d.envKeys.length ? d.envKeys.join(', ') : '—'],
                  ['Created', `${formatDate(d.createdAt)} by ${d.createdBy}`],
                ]}
              />
            </Card>
          </div>
          {d.driver !== 'external' && d.replicaStatus.length ? <Logs id={id} replicas={d.replicaStatus.map((r) => r.index)} /> : null}
        </div>
      ) : null}
      <ConfirmDialog
        open={dialog === 'stop'}
        title="Stop this deployment?"
        confirmLabel="Stop"
        danger
        pending={stop.pending}
        error={stop.error?.message ?? null}
        onClose={() => setDialog(null)}
        onConfirm={async () => {
          if (await stop.run()) {
            setDialog(null);
            dep.reload();
          }
        }}
      >
        Its replicas stop and the gateway stops routing to it.
      </ConfirmDialog>
      <ConfirmDialog
        open={dialog === 'scale'}
        title="Scale replicas"
        confirmLabel="Scale"
        pending={scale.pending}
        error={scale.error?.message ?? null}
        onClose={() => setDialog(null)}
        onConfirm={async () => {
          if (await scale.run(replicas)) {
            setDialog(null);
            dep.reload();
          }
        }}
      >
        <label className="field">
          <span>Replicas</span>
          <input type="number" min={0} max={64} value={replicas} onChange={(e) => setReplicas(Number(e.target.value))} />
        </label>
      </ConfirmDialog>
    </>
  );
}

/** The last lines a replica wrote (its runtime's output), refreshed while the page is open. */
function Logs({ id, replicas }: { id: string; replicas: number[] }) {
  const [replica, setReplica] = useState(replicas[0] ?? 0);
  const logs = useApi((c) => c.api((t) => t.deployments.deploymentLogs)({ params: { id }, query: { replica, tail: 200 } }), [id, replica], { pollMs: 5000, keep: true });
  return (
    <Card
      title="Logs"
      actions={
        replicas.length > 1 ? (
          <select value={replica} onChange={(e) => setReplica(Number(e.target.value))} aria-label="Replica">
            {replicas.map((r) => (
              <option key={r} value={r}>
                replica {r}
              </option>
            ))}
          </select>
        ) : null
      }
    >
      {logs.error && !logs.data ? (
        <ErrorBox error={logs.error} onRetry={logs.reload} />
      ) : !logs.data ? (
        <Skeleton rows={4} height={18} />
      ) : logs.data.lines.length === 0 ? (
        <Empty title="No output yet" />
      ) : (
        <pre className="code-block" style={{ maxHeight: 320 }}>
          {logs.data.lines.join('\n')}
        </pre>
      )}
    </Card>
  );
}

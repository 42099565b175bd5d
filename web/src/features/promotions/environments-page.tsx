/** Every environment: its policy (what a version needs to enter it) and what each model runs there now, and before. */
import { Link } from 'react-router';
import { paths } from '../../app/paths.js';
import { useApi } from '../../app/use-api.js';
import { formatDate, timeAgo } from '../../ui/format.js';
import { Card, KeyValues, PageHeader } from '../../ui/layout.js';
import { Empty, Loadable } from '../../ui/states.js';
import type { EnvironmentResponse, PointerMove } from '../../../../src/contracts/promotions.js';

function policyRows(e: EnvironmentResponse): [string, string][] {
  const p = e.policy;
  return [
    ['Comes after', p.requiredSource ?? '—'],
    ['Auto-promote', p.autoPromote ? 'every ready version' : 'no'],
    ['Validation', p.validation.required ? `required${p.validation.minScore !== null ? `, scores ≥ ${p.validation.minScore}` : ''}` : 'not required'],
    ['Gates', p.gates.length ? p.gates.join('; ') : '—'],
    ['Approvals', p.approvals.count ? `${p.approvals.count} by ${p.approvals.role}` : 'none'],
    ['Replicas', String(p.deploy.replicas)],
  ];
}

export default function EnvironmentsPage() {
  const envs = useApi((c) => c.api((t) => t.promotions.listEnvironments)({}), []);
  const pointers = useApi((c) => c.api((t) => t.promotions.listPointers)({ query: {} }), []);
  // The version before the current one, per model and environment (one history read per model shown).
  const models = [...new Set((pointers.data?.items ?? []).map((p) => p.model))].slice(0, 50);
  const history = useApi(async (c) => (await Promise.all(models.map((model) => c.api((t) => t.promotions.pointerHistory)({ query: { model, limit: 50 } })))).flatMap((h) => h.items), [models.join(',')], { enabled: models.length > 0 });
  const previous = (m: PointerMove[] | undefined, model: string, env: string, version: string) => m?.find((x) => x.model === model && x.environment === env && x.version === version)?.previous ?? null;
  return (
    <>
      <PageHeader title="Environments" subtitle="The stages a version moves through, what each asks of it, and what runs in each now." />
      <Loadable state={envs} rows={3} height={200} empty={(e) => (e.items.length === 0 ? <Empty title="No environments" /> : null)}>
        {(e) => (
          <div className="grid-3">
            {e.items
              .filter((x) => x.namespace === null)
              .map((env) => {
                const here = (pointers.data?.items ?? []).filter((p) => p.environment === env.name);
                return (
                  <Card key={env.name} title={<span className="tag tag-accent">{env.name}</span>} actions={<span className="muted">{here.length === 1 ? '1 model' : `${here.length} models`}</span>}>
                    <p className="muted" style={{ marginTop: 0 }}>
                      {env.policy.description}
                    </p>
                    <KeyValues items={policyRows(env)} />
                    <h3 style={{ fontSize: 13, margin: '14px 0 6px' }}>Running here</h3>
                    {!pointers.data ? (
                      <span className="muted">Loading…</span>
                    ) : here.length === 0 ? (
                      <span className="muted">No model yet</span>
                    ) : (
                      <table className="table table-compact">
                        <thead>
                          <tr>
                            <th>Model</th>
                            <th>Current</th>
                            <th>Previous</th>
                          </tr>
                        </thead>
                        <tbody>
                          {here.slice(0, 20).map((p) => {
                            const prev = previous(history.data, p.model, p.environment, p.version);
                            return (
                              <tr key={p.model}>
                                <td>
                                  <Link to={paths.asset('model', p.model)}>{p.model}</Link>
                                </td>
                                <td title={`since ${formatDate(p.since)} (${timeAgo(p.since)})`}>
                                  <Link to={paths.version('model', p.model, p.version)}>{p.version}</Link>
                                </td>
                                <td>{prev ? <Link to={paths.version('model', p.model, prev)}>{prev}</Link> : <span className="muted">—</span>}</td>
                              </tr>
                            );
                          })}
                        </tbody>
                      </table>
                    )}
                  </Card>
                );
              })}
          </div>
        )}
      </Loadable>
    </>
  );
}

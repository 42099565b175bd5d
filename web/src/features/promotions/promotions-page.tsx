/** Promotions: the approvals inbox (requests waiting for a decision) and every other request, by state. */
import { Link, useSearchParams } from 'react-router';
import type { PromotionState } from '../../../../src/contracts/promotions.js';
import { paths } from '../../app/paths.js';
import { useSession } from '../../app/session.js';
import { useApi } from '../../app/use-api.js';
import { formatDate, timeAgo } from '../../ui/format.js';
import { PageHeader, Tabs } from '../../ui/layout.js';
import { Pill } from '../../ui/pill.js';
import { Empty, Loadable } from '../../ui/states.js';

const STATES: Record<PromotionState, true> = { checking: true, pending: true, rolling_out: true, completed: true, rejected: true, failed: true, cancelled: true, expired: true };
const VIEWS = ['inbox', 'all', ...Object.keys(STATES).filter((s) => s !== 'pending')] as const;

export default function PromotionsPage() {
  const { can } = useSession();
  const [params, setParams] = useSearchParams();
  const view = params.get('view') ?? 'inbox';
  const state = view === 'inbox' ? 'pending' : view === 'all' ? undefined : (view as PromotionState);
  const list = useApi((c) => c.api((t) => t.promotions.listPromotions)({ query: { ...(state ? { state } : {}), limit: 200 } }), [state], { pollMs: 10_000 });
  return (
    <>
      <PageHeader title="Promotions" subtitle={can((t) => t.promotions.approvePromotion) ? 'Requests to move a version into an environment. Those waiting for you are in the inbox.' : 'Requests to move a version into an environment, with their gates and decisions.'} />
      <Tabs tabs={VIEWS} current={view} onChange={(v) => setParams(v === 'inbox' ? {} : { view: v }, { replace: true })} labels={{ inbox: 'Waiting for approval' }} />
      <div className="table-card">
        <Loadable state={list} rows={6} height={49} empty={(l) => (l.items.length === 0 ? <Empty title={view === 'inbox' ? 'Nothing waits for approval' : 'No promotions'} icon="✓" /> : null)}>
          {(l) => (
            <div className="table-scroll">
              <table className="table">
                <thead>
                  <tr>
                    <th>Model</th>
                    <th>To</th>
                    <th>State</th>
                    <th>Gates</th>
                    <th>Approvals</th>
                    <th>Requested</th>
                  </tr>
                </thead>
                <tbody>
                  {l.items.map((p) => {
                    const passed = p.gates.filter((g) => g.status === 'passed').length;
                    const approvals = p.approvals.decisions.filter((d) => d.decision === 'approve').length;
                    return (
                      <tr key={p.id}>
                        <td>
                          <Link className="row-link" to={paths.promotion(p.id)}>{`${p.model.name}:${p.model.version}`}</Link>
                        </td>
                        <td>
                          {p.from ? <span className="muted">{p.from} → </span> : null}
                          <span className="tag tag-accent">{p.to}</span>
                        </td>
                        <td>
                          <Pill state={p.state} />
                        </td>
                        <td>{p.gates.length ? `${passed}/${p.gates.length} passed` : <span className="muted">none</span>}</td>
                        <td>{p.approvals.required ? `${approvals}/${p.approvals.required} (${p.approvals.role})` : <span className="muted">not needed</span>}</td>
                        <td title={formatDate(p.requestedAt)}>
                          {timeAgo(p.requestedAt)} by {p.requestedBy}
                        </td>
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

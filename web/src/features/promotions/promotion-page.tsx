/**
 * One promotion request: every gate with its verdict, reason and evidence, the approvals so far,
 * and — for a token allowed to decide, while it waits — approve and reject.
 */
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { paths } from '../../app/paths.js';
import { PROMOTIONS_CHANGED } from '../../app/app-shell.js';
import { useSession } from '../../app/session.js';
import { useAction, useApi } from '../../app/use-api.js';
import { ConfirmDialog } from '../../ui/dialog.js';
import { formatDate, formatValue, timeAgo } from '../../ui/format.js';
import { Card, KeyValues, PageHeader } from '../../ui/layout.js';
import { Pill } from '../../ui/pill.js';
import { Empty, ErrorBox, Skeleton } from '../../ui/states.js';

export default function PromotionPage() {
  const id = useParams().id!;
  const { can, me } = useSession();
  const promo = useApi((c) => c.api((t) => t.promotions.getPromotion)({ params: { id } }), [id], { pollMs: 5000 });
  const [deciding, setDeciding] = useState<'approve' | 'reject' | null>(null);
  const decide = useAction((c, d: 'approve' | 'reject', comment: string) =>
    d === 'approve' ? c.api((t) => t.promotions.approvePromotion)({ params: { id }, body: { comment } }) : c.api((t) => t.promotions.rejectPromotion)({ params: { id }, body: { comment } }),
  );
  const p = promo.data;
  const mayDecide = p?.state === 'pending' && can((t) => t.promotions.approvePromotion) && p.requestedBy !== me.name;
  return (
    <>
      <PageHeader
        crumbs={[{ to: '/promotions', label: 'Promotions' }]}
        title={
          p ? (
            <>
              {`${p.model.name}:${p.model.version}`} → {p.to} <Pill state={p.state} />
            </>
          ) : (
            'Promotion'
          )
        }
        subtitle={p ? `Requested ${timeAgo(p.requestedAt)} by ${p.requestedBy}${p.comment ? ` — “${p.comment}”` : ''}` : '\u00a0'}
        actions={
          mayDecide ? (
            <>
              <button type="button" className="btn" onClick={() => setDeciding('reject')}>
                Reject
              </button>
              <button type="button" className="btn btn-primary" onClick={() => setDeciding('approve')}>
                Approve
              </button>
            </>
          ) : null
        }
      />
      {promo.error && !p ? <ErrorBox error={promo.error} onRetry={promo.reload} /> : null}
      {!p && !promo.error ? <Skeleton rows={5} height={60} /> : null}
      {p ? (
        <div className="stack">
          {p.reason ? <div className={`banner ${p.state === 'completed' ? 'banner-good' : 'banner-bad'}`}>{p.reason}</div> : null}
          <div className="grid-2" style={{ alignItems: 'start' }}>
            <Card title="Gates">
              {p.gates.length === 0 ? (
                <Empty title="No gates" />
              ) : (
                <div className="stack">
                  {p.gates.map((g, i) => (
                    <div key={`${g.name}-${i}`} className="gate">
                      <div className="row">
                        <Pill state={g.status} />
                        <strong>{g.name}</strong>
                      </div>
                      <p style={{ margin: '6px 0' }}>{g.reason}</p>
                      {Object.keys(g.evidence).length ? (
                        <details open>
                          <summary className="muted">Evidence</summary>
                          <Evidence evidence={g.evidence} />
                        </details>
                      ) : null}
                    </div>
                  ))}
                </div>
              )}
            </Card>
            <div className="stack">
              <Card title="Approvals" actions={<span className="muted">{p.approvals.required ? `${p.approvals.required} needed (${p.approvals.role})` : 'none needed'}</span>}>
                {p.approvals.decisions.length === 0 ? (
                  <Empty title={p.state === 'pending' ? 'Waiting for a decision' : 'No decisions'} />
                ) : (
                  <table className="table">
                    <tbody>
                      {p.approvals.decisions.map((d, i) => (
                        <tr key={i}>
                          <td>
                            <Pill state={d.decision} />
                          </td>
                          <td>{d.by}</td>
                          <td>{d.comment || <span className="muted">no comment</span>}</td>
                          <td title={formatDate(d.at)}>{timeAgo(d.at)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </Card>
              <Card title="Request">
                <KeyValues
                  items={[
                    ['Version', <Link key="v" to={paths.version('model', p.model.name, p.model.version)}>{`${p.model.name}:${p.model.version}`}</Link>],
                    ['From', p.from ?? '—'],
                    ['To', p.to],
                    ['Requested', `${formatDate(p.requestedAt)} by ${p.requestedBy}`],
                    ['Decided', formatDate(p.decidedAt)],
                    ['Expires', formatDate(p.expiresAt)],
                  ]}
                />
              </Card>
            </div>
          </div>
        </div>
      ) : null}
      <ConfirmDialog
        open={deciding !== null}
        title={deciding === 'approve' ? `Approve ${p?.model.name}:${p?.model.version} into ${p?.to}?` : `Reject this promotion?`}
        confirmLabel={deciding === 'approve' ? 'Approve' : 'Reject'}
        danger={deciding === 'reject'}
        comment={{ label: deciding === 'reject' ? 'Why (required)' : 'Comment (optional)', required: deciding === 'reject' }}
        pending={decide.pending}
        error={decide.error?.message ?? null}
        onClose={() => setDeciding(null)}
        onConfirm={async (comment) => {
          if (deciding && (await decide.run(deciding, comment))) {
            setDeciding(null);
            promo.reload();
            // The approvals inbox count in the menu.
            window.dispatchEvent(new Event(PROMOTIONS_CHANGED));
          }
        }}
      >
        {deciding === 'approve' ? 'The environment pointer moves to this version once every approval it needs is in.' : 'A rejection is final: a new request is needed to try again.'}
      </ConfirmDialog>
    </>
  );
}

/** A gate's evidence: plain values as they are, lists of records one per line, evaluation runs linked. */
function Evidence({ evidence }: { evidence: Record<string, unknown> }) {
  return <KeyValues items={Object.entries(evidence).map(([k, v]) => [k, <EvidenceValue key={k} value={v} />])} />;
}

function EvidenceValue({ value }: { value: unknown }) {
  if (Array.isArray(value) && value.every((x) => x && typeof x === 'object' && !Array.isArray(x))) {
    return (
      <div>
        {(value as Record<string, unknown>[]).map((item, i) => (
          <div key={i} className="evidence-item">
            {Object.entries(item).map(([k, v], j) => (
              <span key={k}>
                {j ? ' · ' : ''}
                <span className="muted">{k}</span> {k === 'run' && typeof v === 'string' ? <Link to={paths.run(v)}>{v}</Link> : <span className="mono">{formatValue(v)}</span>}
              </span>
            ))}
          </div>
        ))}
      </div>
    );
  }
  return <span className="mono">{formatValue(value)}</span>;
}

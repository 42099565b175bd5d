/**
 * The audit log: every change, newest first, filtered by actor, action, target and time, with
 * the hash chain's verification status above it. Each entry opens to its recorded change.
 */
import { Fragment, useState } from 'react';
import type { AuditEvent } from '../../../../src/contracts/audit.js';
import { useSession } from '../../app/session.js';
import { useApi } from '../../app/use-api.js';
import { formatDate, timeAgo } from '../../ui/format.js';
import { PageHeader, useQueryParams } from '../../ui/layout.js';
import { Empty, Loadable, Skeleton } from '../../ui/states.js';

const FIELDS = ['actor', 'action', 'target', 'since', 'until'] as const;

/** A datetime-local input's value as RFC 3339 (UTC), or undefined when empty or invalid. */
export function toTimestamp(local: string): string | undefined {
  if (!local) return undefined;
  const t = Date.parse(local);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

export default function AuditPage() {
  const { client } = useSession();
  const [params, set] = useQueryParams();
  const f = Object.fromEntries(FIELDS.map((k) => [k, params.get(k) ?? ''])) as Record<(typeof FIELDS)[number], string>;
  const query = {
    ...(f.actor ? { actor: f.actor } : {}),
    ...(f.action ? { action: f.action } : {}),
    ...(f.target ? { target: f.target } : {}),
    ...(toTimestamp(f.since) ? { since: toTimestamp(f.since) } : {}),
    ...(toTimestamp(f.until) ? { until: toTimestamp(f.until) } : {}),
  };
  const key = JSON.stringify(query);
  const list = useApi((c) => c.listAudit({ ...query, limit: 100 }), [key]);
  const verify = useApi((c) => c.verifyAudit(), []);
  const [more, setMore] = useState<{ key: string; items: AuditEvent[]; cursor: string | null }>({ key: '', items: [], cursor: null });
  const [open, setOpen] = useState<number | null>(null);
  const extra = more.key === key ? more : null;
  const items = [...(list.data?.items ?? []), ...(extra?.items ?? [])];
  const cursor = extra ? extra.cursor : (list.data?.nextCursor ?? null);
  return (
    <>
      <PageHeader title="Audit log" subtitle="Every change, who made it and from where; each entry is hash-chained to the one before." />
      <div style={{ minHeight: 46 }}>
        {verify.data ? (
          verify.data.ok ? (
            <div className="banner banner-good" role="status">
              <strong>Chain verified</strong>
              <span>
                {verify.data.events.toLocaleString('en-US')} events intact · head <span className="digest">{verify.data.head?.slice(0, 16) ?? '—'}</span>
              </span>
            </div>
          ) : (
            <div className="banner banner-bad" role="alert">
              <strong>Chain broken</strong>
              <span>{verify.data.firstBad ? `at event ${verify.data.firstBad.seq}: ${verify.data.firstBad.problem}` : 'verification failed'}</span>
            </div>
          )
        ) : verify.error ? (
          <div className="banner banner-warn">Could not verify the chain: {verify.error.message}</div>
        ) : (
          <Skeleton rows={1} height={30} />
        )}
      </div>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label className="field">
          <span>Actor</span>
          <input type="search" defaultValue={f.actor} onChange={(e) => set('actor', e.target.value.trim())} name="actor" />
        </label>
        <label className="field">
          <span>Action</span>
          <input type="search" placeholder="promotion.*" defaultValue={f.action} onChange={(e) => set('action', e.target.value.trim())} name="action" />
        </label>
        <label className="field field-grow">
          <span>Target</span>
          <input type="search" placeholder="model:acme/bot*" defaultValue={f.target} onChange={(e) => set('target', e.target.value.trim())} name="target" />
        </label>
        <label className="field">
          <span>Since</span>
          <input type="datetime-local" defaultValue={f.since} onChange={(e) => set('since', e.target.value)} />
        </label>
        <label className="field">
          <span>Until</span>
          <input type="datetime-local" defaultValue={f.until} onChange={(e) => set('until', e.target.value)} />
        </label>
      </form>
      <div className="table-card">
        <Loadable state={list} rows={10} height={45} empty={(l) => (l.items.length === 0 ? <Empty title="No events match" /> : null)}>
          {() => (
            <>
              <div className="table-scroll">
                <table className="table">
                  <thead>
                    <tr>
                      <th className="num">#</th>
                      <th>When</th>
                      <th>Actor</th>
                      <th>Action</th>
                      <th>Target</th>
                      <th aria-label="Details" />
                    </tr>
                  </thead>
                  <tbody>
                    {items.map((e) => (
                      <Fragment key={e.seq}>
                        <tr>
                          <td className="num">{e.seq}</td>
                          <td title={formatDate(e.at)}>{timeAgo(e.at)}</td>
                          <td>{e.actor}</td>
                          <td>
                            <span className="tag">{e.action}</span>
                          </td>
                          <td className="mono" style={{ overflowWrap: 'anywhere' }}>
                            {e.target}
                          </td>
                          <td className="num">
                            <button type="button" className="btn btn-ghost btn-small" aria-expanded={open === e.seq} onClick={() => setOpen(open === e.seq ? null : e.seq)}>
                              {open === e.seq ? 'Hide' : 'Change'}
                            </button>
                          </td>
                        </tr>
                        {open === e.seq ? (
                          <tr>
                            <td colSpan={6}>
                              <pre className="code-block">{JSON.stringify(e.change, null, 2)}</pre>
                              <div className="muted" style={{ marginTop: 6, fontSize: 12 }}>
                                request {e.requestId ?? '—'} from {e.clientAddress ?? '—'} · hash <span className="digest">{e.hash.slice(0, 16)}</span>
                              </div>
                            </td>
                          </tr>
                        ) : null}
                      </Fragment>
                    ))}
                  </tbody>
                </table>
              </div>
              <div className="table-foot">
                <span className="muted">{items.length} events shown</span>
                {cursor ? (
                  <button
                    type="button"
                    className="btn btn-small"
                    onClick={async () => {
                      const page = await client.listAudit({ ...query, limit: 100, cursor });
                      setMore({ key, items: [...(extra?.items ?? []), ...page.items], cursor: page.nextCursor });
                    }}
                  >
                    Load more
                  </button>
                ) : null}
              </div>
            </>
          )}
        </Loadable>
      </div>
    </>
  );
}

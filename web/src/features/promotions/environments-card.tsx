/**
 * Where a model runs: each environment's current version, the version before it, and (for a
 * token allowed to) a rollback to that previous version after a confirmation.
 */
import { useState } from 'react';
import { Link } from 'react-router';
import type { PointerList } from '../../../../src/contracts/promotions.js';
import type { z } from 'zod';
import { paths } from '../../app/paths.js';
import { useAction, useApi, type Loaded } from '../../app/use-api.js';
import { formatDate, timeAgo } from '../../ui/format.js';
import { Card } from '../../ui/layout.js';
import { ConfirmDialog } from '../../ui/dialog.js';
import { Empty, Loadable } from '../../ui/states.js';

export function EnvironmentsCard({ model, pointers, canRollback }: { model: string; pointers: Loaded<z.infer<typeof PointerList>>; canRollback: boolean }) {
  const history = useApi((c) => c.api((t) => t.promotions.pointerHistory)({ query: { model, limit: 200 } }), [model, pointers.data]);
  const [target, setTarget] = useState<{ environment: string; to: string } | null>(null);
  const rollback = useAction((c, env: string, to: string, reason: string) => c.api((t) => t.promotions.rollback)({ params: { env }, body: { model, to, reason } }));
  const previous = (env: string, current: string) => history.data?.items.find((m) => m.environment === env && m.version === current)?.previous ?? null;

  return (
    <Card title="Environments">
      <Loadable state={pointers} rows={2} height={44} empty={(p) => (p.items.length === 0 ? <Empty title="Not in any environment yet">Promote a version with <code>steward promote {model}:VERSION --to staging</code>.</Empty> : null)}>
        {(p) => (
          <div className="table-scroll">
            <table className="table">
              <thead>
                <tr>
                  <th>Environment</th>
                  <th>Current</th>
                  <th>Previous</th>
                  <th>Since</th>
                  <th>By</th>
                  <th aria-label="Actions" />
                </tr>
              </thead>
              <tbody>
                {p.items.map((ptr) => {
                  const prev = previous(ptr.environment, ptr.version);
                  return (
                    <tr key={ptr.environment}>
                      <td>
                        <span className="tag tag-accent">{ptr.environment}</span>
                      </td>
                      <td>
                        <Link className="row-link" to={paths.version('model', model, ptr.version)}>
                          {ptr.version}
                        </Link>
                      </td>
                      <td>{prev ? <Link to={paths.version('model', model, prev)}>{prev}</Link> : <span className="muted">—</span>}</td>
                      <td title={formatDate(ptr.since)}>{timeAgo(ptr.since)}</td>
                      <td>{ptr.by}</td>
                      <td className="num">
                        {canRollback && prev ? (
                          <button type="button" className="btn btn-small" onClick={() => setTarget({ environment: ptr.environment, to: prev })}>
                            Roll back to {prev}
                          </button>
                        ) : null}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Loadable>
      <ConfirmDialog
        open={target !== null}
        title={`Roll back ${target?.environment ?? ''}?`}
        confirmLabel={`Roll back to ${target?.to ?? ''}`}
        danger
        comment={{ label: 'Reason (recorded in the audit log)' }}
        pending={rollback.pending}
        error={rollback.error?.message ?? null}
        onClose={() => setTarget(null)}
        onConfirm={async (reason) => {
          if (!target) return;
          if (await rollback.run(target.environment, target.to, reason)) {
            setTarget(null);
            pointers.reload();
          }
        }}
      >
        {model} in <strong>{target?.environment}</strong> moves back to version <strong>{target?.to}</strong>. Its deployments follow the pointer.
      </ConfirmDialog>
    </Card>
  );
}

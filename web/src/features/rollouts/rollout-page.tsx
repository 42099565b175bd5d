/** One rollout (`/rollouts/:id`), refreshed every 2 s while it moves: its panel and its actions. */
import { Link, useParams } from 'react-router';
import { paths } from '../../app/paths.js';
import { useApi } from '../../app/use-api.js';
import { formatDate, timeAgo } from '../../ui/format.js';
import { PageHeader } from '../../ui/layout.js';
import { Pill } from '../../ui/pill.js';
import { ErrorBox, Skeleton } from '../../ui/states.js';
import { RolloutActions } from './rollout-actions.js';
import { isOpen } from './rollout-fns.js';
import { RolloutPanel } from './rollout-panel.js';

export default function RolloutPage() {
  const id = useParams().id!;
  const r = useApi((c) => c.api((t) => t.rollouts.getRollout)({ params: { id } }), [id], { pollMs: 2000 });
  const d = r.data;
  return (
    <>
      <PageHeader
        crumbs={[{ to: '/rollouts', label: 'Rollouts' }]}
        title={
          d ? (
            <>
              {d.model} {d.stable.version} → {d.candidate.version} <span className="tag tag-accent">{d.environment}</span> <Pill state={d.state} />
            </>
          ) : (
            'Rollout'
          )
        }
        subtitle={
          d ? (
            <>
              {d.strategy} · started {timeAgo(d.createdAt)} by {d.createdBy}
              {d.finishedAt ? ` · ended ${formatDate(d.finishedAt)}` : ''}
              {d.promotion ? (
                <>
                  {' · '}
                  <Link to={paths.promotion(d.promotion)}>promotion</Link>
                </>
              ) : null}
            </>
          ) : (
            '\u00a0'
          )
        }
        actions={d && isOpen(d.state) ? <RolloutActions rollout={d} onDone={r.reload} /> : null}
      />
      {r.error && !d ? <ErrorBox error={r.error} onRetry={r.reload} /> : null}
      {!d && !r.error ? <Skeleton rows={4} height={76} /> : null}
      {d ? <RolloutPanel rollout={d} /> : null}
    </>
  );
}

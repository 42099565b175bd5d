/**
 * The rollout of a model in an environment, on its deployments' pages: the open one with its
 * split, steps and actions, or a line about the last one that ended.
 */
import { Link } from 'react-router';
import { paths } from '../../app/paths.js';
import { useApi } from '../../app/use-api.js';
import { timeAgo } from '../../ui/format.js';
import { Card } from '../../ui/layout.js';
import { Pill } from '../../ui/pill.js';
import { ErrorBox } from '../../ui/states.js';
import { RolloutActions } from './rollout-actions.js';
import { isOpen } from './rollout-fns.js';
import { RolloutSplit, RolloutSteps } from './rollout-panel.js';

export function CurrentRolloutCard({ model, environment }: { model: string; environment: string }) {
  const latest = useApi((c) => c.api((t) => t.rollouts.listRollouts)({ query: { model, environment, limit: 1 } }), [model, environment], { pollMs: 5000 });
  const last = latest.data?.items[0];
  const open = last && isOpen(last.state);
  const detail = useApi((c) => c.api((t) => t.rollouts.getRollout)({ params: { id: last!.id } }), [last?.id], { enabled: Boolean(open), pollMs: 2000 });
  if (latest.error && !latest.data) return <ErrorBox error={latest.error} onRetry={latest.reload} />;
  if (!last) return null;
  if (!open) {
    return (
      <div className="banner banner-info">
        Last rollout: <Link to={paths.rollout(last.id)}>{`${last.strategy} ${last.stable.version} → ${last.candidate.version}`}</Link> <Pill state={last.state} /> <span className="muted">{timeAgo(last.finishedAt ?? last.updatedAt)}</span>
      </div>
    );
  }
  const d = detail.data;
  const reload = () => {
    detail.reload();
    latest.reload();
  };
  return (
    <Card
      title={
        <>
          Rollout in progress · {last.strategy} {last.stable.version} → {last.candidate.version} <Pill state={(d ?? last).state} />
        </>
      }
      actions={
        <>
          {d ? <RolloutActions rollout={d} onDone={reload} /> : null}
          <Link className="btn btn-ghost" to={paths.rollout(last.id)}>
            Details →
          </Link>
        </>
      }
    >
      {d ? (
        <div className="stack">
          {d.reason ? <div className="banner banner-warn" style={{ margin: 0 }}>{d.reason}</div> : null}
          <RolloutSplit rollout={d} />
          <RolloutSteps rollout={d} />
        </div>
      ) : detail.error ? (
        <ErrorBox error={detail.error} onRetry={detail.reload} />
      ) : null}
    </Card>
  );
}

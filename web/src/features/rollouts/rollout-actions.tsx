/**
 * Pause, resume, promote and abort of a rollout: each shown only when the token may call it and
 * the rollout's state allows it. Promote and abort ask first (they move all the traffic), with a
 * reason that goes to the audit log.
 */
import { useState } from 'react';
import type { RolloutResponse } from '../../../../src/contracts/rollouts.js';
import { useSession } from '../../app/session.js';
import { useAction } from '../../app/use-api.js';
import { ConfirmDialog } from '../../ui/dialog.js';
import { allowedActions, type RolloutAction } from './rollout-fns.js';

export function RolloutActions({ rollout, onDone }: { rollout: RolloutResponse; onDone(): void }) {
  const { can } = useSession();
  const [confirm, setConfirm] = useState<'promote' | 'abort' | null>(null);
  const act = useAction((c, action: RolloutAction, reason: string) => {
    const params = { id: rollout.id };
    const body = { reason };
    if (action === 'pause') return c.api((t) => t.rollouts.pauseRollout)({ params, body });
    if (action === 'resume') return c.api((t) => t.rollouts.resumeRollout)({ params, body });
    if (action === 'promote') return c.api((t) => t.rollouts.promoteRollout)({ params, body });
    return c.api((t) => t.rollouts.abortRollout)({ params, body });
  });
  const permitted: Record<RolloutAction, boolean> = {
    pause: can((t) => t.rollouts.pauseRollout),
    resume: can((t) => t.rollouts.resumeRollout),
    promote: can((t) => t.rollouts.promoteRollout),
    abort: can((t) => t.rollouts.abortRollout),
  };
  const shown = allowedActions(rollout).filter((a) => permitted[a]);
  if (shown.length === 0) return null;
  const run = async (action: RolloutAction, reason = '') => {
    if (await act.run(action, reason)) {
      setConfirm(null);
      onDone();
    }
  };
  return (
    <>
      {shown.includes('pause') ? (
        <button type="button" className="btn" disabled={act.pending} onClick={() => void run('pause')}>
          ❚❚ Pause
        </button>
      ) : null}
      {shown.includes('resume') ? (
        <button type="button" className="btn btn-primary" disabled={act.pending} onClick={() => void run('resume')}>
          ▶ Resume
        </button>
      ) : null}
      {shown.includes('promote') ? (
        <button type="button" className="btn" disabled={act.pending} onClick={() => setConfirm('promote')}>
          Promote now
        </button>
      ) : null}
      {shown.includes('abort') ? (
        <button type="button" className="btn btn-danger" disabled={act.pending} onClick={() => setConfirm('abort')}>
          Abort
        </button>
      ) : null}
      {act.error && !confirm ? <span className="delta-bad">{act.error.message}</span> : null}
      <ConfirmDialog
        open={confirm === 'promote'}
        title="Promote the candidate now?"
        confirmLabel="Promote"
        comment={{ label: 'Reason (for the audit log)' }}
        pending={act.pending}
        error={act.error?.message ?? null}
        onClose={() => setConfirm(null)}
        onConfirm={(reason) => void run('promote', reason)}
      >
        The remaining steps and analyses are skipped: {rollout.candidate.version} takes all the traffic and {rollout.environment} points at it.
      </ConfirmDialog>
      <ConfirmDialog
        open={confirm === 'abort'}
        title="Abort this rollout?"
        confirmLabel="Abort"
        danger
        comment={{ label: 'Reason (for the audit log)' }}
        pending={act.pending}
        error={act.error?.message ?? null}
        onClose={() => setConfirm(null)}
        onConfirm={(reason) => void run('abort', reason)}
      >
        All traffic returns to {rollout.stable.version} at once and the rollout ends.
      </ConfirmDialog>
    </>
  );
}

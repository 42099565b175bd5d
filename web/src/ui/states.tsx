/**
 * Loading, empty and error states, the same on every page. Skeletons keep the height of what
 * they stand for, so nothing moves when the data arrives.
 */
import type { ReactNode } from 'react';
import type { StewardApiError } from '../../../src/sdk/client.js';

export function Skeleton({ rows = 5, height = 40 }: { rows?: number; height?: number }) {
  return (
    <div className="skeleton" aria-busy="true" aria-label="Loading">
      {Array.from({ length: rows }, (_, i) => (
        <div key={i} className="skeleton-row" style={{ height }} />
      ))}
    </div>
  );
}

export function Empty({ title, children, icon = '∅' }: { title: string; children?: ReactNode; icon?: string }) {
  return (
    <div className="empty" role="status">
      <div className="empty-icon" aria-hidden="true">
        {icon}
      </div>
      <div className="empty-title">{title}</div>
      {children ? <div className="empty-body">{children}</div> : null}
    </div>
  );
}

export function ErrorBox({ error, onRetry }: { error: StewardApiError | Error; onRetry?: () => void }) {
  const code = 'code' in error ? String(error.code) : 'error';
  return (
    <div className="error-box" role="alert">
      <div>
        <strong>{code === 'not_found' ? 'Not found' : code === 'permission_denied' ? 'Not allowed' : 'Something went wrong'}</strong>
        <span className="error-code">{code}</span>
      </div>
      <p>{error.message}</p>
      {onRetry ? (
        <button type="button" className="btn btn-small" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** Renders the states of a load, then `children(data)` once there is data. */
export function Loadable<T>({ state, children, rows, height, empty }: { state: { data: T | undefined; error: StewardApiError | null; reload(): void }; children: (data: T) => ReactNode; rows?: number; height?: number; empty?: (data: T) => ReactNode | null }) {
  if (state.error && state.data === undefined) return <ErrorBox error={state.error} onRetry={state.reload} />;
  if (state.data === undefined) return <Skeleton rows={rows ?? 5} height={height ?? 40} />;
  const e = empty?.(state.data);
  if (e) return <>{e}</>;
  return <>{children(state.data)}</>;
}

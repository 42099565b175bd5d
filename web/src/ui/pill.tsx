/** Status pills: one colour per meaning (good, waiting, bad, neutral), whatever the state's name. */

const TONES: Record<string, 'good' | 'warn' | 'bad' | 'info' | 'muted'> = {
  ready: 'good',
  succeeded: 'good',
  completed: 'good',
  passed: 'good',
  approve: 'good',
  ok: 'good',
  better: 'good',
  fixed: 'good',
  pending: 'warn',
  checking: 'info',
  rolling_out: 'info',
  paused: 'warn',
  aborted: 'bad',
  queued: 'info',
  running: 'info',
  starting: 'info',
  restarting: 'warn',
  degraded: 'warn',
  inconclusive: 'warn',
  pass: 'good',
  fail: 'bad',
  interrupted: 'warn',
  deprecated: 'warn',
  failed: 'bad',
  rejected: 'bad',
  reject: 'bad',
  error: 'bad',
  unhealthy: 'bad',
  worse: 'bad',
  broke: 'bad',
  cancelled: 'muted',
  expired: 'muted',
  stopped: 'muted',
  archived: 'muted',
};

export function Pill({ state, label }: { state: string; label?: string }) {
  return <span className={`pill pill-${TONES[state] ?? 'muted'}`}>{label ?? state}</span>;
}

export function Tag({ children, title }: { children: string; title?: string }) {
  return (
    <span className="tag" title={title}>
      {children}
    </span>
  );
}

export function Labels({ labels }: { labels: Record<string, string> }) {
  const entries = Object.entries(labels);
  if (entries.length === 0) return <span className="muted">—</span>;
  return (
    <span className="tags">
      {entries.map(([k, v]) => (
        <Tag key={k}>{`${k}=${v}`}</Tag>
      ))}
    </span>
  );
}

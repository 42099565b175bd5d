/** The frame of every page: the sidebar (a drawer on a narrow screen), the header with who is signed in, and the page. */
import { useEffect, useState, type ReactNode } from 'react';
import { NavLink, useLocation } from 'react-router';
import { useSession } from './session.js';
import { useApi } from './use-api.js';

const NAV: { to: string; label: string; icon: string; permission?: 'audit:read' }[] = [
  { to: '/models', label: 'Models', icon: '◆' },
  { to: '/datasets', label: 'Datasets', icon: '▤' },
  { to: '/prompts', label: 'Prompts', icon: '❝' },
  { to: '/evals', label: 'Evaluations', icon: '✓' },
  { to: '/environments', label: 'Environments', icon: '⇢' },
  { to: '/promotions', label: 'Promotions', icon: '↑' },
  { to: '/deployments', label: 'Deployments', icon: '◉' },
  { to: '/rollouts', label: 'Rollouts', icon: '⇄' },
  { to: '/audit', label: 'Audit log', icon: '≡', permission: 'audit:read' },
];

/** Fired on window when a promotion was decided here, so the approvals count refreshes at once. */
export const PROMOTIONS_CHANGED = 'steward:promotions-changed';

export function AppShell({ children }: { children: ReactNode }) {
  const { me, can, signOut } = useSession();
  const [open, setOpen] = useState(false);
  const location = useLocation();
  useEffect(() => setOpen(false), [location.pathname]);
  // The approvals inbox count, for those who approve.
  const inbox = useApi((c) => c.api((t) => t.promotions.listPromotions)({ query: { state: 'pending', limit: 100 } }), [], { pollMs: 30_000, enabled: can('promotion:approve') });
  const pending = inbox.data?.items.length ?? 0;
  const reloadInbox = inbox.reload;
  useEffect(() => {
    window.addEventListener(PROMOTIONS_CHANGED, reloadInbox);
    return () => window.removeEventListener(PROMOTIONS_CHANGED, reloadInbox);
  }, [reloadInbox]);
  return (
    <div className={open ? 'shell nav-open' : 'shell'}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar" aria-label="Main navigation">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            S
          </span>
          Steward
        </div>
        <nav>
          {NAV.filter((n) => !n.permission || can(n.permission)).map((n) => (
            <NavLink key={n.to} to={n.to} className={({ isActive }) => (isActive ? 'nav-item active' : 'nav-item')}>
              <span className="nav-icon" aria-hidden="true">
                {n.icon}
              </span>
              <span>{n.label}</span>
              {n.to === '/promotions' && pending > 0 ? (
                <span className="nav-badge" aria-label={`${pending} waiting for approval`}>
                  {pending}
                </span>
              ) : null}
            </NavLink>
          ))}
        </nav>
        <div className="sidebar-foot">
          <div className="whoami">
            <div className="avatar" aria-hidden="true">
              {me.name.slice(0, 1).toUpperCase()}
            </div>
            <div>
              <div className="whoami-name">{me.name}</div>
              <div className="whoami-role">
                {me.role}
                {me.namespaces ? ` · ${me.namespaces.join(', ')}` : ''}
              </div>
            </div>
          </div>
          <button type="button" className="btn btn-ghost btn-small" onClick={signOut}>
            Sign out
          </button>
        </div>
      </aside>
      <div className="topbar">
        <button type="button" className="btn btn-ghost menu-button" aria-label="Menu" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
          <svg width="20" height="20" viewBox="0 0 20 20" aria-hidden="true">
            <path d="M3 5h14M3 10h14M3 15h14" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
          </svg>
        </button>
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            S
          </span>
          Steward
        </div>
      </div>
      <div className="scrim" onClick={() => setOpen(false)} aria-hidden="true" />
      <main id="main" className="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

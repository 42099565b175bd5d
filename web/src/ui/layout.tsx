/** Page building blocks: the header of a page, cards, key/value lists, tabs bound to the URL. */
import type { ReactNode } from 'react';
import { Link, useSearchParams } from 'react-router';

export function PageHeader({ title, subtitle, crumbs, actions }: { title: ReactNode; subtitle?: ReactNode; crumbs?: { to: string; label: string }[]; actions?: ReactNode }) {
  return (
    <header className="page-header">
      {crumbs?.length ? (
        <nav className="crumbs" aria-label="Breadcrumb">
          {crumbs.map((c) => (
            <span key={c.to}>
              <Link to={c.to}>{c.label}</Link>
              <span aria-hidden="true"> / </span>
            </span>
          ))}
        </nav>
      ) : null}
      <div className="page-header-row">
        <div className="page-title-block">
          <h1>{title}</h1>
          {subtitle ? <div className="page-subtitle">{subtitle}</div> : null}
        </div>
        {actions ? <div className="page-actions">{actions}</div> : null}
      </div>
    </header>
  );
}

export function Card({ title, actions, children, className = '', id }: { title?: ReactNode; actions?: ReactNode; children: ReactNode; className?: string; id?: string }) {
  return (
    <section className={`card ${className}`} id={id} aria-label={typeof title === 'string' ? title : undefined}>
      {title || actions ? (
        <div className="card-header">
          {title ? <h2>{title}</h2> : <span />}
          {actions ? <div className="card-actions">{actions}</div> : null}
        </div>
      ) : null}
      <div className="card-body">{children}</div>
    </section>
  );
}

export function KeyValues({ items }: { items: [string, ReactNode][] }) {
  return (
    <dl className="kv">
      {items.map(([k, v]) => (
        <div key={k} className="kv-row">
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Stat({ label, value, hint }: { label: string; value: ReactNode; hint?: ReactNode }) {
  return (
    <div className="stat">
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
      {hint ? <div className="stat-hint">{hint}</div> : null}
    </div>
  );
}

/**
 * The page's query parameters and a setter for one of them (empty removes it), replacing the
 * history entry: filters live in the URL, so a filtered page has its own link.
 */
export function useQueryParams(): [URLSearchParams, (key: string, value: string) => void] {
  const [params, setParams] = useSearchParams();
  const set = (key: string, value: string) =>
    setParams(
      (p) => {
        const n = new URLSearchParams(p);
        if (value) n.set(key, value);
        else n.delete(key);
        return n;
      },
      { replace: true },
    );
  return [params, set];
}

/** Tabs whose selection is the `tab` query parameter, so a tab has its own URL. */
export function useTab(tabs: readonly string[]): [string, (t: string) => void] {
  const [params, setParams] = useSearchParams();
  const current = params.get('tab');
  const tab = current && tabs.includes(current) ? current : tabs[0]!;
  return [
    tab,
    (t) =>
      setParams(
        (p) => {
          const n = new URLSearchParams(p);
          if (t === tabs[0]) n.delete('tab');
          else n.set('tab', t);
          return n;
        },
        { replace: true },
      ),
  ];
}

export function Tabs({ tabs, current, onChange, labels = {} }: { tabs: readonly string[]; current: string; onChange(t: string): void; labels?: Record<string, ReactNode> }) {
  return (
    <div className="tabs" role="tablist">
      {tabs.map((t) => (
        <button key={t} type="button" role="tab" aria-selected={t === current} className={t === current ? 'tab active' : 'tab'} onClick={() => onChange(t)}>
          {labels[t] ?? t[0]!.toUpperCase() + t.slice(1)}
        </button>
      ))}
    </div>
  );
}

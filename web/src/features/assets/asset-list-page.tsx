/**
 * The list of models (or datasets, or prompts): search by name, filter by labels and — for
 * models — by architecture, framework and environment. Filters live in the URL, so a filtered
 * list is a link. Without a filter it pages through the API (50 at a time); a filter on version
 * metadata or an environment narrows the names first, then the list shows the matching ones.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { Link } from 'react-router';
import type { AssetKind } from '../../../../src/contracts/asset-names.js';
import type { AssetResponse } from '../../../../src/contracts/assets.js';
import { paths } from '../../app/paths.js';
import { useSession } from '../../app/session.js';
import { useApi } from '../../app/use-api.js';
import { formatDate, timeAgo } from '../../ui/format.js';
import { PageHeader, useQueryParams } from '../../ui/layout.js';
import { Labels } from '../../ui/pill.js';
import { Empty, ErrorBox, Skeleton } from '../../ui/states.js';
import type { StewardClient } from '../../../../src/sdk/client.js';

const TITLES: Record<AssetKind, { title: string; one: string; blurb: string }> = {
  model: { title: 'Models', one: 'model', blurb: 'Registered models, their versions, evaluations and where they run.' },
  dataset: { title: 'Datasets', one: 'dataset', blurb: 'Versioned datasets and evaluation suites, with their datasheets.' },
  prompt: { title: 'Prompts', one: 'prompt', blurb: 'Versioned prompt templates, their variables and safety checks.' },
};

const PAGE = 50;

interface Filters {
  q: string;
  label: string;
  architecture: string;
  framework: string;
  environment: string;
}

/** Names allowed by the filters that the asset listing cannot apply itself; null: no such filter. */
async function allowedNames(client: StewardClient, kind: AssetKind, f: Filters): Promise<Set<string> | null> {
  const sets: Set<string>[] = [];
  if (kind === 'model' && (f.architecture || f.framework)) {
    const versions = await client.listVersions('model', '-', { ...(f.architecture ? { architecture: f.architecture } : {}), ...(f.framework ? { framework: f.framework } : {}), limit: 1000 });
    sets.push(new Set(versions.items.map((v) => v.name)));
  }
  if (kind === 'model' && f.environment) {
    const pointers = await client.api((t) => t.promotions.listPointers)({ query: { environment: f.environment } });
    sets.push(new Set(pointers.items.map((p) => p.model)));
  }
  if (sets.length === 0) return null;
  return new Set([...sets[0]!].filter((n) => sets.every((s) => s.has(n))));
}

export function AssetListPage({ kind }: { kind: AssetKind }) {
  const [params, setParam] = useQueryParams();
  const filters: Filters = {
    q: params.get('q') ?? '',
    label: params.get('label') ?? '',
    architecture: params.get('architecture') ?? '',
    framework: params.get('framework') ?? '',
    environment: params.get('environment') ?? '',
  };
  const key = JSON.stringify([kind, filters]);
  const label = /^[^=]+=.*$/.test(filters.label) ? [filters.label] : undefined;
  const query = { ...(filters.q ? { q: filters.q } : {}), ...(label ? { label } : {}) };
  const list = useApi(
    async (client) => {
      const allowed = await allowedNames(client, kind, filters);
      const res = await client.listAssets(kind, { ...query, limit: allowed ? 1000 : PAGE });
      return allowed ? { items: res.items.filter((a) => allowed.has(a.name)), nextCursor: null } : res;
    },
    [key],
    { keep: true },
  );
  // Further pages, appended by "Load more"; a new filter starts again from the first page.
  const { client } = useSession();
  const [more, setMore] = useState<{ key: string; items: AssetResponse[]; nextCursor: string | null; loading: boolean }>({ key: '', items: [], nextCursor: null, loading: false });
  const extra = more.key === key ? more : null;
  const loadMore = async (cursor: string) => {
    setMore((m) => ({ ...(m.key === key ? m : { key, items: [], nextCursor: null }), loading: true }));
    const res = await client.listAssets(kind, { ...query, limit: PAGE, cursor }).catch(() => null);
    setMore((m) => (m.key === key || m.items.length === 0 ? { key, items: [...(m.key === key ? m.items : []), ...(res?.items ?? [])], nextCursor: res ? res.nextCursor : cursor, loading: false } : m));
  };
  const environments = useApi((c) => c.api((t) => t.promotions.listEnvironments)({}), [], { enabled: kind === 'model' });
  const envNames = useMemo(() => [...new Set((environments.data?.items ?? []).map((e) => e.name))], [environments.data]);

  // Typing updates the URL (and so the list) once the user pauses, not at every key.
  const typing = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  // A pending update must not fire after the user has left the page (it would navigate back).
  useEffect(() => () => clearTimeout(typing.current), []);
  const set = (k: keyof Filters, v: string, delayMs = 0) => {
    clearTimeout(typing.current);
    const apply = () => setParam(k, v);
    // The list stays on screen while a clicked page's code loads (a transition): by then the
    // address is the new page's, and the update must not bring the user back to the list.
    const from = window.location.pathname;
    if (delayMs) typing.current = setTimeout(() => window.location.pathname === from && apply(), delayMs);
    else apply();
  };
  const filtered = Object.values(filters).some(Boolean);
  const rows = [...(list.data?.items ?? []), ...(extra?.items ?? [])];
  const nextCursor = extra ? extra.nextCursor : (list.data?.nextCursor ?? null);
  const t = TITLES[kind];

  return (
    <>
      <PageHeader title={t.title} subtitle={t.blurb} />
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label className="field field-grow">
          <span>Search</span>
          <input type="search" placeholder={`Find a ${t.one} by name`} defaultValue={filters.q} onChange={(e) => set('q', e.target.value.trim(), 250)} name="q" />
        </label>
        <label className="field">
          <span>Label</span>
          <input type="text" placeholder="key=value" defaultValue={filters.label} onChange={(e) => set('label', e.target.value.trim(), 250)} name="label" />
        </label>
        {kind === 'model' ? (
          <>
            <label className="field">
              <span>Architecture</span>
              <input type="text" placeholder="e.g. llama" defaultValue={filters.architecture} onChange={(e) => set('architecture', e.target.value.trim(), 250)} name="architecture" />
            </label>
            <label className="field">
              <span>Framework</span>
              <input type="text" placeholder="e.g. gguf" defaultValue={filters.framework} onChange={(e) => set('framework', e.target.value.trim(), 250)} name="framework" />
            </label>
            <label className="field">
              <span>Environment</span>
              <select value={filters.environment} onChange={(e) => set('environment', e.target.value)} name="environment">
                <option value="">Any</option>
                {envNames.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </label>
          </>
        ) : null}
      </form>
      <div className="table-card">
        {list.error && !list.data ? (
          <ErrorBox error={list.error} onRetry={list.reload} />
        ) : !list.data ? (
          <Skeleton rows={10} height={49} />
        ) : rows.length === 0 ? (
          <Empty title={filtered ? `No ${t.one} matches these filters` : `No ${t.title.toLowerCase()} yet`}>
            {filtered ? 'Clear a filter to see more.' : kind === 'model' ? <>Push one with <code>steward push DIR --model NAME --version 1.0.0</code>.</> : <>Push one with <code>steward {t.one} push</code>.</>}
          </Empty>
        ) : (
          <>
            <div className="table-scroll">
              <table className="table">
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Latest</th>
                    <th className="num">Versions</th>
                    <th>Labels</th>
                    <th>Owner</th>
                    <th>Updated</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((a) => (
                    <tr key={a.name}>
                      <td>
                        <Link className="row-link" to={paths.asset(kind, a.name)}>
                          {a.namespace ? <span className="ns">{a.namespace}/</span> : null}
                          {a.namespace ? a.name.slice(a.namespace.length + 1) : a.name}
                        </Link>
                        {a.description ? <div className="cell-sub">{a.description}</div> : null}
                      </td>
                      <td>{a.latestVersion ? <Link to={paths.version(kind, a.name, a.latestVersion)}>{a.latestVersion}</Link> : <span className="muted">—</span>}</td>
                      <td className="num">{a.versionCount}</td>
                      <td>
                        <Labels labels={a.labels} />
                      </td>
                      <td>{a.owner ?? <span className="muted">—</span>}</td>
                      <td title={formatDate(a.updatedAt)}>{timeAgo(a.updatedAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div className="table-foot">
              <span className="muted">
                {rows.length} {rows.length === 1 ? t.one : `${t.one}s`}
                {nextCursor ? ' shown' : ''}
              </span>
              {nextCursor ? (
                <button type="button" className="btn btn-small" disabled={extra?.loading} onClick={() => void loadMore(nextCursor)}>
                  Load more
                </button>
              ) : null}
            </div>
          </>
        )}
      </div>
    </>
  );
}

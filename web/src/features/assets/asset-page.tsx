/**
 * One model (dataset, prompt): what it is, where it runs (each environment's current version,
 * with rollback for those allowed), and its versions — state, size, digest, who made it,
 * aliases, environments — two of which can be picked for a side-by-side comparison.
 */
import { useMemo, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import type { AssetKind } from '../../../../src/contracts/asset-names.js';
import { paths } from '../../app/paths.js';
import { useSession } from '../../app/session.js';
import { useApi } from '../../app/use-api.js';
import { formatBytes, formatDate, shortDigest, timeAgo } from '../../ui/format.js';
import { Card, PageHeader, Stat } from '../../ui/layout.js';
import { Labels, Pill, Tag } from '../../ui/pill.js';
import { Empty, Loadable } from '../../ui/states.js';
import { EnvironmentsCard } from '../promotions/environments-card.js';

export function AssetPage({ kind, name }: { kind: AssetKind; name: string }) {
  const { can } = useSession();
  const navigate = useNavigate();
  const asset = useApi((c) => c.getAsset(kind, name), [kind, name]);
  const versions = useApi((c) => c.listVersions(kind, name, { limit: 200, sort: 'created', order: 'desc' }), [kind, name]);
  const pointers = useApi((c) => c.api((t) => t.promotions.listPointers)({ query: { model: name } }), [name], { enabled: kind === 'model' });
  const [picked, setPicked] = useState<string[]>([]);
  const envsByVersion = useMemo(() => {
    const m = new Map<string, string[]>();
    for (const p of pointers.data?.items ?? []) m.set(p.version, [...(m.get(p.version) ?? []), p.environment]);
    return m;
  }, [pointers.data]);
  const toggle = (v: string) => setPicked((p) => (p.includes(v) ? p.filter((x) => x !== v) : [...p.slice(-1), v]));
  const title = kind === 'model' ? 'Models' : kind === 'dataset' ? 'Datasets' : 'Prompts';

  return (
    <>
      <PageHeader
        crumbs={[{ to: paths.assets(kind), label: title }]}
        title={name}
        subtitle={asset.data?.description || (asset.data ? <span className="muted">No description</span> : '\u00a0')}
        actions={
          picked.length === 2 ? (
            <button type="button" className="btn btn-primary" onClick={() => navigate(paths.compare(kind, name, picked[0]!, picked[1]!))}>
              Compare {picked[0]} ↔ {picked[1]}
            </button>
          ) : null
        }
      />
      <Loadable state={asset} rows={1} height={76}>
        {(a) => (
          <div className="stats">
            <Stat label="Versions" value={a.versionCount} />
            <Stat label="Latest" value={a.latestVersion ?? '—'} />
            <Stat label="Owner" value={a.owner ?? '—'} />
            <Stat label="Updated" value={timeAgo(a.updatedAt)} hint={formatDate(a.updatedAt)} />
            <Stat label="Labels" value={<Labels labels={a.labels} />} />
          </div>
        )}
      </Loadable>
      <div className="stack">
        {kind === 'model' ? <EnvironmentsCard model={name} pointers={pointers} canRollback={can((t) => t.promotions.rollback)} /> : null}
        <Card title="Versions" actions={<span className="muted">{picked.length < 2 ? 'Tick two versions to compare them' : ''}</span>}>
          <Loadable state={versions} rows={4} height={45} empty={(v) => (v.items.length === 0 ? <Empty title="No versions yet" /> : null)}>
            {(v) => (
              <div className="table-scroll">
                <table className="table">
                  <thead>
                    <tr>
                      <th aria-label="Compare" />
                      <th>Version</th>
                      <th>State</th>
                      <th className="num">Size</th>
                      <th>Digest</th>
                      <th>Created by</th>
                      <th>Created</th>
                      <th>Aliases</th>
                      {kind === 'model' ? <th>Environments</th> : null}
                    </tr>
                  </thead>
                  <tbody>
                    {v.items.map((ver) => (
                      <tr key={ver.version} className={picked.includes(ver.version) ? 'selected' : ''}>
                        <td>
                          <input type="checkbox" aria-label={`Compare ${ver.version}`} checked={picked.includes(ver.version)} onChange={() => toggle(ver.version)} />
                        </td>
                        <td>
                          <Link className="row-link" to={paths.version(kind, name, ver.version)}>
                            {ver.version}
                          </Link>
                        </td>
                        <td>
                          <Pill state={ver.state} />
                        </td>
                        <td className="num">{formatBytes(ver.size)}</td>
                        <td>
                          <span className="digest" title={ver.digest}>
                            {shortDigest(ver.digest)}
                          </span>
                        </td>
                        <td>{ver.createdBy ?? '—'}</td>
                        <td title={formatDate(ver.createdAt)}>{timeAgo(ver.createdAt)}</td>
                        <td>
                          <span className="tags">{ver.aliases.length ? ver.aliases.map((a) => <Tag key={a}>{a}</Tag>) : <span className="muted">—</span>}</span>
                        </td>
                        {kind === 'model' ? (
                          <td>
                            <span className="tags">
                              {(envsByVersion.get(ver.version) ?? []).map((e) => (
                                <span key={e} className="tag tag-accent">
                                  {e}
                                </span>
                              ))}
                            </span>
                          </td>
                        ) : null}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </Loadable>
        </Card>
      </div>
    </>
  );
}

/** Two versions side by side: metadata, labels, files and metrics that differ, from the API's comparison. */
import { Link, useSearchParams } from 'react-router';
import type { AssetKind } from '../../../../src/contracts/asset-names.js';
import { paths } from '../../app/paths.js';
import { useApi } from '../../app/use-api.js';
import { formatBytes, formatDelta, formatMetric, formatValue, shortDigest } from '../../ui/format.js';
import { Card, PageHeader } from '../../ui/layout.js';
import { Pill } from '../../ui/pill.js';
import { Empty, Loadable } from '../../ui/states.js';

export function ComparePage({ kind, name }: { kind: AssetKind; name: string }) {
  const [params] = useSearchParams();
  const a = params.get('a') ?? '';
  const b = params.get('b') ?? '';
  const cmp = useApi((c) => c.compare(kind, name, a, b), [kind, name, a, b], { enabled: Boolean(a && b) });
  const title = kind === 'model' ? 'Models' : kind === 'dataset' ? 'Datasets' : 'Prompts';
  return (
    <>
      <PageHeader
        crumbs={[
          { to: paths.assets(kind), label: title },
          { to: paths.asset(kind, name), label: name },
        ]}
        title={
          <>
            Compare <span className="muted">{a}</span> ↔ <span className="muted">{b}</span>
          </>
        }
      />
      {!a || !b ? (
        <Empty title="Pick two versions">Tick two versions on the model's page.</Empty>
      ) : (
        <Loadable state={cmp} rows={6} height={44}>
          {(d) => (
            <div className="stack">
              <div className="grid-2">
                {[d.a, d.b].map((side) => (
                  <Card key={side.version} title={<Link to={paths.version(kind, side.name, side.version)}>{`${side.name} ${side.version}`}</Link>}>
                    <span className="digest">sha256:{shortDigest(side.digest)}</span>
                  </Card>
                ))}
              </div>
              {d.sameContent ? <div className="banner banner-info">Both versions hold exactly the same files.</div> : null}
              <Card title="Metrics">
                {d.metrics.length === 0 ? (
                  <Empty title="No metrics to compare" />
                ) : (
                  <table className="table">
                    <thead>
                      <tr>
                        <th>Metric</th>
                        <th className="num">{d.a.version}</th>
                        <th className="num">{d.b.version}</th>
                        <th className="num">Δ</th>
                      </tr>
                    </thead>
                    <tbody>
                      {d.metrics.map((m) => (
                        <tr key={m.metric}>
                          <td>{m.metric}</td>
                          <td className="num">{formatMetric(m.before)}</td>
                          <td className="num">{formatMetric(m.after)}</td>
                          <td className={`num ${m.delta === null || m.delta === 0 ? '' : m.delta > 0 ? 'delta-good' : 'delta-bad'}`}>{formatDelta(m.delta)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </Card>
              <Card title="Metadata and labels">
                {d.metadata.length + d.labels.length === 0 ? (
                  <Empty title="Same metadata and labels" />
                ) : (
                  <table className="table">
                    <thead>
                      <tr>
                        <th>Key</th>
                        <th>Change</th>
                        <th>{d.a.version}</th>
                        <th>{d.b.version}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {[...d.metadata.map((m) => ({ ...m, key: m.key })), ...d.labels.map((m) => ({ ...m, key: `label ${m.key}` }))].map((m) => (
                        <tr key={m.key}>
                          <td className="mono">{m.key}</td>
                          <td>
                            <Pill state={m.change === 'added' ? 'ready' : m.change === 'removed' ? 'failed' : 'pending'} label={m.change} />
                          </td>
                          <td className="mono">{formatValue(m.before)}</td>
                          <td className="mono">{formatValue(m.after)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </Card>
              <Card title="Files" actions={<span className="muted">{d.unchangedFiles} unchanged</span>}>
                {d.files.length === 0 ? (
                  <Empty title="Same files" />
                ) : (
                  <table className="table">
                    <thead>
                      <tr>
                        <th>Path</th>
                        <th>Change</th>
                        <th className="num">{d.a.version}</th>
                        <th className="num">{d.b.version}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {d.files.map((f) => (
                        <tr key={f.path}>
                          <td className="mono">{f.path}</td>
                          <td>
                            <Pill state={f.change === 'added' ? 'ready' : f.change === 'removed' ? 'failed' : 'pending'} label={f.change} />
                          </td>
                          <td className="num">{f.before ? `${formatBytes(f.before.size)} · ${shortDigest(f.before.sha256)}` : '—'}</td>
                          <td className="num">{f.after ? `${formatBytes(f.after.size)} · ${shortDigest(f.after.sha256)}` : '—'}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </Card>
            </div>
          )}
        </Loadable>
      )}
    </>
  );
}

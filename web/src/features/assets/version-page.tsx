/**
 * One version: its card (markdown, sanitised), typed metadata, files, evaluations with their
 * intervals, and lineage — or, for a prompt, its template, diff and playground; for a dataset,
 * its datasheet. Each tab has its own URL (`?tab=`).
 */
import { lazy, Suspense } from 'react';
import { Link } from 'react-router';
import type { AssetKind } from '../../../../src/contracts/asset-names.js';
import { paths } from '../../app/paths.js';
import { useApi } from '../../app/use-api.js';
import { formatBytes, formatDate, shortDigest, timeAgo } from '../../ui/format.js';
import { Card, KeyValues, PageHeader, Tabs, useTab } from '../../ui/layout.js';
import { Labels, Pill, Tag } from '../../ui/pill.js';
import { Empty, ErrorBox, Loadable, Skeleton } from '../../ui/states.js';
import type { VersionDoc } from './asset-types.js';
import { DatasetStatsPanel } from './dataset-stats-panel.js';
import { EvaluationsPanel } from './evaluations-panel.js';
import { LineageGraph } from './lineage-graph.js';
import { metadataRows } from './metadata-fns.js';

const Markdown = lazy(() => import('../../ui/markdown.js'));
const PromptTemplatePanel = lazy(() => import('../prompts/prompt-template-panel.js'));
const PromptDiffPanel = lazy(() => import('../prompts/prompt-diff-panel.js'));
const PromptPlayground = lazy(() => import('../prompts/prompt-playground.js'));

const TABS: Record<AssetKind, readonly string[]> = {
  model: ['overview', 'files', 'evaluations', 'lineage'],
  dataset: ['datasheet', 'files', 'lineage'],
  prompt: ['template', 'diff', 'playground'],
};

export function VersionPage({ kind, name, version }: { kind: AssetKind; name: string; version: string }) {
  const doc = useApi((c) => c.getVersion(kind, name, version) as Promise<VersionDoc>, [kind, name, version]);
  const [tab, setTab] = useTab(TABS[kind]);
  const title = kind === 'model' ? 'Models' : kind === 'dataset' ? 'Datasets' : 'Prompts';
  const v = doc.data;
  return (
    <>
      <PageHeader
        crumbs={[
          { to: paths.assets(kind), label: title },
          { to: paths.asset(kind, name), label: name },
        ]}
        title={
          <>
            {name} <span className="muted">{version}</span> {v ? <Pill state={v.state} /> : null}
          </>
        }
        subtitle={
          v ? (
            <span className="row">
              <span className="digest" title={v.digest}>
                sha256:{shortDigest(v.digest)}
              </span>
              <span>· {formatBytes(v.size)}</span>
              <span>
                · created {timeAgo(v.createdAt)} by {v.createdBy ?? 'unknown'}
              </span>
              {v.aliases.map((a) => (
                <Tag key={a}>{a}</Tag>
              ))}
              {v.environments?.current.map((e) => (
                <span key={e.environment} className="tag tag-accent" title={`since ${formatDate(e.since)}`}>
                  {e.environment}
                </span>
              ))}
            </span>
          ) : (
            '\u00a0'
          )
        }
      />
      <Tabs tabs={TABS[kind]} current={tab} onChange={setTab} />
      {doc.error && !v ? <ErrorBox error={doc.error} onRetry={doc.reload} /> : null}
      {!v && !doc.error ? <Skeleton rows={6} height={48} /> : null}
      {v ? (
        <Suspense fallback={<Skeleton rows={6} height={48} />}>
          {tab === 'overview' || tab === 'datasheet' ? <Overview kind={kind} v={v} /> : null}
          {tab === 'files' ? <Files v={v} /> : null}
          {tab === 'evaluations' ? <EvaluationsPanel v={v} /> : null}
          {tab === 'lineage' ? <Lineage kind={kind} name={name} version={version} /> : null}
          {tab === 'template' ? <PromptTemplatePanel v={v} /> : null}
          {tab === 'diff' ? <PromptDiffPanel name={name} version={version} /> : null}
          {tab === 'playground' ? <PromptPlayground v={v} /> : null}
        </Suspense>
      ) : null}
    </>
  );
}

function Overview({ kind, v }: { kind: AssetKind; v: VersionDoc }) {
  const rows = metadataRows(v.metadata);
  const suite = kind === 'dataset' ? (v.metadata.evalSuite as { metrics?: { metric: string }[] } | undefined) : undefined;
  return (
    <div className="grid-2" style={{ alignItems: 'start' }}>
      <Card title={kind === 'dataset' ? 'Datasheet' : 'Model card'}>
        {v.card ? <Markdown source={v.card} /> : <Empty title={kind === 'dataset' ? 'No datasheet' : 'No model card'}>Push one with <code>--card README.md</code>.</Empty>}
      </Card>
      <div className="stack">
        {kind === 'dataset' ? <DatasetStatsPanel metadata={v.metadata} /> : null}
        {suite?.metrics ? (
          <Card title="Evaluation suite">
            <KeyValues items={[['Metrics', suite.metrics.map((m) => m.metric).join(', ')]]} />
          </Card>
        ) : null}
        <Card title="Metadata">{rows.length ? <KeyValues items={rows} /> : <Empty title="No metadata" />}</Card>
        <Card title="Details">
          <KeyValues
            items={[
              ['State', <Pill key="s" state={v.state} />],
              ['Labels', <Labels key="l" labels={v.labels} />],
              ['Files', `${v.fileCount} (${formatBytes(v.size)})`],
              ['Digest', <span key="d" className="digest">{v.digest}</span>],
              ['Created', `${formatDate(v.createdAt)} by ${v.createdBy ?? 'unknown'}`],
              ['Ready', formatDate(v.readyAt)],
            ]}
          />
        </Card>
      </div>
    </div>
  );
}

function Files({ v }: { v: VersionDoc }) {
  const files = v.files ?? [];
  return (
    <div className="table-card">
      {files.length === 0 ? (
        <Empty title="No files" />
      ) : (
        <div className="table-scroll">
          <table className="table">
            <thead>
              <tr>
                <th>Path</th>
                <th className="num">Size</th>
                <th>sha256</th>
              </tr>
            </thead>
            <tbody>
              {files.map((f) => (
                <tr key={f.path}>
                  <td className="mono">{f.path}</td>
                  <td className="num">{formatBytes(f.size)}</td>
                  <td>
                    <span className="digest" title={f.sha256}>
                      {f.sha256}
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="table-foot">
        <span className="muted">
          {v.fileCount} files · {formatBytes(v.size)}
        </span>
        {v.filesReleasedAt ? <span className="muted">Files released {formatDate(v.filesReleasedAt)}</span> : null}
      </div>
    </div>
  );
}

function Lineage({ kind, name, version }: { kind: AssetKind; name: string; version: string }) {
  const coll = kind === 'model' ? 'models' : kind === 'dataset' ? 'datasets' : 'prompts';
  const graph = useApi((c) => c.api((t) => t[coll].lineage)({ params: { name, version }, query: { direction: 'both', depth: 6 } }), [coll, name, version]);
  return (
    <Card title="Lineage" actions={<span className="muted">Upstream on the left, derived versions on the right</span>}>
      <Loadable state={graph} rows={3} height={60} empty={(g) => (g.nodes.length <= 1 ? <Empty title="No lineage recorded">This version names no parent, base model or dataset, and nothing derives from it.</Empty> : null)}>
        {(g) => <LineageGraph graph={g} />}
      </Loadable>
      <p className="muted" style={{ marginBottom: 0 }}>
        <Link to={paths.asset(kind, name)}>All versions of {name}</Link>
      </p>
    </Card>
  );
}

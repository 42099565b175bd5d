/**
 * A dataset version's statistics as `steward dataset push` records them in its metadata: rows
 * by split, columns, and per file the rows, null counts and text lengths of each column, with
 * the lines that did not parse.
 */
import { formatCount } from '../../ui/format.js';
import { Card, Stat } from '../../ui/layout.js';
import { Empty } from '../../ui/states.js';

interface ColumnStats {
  nulls: number;
  text: { count: number; min: number; p50: number; p90: number; max: number; mean: number } | null;
}
interface FileStats {
  path: string;
  format: string;
  split: string | null;
  rows: number;
  columns: Record<string, ColumnStats>;
  errors: { line: number; message: string }[];
  moreErrors: number;
}

/** The statistics in a dataset version's metadata, or null when it has none (pushed without the CLI). */
export function datasetStatistics(metadata: Record<string, unknown>): { rows: number; splits: Record<string, number>; columns: string[]; files: FileStats[] } | null {
  if (typeof metadata.rows !== 'number' || !Array.isArray(metadata.statistics)) return null;
  return {
    rows: metadata.rows,
    splits: (metadata.splits ?? {}) as Record<string, number>,
    columns: Array.isArray(metadata.columns) ? (metadata.columns as string[]) : [],
    files: metadata.statistics as FileStats[],
  };
}

export function DatasetStatsPanel({ metadata }: { metadata: Record<string, unknown> }) {
  const stats = datasetStatistics(metadata);
  if (!stats) return null;
  const splits = Object.entries(stats.splits);
  return (
    <>
      <div className="stats">
        <Stat label="Rows" value={formatCount(stats.rows)} hint={splits.length ? splits.map(([k, v]) => `${k} ${formatCount(v)}`).join(' · ') : undefined} />
        <Stat label="Columns" value={stats.columns.length} />
        <Stat label="Format" value={String(metadata.format ?? '—')} />
        <Stat label="License" value={String(metadata.license ?? '—')} />
      </div>
      {stats.files.map((f) => (
        <Card key={f.path} title={<span className="mono">{f.path}</span>} actions={<span className="muted">{`${f.format}${f.split ? ` · ${f.split}` : ''} · ${f.rows.toLocaleString('en-US')} rows`}</span>}>
          {Object.keys(f.columns).length === 0 ? (
            <Empty title="No columns" />
          ) : (
            <div className="table-scroll">
              <table className="table table-compact">
                <thead>
                  <tr>
                    <th>Column</th>
                    <th className="num">Nulls</th>
                    <th className="num">Text p50</th>
                    <th className="num">p90</th>
                    <th className="num">Max</th>
                  </tr>
                </thead>
                <tbody>
                  {Object.entries(f.columns).map(([name, c]) => (
                    <tr key={name}>
                      <td className="mono">{name}</td>
                      <td className={`num ${c.nulls ? 'delta-bad' : ''}`}>{c.nulls}</td>
                      <td className="num">{c.text ? c.text.p50 : '—'}</td>
                      <td className="num">{c.text ? c.text.p90 : '—'}</td>
                      <td className="num">{c.text ? c.text.max : '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {f.errors.length ? (
            <div className="banner banner-warn" style={{ marginTop: 12, marginBottom: 0 }}>
              {f.errors.length + f.moreErrors} line(s) did not parse; first at line {f.errors[0]!.line}: {f.errors[0]!.message}
            </div>
          ) : null}
        </Card>
      ))}
    </>
  );
}

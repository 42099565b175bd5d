/** What changed between two prompt versions: the template as a unified diff, variables and model settings. */
import { useState } from 'react';
import { useApi } from '../../app/use-api.js';
import { formatValue } from '../../ui/format.js';
import { Card } from '../../ui/layout.js';
import { Pill } from '../../ui/pill.js';
import { Empty, Loadable } from '../../ui/states.js';

export function diffLineClass(line: string): string {
  if (line.startsWith('@@')) return 'diff-line diff-hunk';
  if (line.startsWith('+') && !line.startsWith('+++')) return 'diff-line diff-add';
  if (line.startsWith('-') && !line.startsWith('---')) return 'diff-line diff-del';
  return 'diff-line';
}

export default function PromptDiffPanel({ name, version }: { name: string; version: string }) {
  const versions = useApi((c) => c.listVersions('prompt', name, { limit: 200 }), [name]);
  const [other, setOther] = useState('');
  const diff = useApi((c) => c.api((t) => t.promptTools.diffPrompt)({ params: { name, version }, query: other ? { other } : {} }), [name, version, other]);
  const choices = (versions.data?.items ?? []).map((v) => v.version).filter((v) => v !== version);
  return (
    <Card
      title={diff.data ? `${diff.data.a.version} → ${diff.data.b.version}` : 'Diff'}
      actions={
        <label className="row">
          <span className="muted">Compare with</span>
          <select value={other} onChange={(e) => setOther(e.target.value)} aria-label="Compare with version">
            <option value="">the previous version</option>
            {choices.map((v) => (
              <option key={v} value={v}>
                {v}
              </option>
            ))}
          </select>
        </label>
      }
    >
      <Loadable state={diff} rows={8} height={20}>
        {(d) =>
          d.sameContent ? (
            <Empty title="No differences" />
          ) : (
            <div className="stack">
              <div className="row">
                <span className="delta-good">+{d.template.added}</span>
                <span className="delta-bad">−{d.template.removed}</span>
                {d.template.typeChange ? <span className="tag">{`${d.template.typeChange.before} → ${d.template.typeChange.after}`}</span> : null}
              </div>
              {d.template.unified ? (
                <div className="diff" role="region" aria-label="Template diff">
                  {d.template.unified.split('\n').map((l, i) => (
                    <div key={i} className={diffLineClass(l)}>
                      {l || '\u00a0'}
                    </div>
                  ))}
                </div>
              ) : (
                <p className="muted">The template is the same.</p>
              )}
              {[...d.variables.map((c) => ({ ...c, where: 'variable' })), ...d.modelConfig.map((c) => ({ ...c, where: 'setting' })), ...(d.safety ? [{ ...d.safety, where: 'safety' }] : [])].length ? (
                <table className="table">
                  <thead>
                    <tr>
                      <th>What</th>
                      <th>Change</th>
                      <th>Before</th>
                      <th>After</th>
                    </tr>
                  </thead>
                  <tbody>
                    {[...d.variables.map((c) => ({ ...c, where: 'variable' })), ...d.modelConfig.map((c) => ({ ...c, where: 'setting' })), ...(d.safety ? [{ ...d.safety, where: 'safety' }] : [])].map((c) => (
                      <tr key={`${c.where}:${c.key}`}>
                        <td className="mono">
                          {c.where} {c.key}
                        </td>
                        <td>
                          <Pill state={c.change === 'added' ? 'ready' : c.change === 'removed' ? 'failed' : 'pending'} label={c.change} />
                        </td>
                        <td className="mono">{formatValue(c.before)}</td>
                        <td className="mono">{formatValue(c.after)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : null}
            </div>
          )
        }
      </Loadable>
      {versions.data && choices.length === 0 && !diff.data ? <Empty title="Only one version">There is nothing to compare it with yet.</Empty> : null}
    </Card>
  );
}

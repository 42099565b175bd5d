/** A prompt version's template (placeholders highlighted), its variables and model settings. */
import { formatValue } from '../../ui/format.js';
import { Card, KeyValues } from '../../ui/layout.js';
import { Empty } from '../../ui/states.js';
import type { VersionDoc } from '../assets/asset-types.js';
import { playgroundVariables, promptSpec, templateParts } from './prompt-fns.js';

export function Highlighted({ text }: { text: string }) {
  return (
    <>
      {templateParts(text).map((p, i) =>
        p.variable ? (
          <span key={i} className="var">
            {p.text}
          </span>
        ) : (
          <span key={i}>{p.text}</span>
        ),
      )}
    </>
  );
}

export default function PromptTemplatePanel({ v }: { v: VersionDoc }) {
  const spec = promptSpec(v.metadata);
  if (!spec) return <Empty title="No template">This version's metadata holds no prompt template.</Empty>;
  const messages = spec.template.type === 'text' ? [{ role: 'text', content: spec.template.text }] : spec.template.messages;
  const vars = playgroundVariables(spec);
  const config = Object.entries(spec.modelConfig ?? {});
  return (
    <div className="grid-2" style={{ alignItems: 'start' }}>
      <Card title={`Template (${spec.template.type})`}>
        {messages.map((m, i) => (
          <div key={i} className="message">
            <div className="message-role">{m.role}</div>
            <div className="message-content">
              <Highlighted text={m.content} />
            </div>
          </div>
        ))}
      </Card>
      <div className="stack">
        <Card title="Variables">
          {vars.length === 0 ? (
            <Empty title="No variables" />
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Type</th>
                  <th>Default</th>
                  <th>Description</th>
                </tr>
              </thead>
              <tbody>
                {vars.map((x) => (
                  <tr key={x.name}>
                    <td className="mono">
                      {x.name}
                      {x.trusted ? <span className="tag">trusted</span> : null}
                    </td>
                    <td>{x.enum ? `one of ${x.enum.join(', ')}` : x.type}</td>
                    <td className="mono">{x.default === undefined ? <span className="muted">required</span> : formatValue(x.default)}</td>
                    <td>{x.description ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
        <Card title="Model settings">
          <KeyValues items={[...config.map(([k, val]) => [k, formatValue(val)] as [string, string]), ['safety check', spec.safety ?? 'as the caller asks']]} />
        </Card>
      </div>
    </div>
  );
}

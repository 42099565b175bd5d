/**
 * Renders a prompt version with values typed in by hand, through the API (the same render the
 * SDK and gateway use), and shows the messages and any prompt-injection findings.
 */
import { useState } from 'react';
import type { RenderPromptResponse, SafetyMode } from '../../../../src/contracts/prompts.js';
import { useAction } from '../../app/use-api.js';
import { Card } from '../../ui/layout.js';
import { Pill } from '../../ui/pill.js';
import { Empty } from '../../ui/states.js';
import type { VersionDoc } from '../assets/asset-types.js';
import { playgroundVariables, promptSpec, variableValues } from './prompt-fns.js';

export default function PromptPlayground({ v }: { v: VersionDoc }) {
  const spec = promptSpec(v.metadata);
  const [inputs, setInputs] = useState<Record<string, string>>({});
  const [safety, setSafety] = useState<SafetyMode>('warn');
  const [result, setResult] = useState<RenderPromptResponse | null>(null);
  const render = useAction((c, variables: Record<string, unknown>) => c.api((t) => t.promptTools.renderPrompt)({ params: { name: v.name }, body: { ref: v.version, variables, safety } }));
  if (!spec) return <Empty title="No template">This version's metadata holds no prompt template.</Empty>;
  const vars = playgroundVariables(spec);
  const { values, errors } = variableValues(vars, inputs);
  return (
    <div className="grid-2" style={{ alignItems: 'start' }}>
      <Card title="Variables">
        <form
          className="stack"
          onSubmit={async (e) => {
            e.preventDefault();
            const r = await render.run(values);
            setResult(r ?? null);
          }}
        >
          {vars.length === 0 ? <p className="muted">This template has no variables.</p> : null}
          {vars.map((x) => (
            <label key={x.name} className="field">
              <span>
                {x.name} <span className="muted">({x.type}{x.default !== undefined ? `, default ${JSON.stringify(x.default)}` : ''})</span>
              </span>
              {x.enum ? (
                <select value={inputs[x.name] ?? ''} onChange={(e) => setInputs({ ...inputs, [x.name]: e.target.value })}>
                  <option value="">—</option>
                  {x.enum.map((o) => (
                    <option key={o}>{o}</option>
                  ))}
                </select>
              ) : (
                <textarea rows={x.type === 'json' ? 4 : 2} value={inputs[x.name] ?? ''} onChange={(e) => setInputs({ ...inputs, [x.name]: e.target.value })} name={x.name} />
              )}
              {errors[x.name] ? <span className="form-error">{errors[x.name]}</span> : null}
            </label>
          ))}
          <label className="field">
            <span>Injection check</span>
            <select value={safety} onChange={(e) => setSafety(e.target.value as SafetyMode)}>
              <option value="off">off</option>
              <option value="warn">warn</option>
              <option value="block">block</option>
            </select>
          </label>
          {render.error ? (
            <p className="form-error" role="alert">
              {render.error.message}
            </p>
          ) : null}
          <div>
            <button className="btn btn-primary" type="submit" disabled={render.pending || Object.keys(errors).length > 0}>
              {render.pending ? 'Rendering…' : 'Render'}
            </button>
          </div>
        </form>
      </Card>
      <Card title="Rendered" actions={result ? <span className="muted">check: {result.safety}</span> : null}>
        {!result ? (
          <Empty title="Nothing rendered yet">Fill in the variables and press Render.</Empty>
        ) : (
          <div className="stack">
            {result.findings.length ? (
              <div className="banner banner-warn" role="status">
                <strong>{result.findings.length} injection finding{result.findings.length === 1 ? '' : 's'}</strong>
              </div>
            ) : (
              <div className="banner banner-good">No injection findings</div>
            )}
            {result.findings.map((f, i) => (
              <div key={i} className="row">
                <Pill state="failed" label={f.rule} /> in <code>{f.variable}</code>: <span className="mono">“{f.excerpt}”</span>
              </div>
            ))}
            {result.messages.map((m, i) => (
              <div key={i} className="message">
                <div className="message-role">{m.role}</div>
                <div className="message-content">{m.content}</div>
              </div>
            ))}
          </div>
        )}
      </Card>
    </div>
  );
}

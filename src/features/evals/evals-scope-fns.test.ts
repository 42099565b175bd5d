import { describe, expect, it } from 'vitest';
import { EvalSuiteSpec, parseCasesJsonl, type ParsedCase } from '../../contracts/evals.js';
import { firstRefused, referenceGranted, referenceRefused, runReferences } from './evals-scope-fns.js';

const cases = (lines: unknown[]): ParsedCase[] => {
  const r = parseCasesJsonl(lines.map((l) => JSON.stringify(l)).join('\n'), { hasSuitePrompt: true });
  if (!r.ok) throw new Error(r.message);
  return r.cases;
};

describe('what a run reads', () => {
  const spec = EvalSuiteSpec.parse({ metrics: [{ metric: 'exact_match' }], request: { prompt: 'teama/sys' } });
  const refs = runReferences('teama/bot:1.0.0', 'teama/steal:1.0.0', spec, cases([{ id: 'ok', input: 'hi' }, { id: 'c1', prompt: { ref: 'teamb/sysprompt:1.0.0 ' } }]));

  it('lists the model, the suite, the suite prompt and every case prompt, with where each is named', () => {
    expect(refs).toEqual([
      { kind: 'model', ref: 'teama/bot:1.0.0', where: 'model' },
      { kind: 'dataset', ref: 'teama/steal:1.0.0', where: 'suite' },
      { kind: 'prompt', ref: 'teama/sys', where: 'suite teama/steal:1.0.0 request.prompt' },
      { kind: 'prompt', ref: 'teamb/sysprompt:1.0.0 ', where: 'suite teama/steal:1.0.0 case "c1" (line 2)' },
    ]);
  });

  it('refuses the first reference outside the namespaces, read as the lookup reads it', () => {
    expect(firstRefused(refs, null)).toBeNull();
    expect(firstRefused(refs, ['teama', 'teamb'])).toBeNull();
    expect(firstRefused(refs, ['teama'])).toMatchObject({ ref: 'teamb/sysprompt:1.0.0 ' });
    // Bare names belong to no namespace; malformed references name none: both refused to a limited token.
    expect(referenceGranted('sysprompt', ['teama'])).toBe(false);
    expect(referenceGranted('teama/x:1 .0', ['teama'])).toBe(false);
    expect(referenceGranted('sysprompt', null)).toBe(true);
    const err = referenceRefused(firstRefused(refs, ['teama'])!, ['teama'], 'this token');
    expect(err).toMatchObject({ code: 'permission_denied', details: { reference: 'teamb/sysprompt:1.0.0 ', kind: 'prompt', namespaces: ['teama'] } });
    expect(err.message).toMatch(/^suite teama\/steal:1\.0\.0 case "c1" \(line 2\) refers to prompt teamb\/sysprompt:1\.0\.0 , which is outside the namespaces this token may read \(teama\)/);
  });
});

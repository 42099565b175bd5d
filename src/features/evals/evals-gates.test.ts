import { describe, expect, it } from 'vitest';
import { EvaluateGatesBody, type GateInput, type RunSummary } from '../../contracts/evals.js';
import { AppError } from '../../platform/errors.js';
import type { AssetsService } from '../assets/assets-service.js';
import { aliasEnvironments, createGates } from './evals-gates.js';
import type { RunRow } from './evals-repo.js';

/** A succeeded run of `model@version` on `suite` (NAME:VERSION) reporting `metrics`; newer runs come first in `runs`. */
function run(id: string, version: string, suite: string, metrics: Record<string, number>): RunRow {
  const [suiteName, suiteVersion] = suite.split(':') as [string, string];
  const summary: RunSummary = {
    metrics: Object.entries(metrics).map(([m, value]) => ({ id: m, metric: m, value, low: value, high: value, scored: 10, errors: 0, unit: 'ratio', higherIsBetter: true })),
    thresholds: [],
    passed: true,
    errorRate: 0,
    durationMs: 1,
    casesPerSecond: 1,
  };
  return {
    id, suite_name: suiteName, suite_version: suiteVersion, suite_namespace: suiteName.includes('/') ? suiteName.split('/')[0]! : null, model_name: 'acme/bot', model_version: version,
    model_namespace: 'acme', endpoint_url: 'http://127.0.0.1:9/v1', endpoint_model: 'm', endpoint_auth: 0, judge: null, spec: '{}', settings: '{}', state: 'succeeded',
    total: 10, done: 10, failed: 0, summary: JSON.stringify(summary), error: null, labels: '{}', created_at: '2030-01-01T00:00:00.000Z', created_by: null,
    started_at: null, finished_at: null, lease_owner: null, lease_expires_at: null, scope_token_id: null, scope_namespaces: null,
  };
}

/** Gates over `runs` (newest first); `aliases` maps environment → the version it runs. */
function gatesOver(runs: RunRow[], aliases: Record<string, string> = {}) {
  const assets = {
    getVersion: async (_kind: string, name: string, ref: string) => ({ name, version: ref }),
    getAlias: async (_kind: string, _name: string, alias: string) => {
      if (!aliases[alias]) throw new AppError('not_found', `no alias ${alias}`);
      return { version: aliases[alias] };
    },
  } as unknown as Pick<AssetsService, 'getVersion' | 'getAlias'>;
  const repo = { succeededRunsOf: async (_name: string, version: string) => runs.filter((r) => r.model_version === version) };
  const gates = createGates({ repo, assets, environments: aliasEnvironments(assets) });
  return (version: string, list: GateInput[], namespaces: string[] | null = null) => gates.evaluate(EvaluateGatesBody.parse({ model: `acme/bot:${version}`, gates: list }), namespaces);
}

describe('gates', () => {
  it('refuses a no-regression gate on an environment that does not exist instead of passing it', async () => {
    const evaluate = gatesOver([run('r1', '1.1.0', 'acme/qa:1.0.0', { exact_match: 0.2 })]);
    await expect(evaluate('1.1.0', [{ type: 'no_regression', metric: 'exact_match', environment: 'prodution' }])).rejects.toMatchObject({
      code: 'invalid_argument',
      message: 'gates.0: unknown environment "prodution"; the environments are development, staging, production',
      details: { environment: 'prodution', environments: ['development', 'staging', 'production'] },
    });
    // A known environment that runs no version of the model still passes: there is nothing to regress against.
    expect((await evaluate('1.1.0', [{ type: 'no_regression', metric: 'exact_match', environment: 'production' }])).passed).toBe(true);
  });

  it('refuses an unprefixed metric that several suites report, naming them, instead of reading whichever ran last', async () => {
    // The failing suite ran first; a later run of another suite reports the same metric and passes.
    const evaluate = gatesOver([run('r2', '1.1.0', 'acme/easy:1.0.0', { exact_match: 1 }), run('r1', '1.1.0', 'acme/hard:1.0.0', { exact_match: 0.1 })]);
    await expect(evaluate('1.1.0', [{ type: 'threshold', metric: 'exact_match', op: '>=', value: 0.9 }])).rejects.toMatchObject({
      code: 'invalid_argument',
      message: expect.stringMatching(/^gates\.0: metric exact_match is reported by 2 suites of acme\/bot:1\.1\.0 \(acme\/easy, acme\/hard\); name the suite/),
      details: { metric: 'exact_match', suites: ['acme/easy', 'acme/hard'], hiddenSuites: 0 },
    });
    // Named, each suite is judged on its own runs.
    const g = await evaluate('1.1.0', [
      { type: 'threshold', metric: 'exact_match', suite: 'acme/hard', op: '>=', value: 0.9 },
      { type: 'threshold', metric: 'exact_match', suite: 'acme/easy', op: '>=', value: 0.9 },
    ]);
    expect(g.results.map((r) => [r.evidence.suite, r.passed])).toEqual([
      ['acme/hard:1.0.0', false],
      ['acme/easy:1.0.0', true],
    ]);
    expect(g.passed).toBe(false);
    // Several versions of one suite are not ambiguous: the newest run of it is read.
    const one = gatesOver([run('r2', '1.1.0', 'acme/qa:1.1.0', { exact_match: 0.95 }), run('r1', '1.1.0', 'acme/qa:1.0.0', { exact_match: 0.1 })]);
    expect((await one('1.1.0', [{ type: 'threshold', metric: 'exact_match', op: '>=', value: 0.9 }])).results[0]!.evidence).toMatchObject({ run: 'r2', suite: 'acme/qa:1.1.0' });
  });

  it('measures a no-regression baseline on the candidate\'s suite, never on another one', async () => {
    const evaluate = gatesOver(
      [
        run('c', '1.1.0', 'acme/qa:1.0.0', { exact_match: 0.5 }),
        // The production version was only evaluated on another suite that reports the same metric.
        run('b', '1.0.0', 'acme/other:1.0.0', { exact_match: 0.1 }),
      ],
      { production: '1.0.0' },
    );
    const g = await evaluate('1.1.0', [{ type: 'no_regression', metric: 'exact_match', environment: 'production' }]);
    expect(g.passed).toBe(false);
    expect(g.results[0]!.reason).toMatch(/acme\/bot:1\.0\.0 \(in production\) has no succeeded run reporting exact_match on suite acme\/qa/);
  });

  it('names no suite of a namespace the caller cannot read in evidence, reasons or errors', async () => {
    const evaluate = gatesOver([run('r1', '1.1.0', 'other/secret-suite:1.0.0', { exact_match: 0.9 }), run('r0', '1.0.0', 'other/secret-suite:1.0.0', { exact_match: 0.8 })], { staging: '1.0.0' });
    const g = await evaluate(
      '1.1.0',
      [
        { type: 'threshold', metric: 'exact_match', op: '>=', value: 0.5 },
        { type: 'no_regression', metric: 'exact_match', environment: 'staging' },
      ],
      ['acme'],
    );
    expect(g.passed).toBe(true);
    expect(g.results[0]!.evidence).toMatchObject({ run: null, suite: null, hidden: true, value: 0.9 });
    expect(g.results[1]!.evidence.baseline).toEqual({ model: 'acme/bot:1.0.0', run: null, hidden: true, value: 0.8 });
    expect(JSON.stringify(g)).not.toMatch(/secret-suite|r1|r0/);
    // Unrestricted, the same evidence is named.
    expect((await evaluate('1.1.0', [{ type: 'threshold', metric: 'exact_match', op: '>=', value: 0.5 }])).results[0]!.evidence).toMatchObject({ run: 'r1', suite: 'other/secret-suite:1.0.0' });
    // Ambiguity counts the suites it cannot name.
    const two = gatesOver([run('r2', '1.1.0', 'acme/qa:1.0.0', { exact_match: 1 }), run('r1', '1.1.0', 'other/secret-suite:1.0.0', { exact_match: 0.9 })]);
    const err = await two('1.1.0', [{ type: 'threshold', metric: 'exact_match', op: '>=', value: 0.5 }], ['acme']).then(
      () => new Error('no error'),
      (e: unknown) => e as Error,
    );
    expect(err.message).toMatch(/\(acme\/qa, 1 suite in namespaces this token cannot read\)/);
    expect(err.message).not.toMatch(/secret/);
  });
});

/**
 * Gates: the questions a promotion or a rollout asks of evaluation evidence. A gate is either
 * `metric op threshold` on the version's latest succeeded run that reports the metric, or "no
 * regression against the version currently in environment E beyond delta d". Each answer
 * carries its evidence (runs, values, intervals) so the caller can show why and record it.
 * Until the promotion feature exists, "the version in environment E" is the model's alias E.
 */
import type { z } from 'zod';
import { compare, type EvaluateGatesBody, type Gate, type GateEvaluation, type GateResult, type MetricSummary, type RunSummary } from '../../contracts/evals.js';
import { AppError } from '../../platform/errors.js';
import type { AssetsService } from '../assets/assets-service.js';
import type { EvalsRepo, RunRow } from './evals-repo.js';
import { splitRef } from './evals-service.js';

/** Which version of a model an environment runs; null when it runs none. */
export interface EnvironmentResolver {
  versionIn(modelName: string, environment: string): Promise<string | null>;
}

/** Default resolver: environment E is the model's alias E (what `steward alias set NAME E VERSION` moves). */
export function aliasEnvironments(assets: Pick<AssetsService, 'getAlias'>): EnvironmentResolver {
  return {
    async versionIn(modelName, environment) {
      try {
        return (await assets.getAlias('model', modelName, environment)).version;
      } catch (err) {
        if (err instanceof AppError && err.code === 'not_found') return null;
        throw err;
      }
    },
  };
}

interface Evidence {
  run: RunRow;
  metric: MetricSummary;
}

const fmt = (n: number | null) => (n === null ? 'none' : String(Number(n.toPrecision(4))));

export function createGates(deps: { repo: EvalsRepo; assets: Pick<AssetsService, 'getVersion'>; environments: EnvironmentResolver }) {
  const { repo, assets } = deps;
  let environments = deps.environments;

  /** The newest succeeded run of the version that reports `metric` (on `suite`, when given). */
  async function evidenceFor(name: string, version: string, metric: string, suite: string | undefined, preferSuite?: string): Promise<Evidence | null> {
    const runs = await repo.succeededRunsOf(name, version, 200);
    const [sName, sVer] = suite ? (suite.includes(':') ? splitRef(suite, null, 'suite') : [suite, undefined]) : [undefined, undefined];
    let fallback: Evidence | null = null;
    for (const run of runs) {
      if (sName !== undefined && run.suite_name !== sName) continue;
      if (sVer !== undefined && run.suite_version !== sVer.replace(/^v/, '')) continue;
      const m = (JSON.parse(run.summary ?? '{"metrics":[]}') as RunSummary).metrics.find((x) => x.id === metric);
      if (!m) continue;
      const ev = { run, metric: m };
      if (!preferSuite || `${run.suite_name}:${run.suite_version}` === preferSuite) return ev;
      fallback ??= ev;
    }
    return fallback;
  }

  async function one(name: string, version: string, gate: Gate): Promise<GateResult> {
    const none = { run: null, suite: null, value: null, low: null, high: null, baseline: null };
    const cand = await evidenceFor(name, version, gate.metric, gate.suite);
    const where = gate.suite ? ` on suite ${gate.suite}` : '';
    if (!cand || cand.metric.value === null) {
      return { gate, passed: false, reason: `no succeeded evaluation run of ${name}:${version}${where} reports ${gate.metric}; run \`steward eval run SUITE --model ${name}:${version} --endpoint URL\``, evidence: none };
    }
    const c = cand.metric;
    const evidence = { run: cand.run.id, suite: `${cand.run.suite_name}:${cand.run.suite_version}`, value: c.value, low: c.low, high: c.high, baseline: null };
    if (gate.type === 'threshold') {
      const passed = compare(c.value!, gate.op, gate.value);
      return { gate, passed, reason: `${gate.metric} = ${fmt(c.value)} (95% CI ${fmt(c.low)}–${fmt(c.high)}, run ${cand.run.id}) ${passed ? 'meets' : 'fails'} ${gate.op} ${gate.value}`, evidence };
    }
    const baseVersion = await environments.versionIn(name, gate.environment);
    if (baseVersion === null) {
      return { gate, passed: true, reason: `${gate.environment} runs no version of ${name}: nothing to regress against`, evidence };
    }
    const base = await evidenceFor(name, baseVersion, gate.metric, gate.suite, evidence.suite);
    if (!base || base.metric.value === null) {
      return {
        gate,
        passed: false,
        reason: `${name}:${baseVersion} (in ${gate.environment}) has no succeeded run reporting ${gate.metric}${where}; evaluate it on the same suite to compare`,
        evidence: { ...evidence, baseline: { model: `${name}:${baseVersion}`, run: null, value: null } },
      };
    }
    const b = base.metric.value;
    const loss = c.higherIsBetter ? b - c.value! : c.value! - b;
    const passed = loss <= gate.maxDelta + 1e-12;
    const sameSuite = `${base.run.suite_name}:${base.run.suite_version}` === evidence.suite;
    const reason =
      `${gate.metric}: ${fmt(c.value)} vs ${fmt(b)} for ${name}:${baseVersion} in ${gate.environment} — ` +
      `${loss > 0 ? `${fmt(loss)} worse` : loss < 0 ? `${fmt(-loss)} better` : 'equal'} (allowed loss ${fmt(gate.maxDelta)})` +
      (sameSuite ? '' : ` [baseline measured on suite ${base.run.suite_name}:${base.run.suite_version}]`);
    return { gate, passed, reason, evidence: { ...evidence, baseline: { model: `${name}:${baseVersion}`, run: base.run.id, value: b } } };
  }

  let replaced = false;
  return {
    /** The environments feature replaces the alias reading once, while it is set up. */
    useEnvironments(resolver: EnvironmentResolver): void {
      if (replaced) throw new Error('the environments of gates are registered already');
      replaced = true;
      environments = resolver;
    },
    /** Evaluates every gate for a model version; passed iff all pass. Reads only. */
    async evaluate(input: z.output<typeof EvaluateGatesBody>): Promise<GateEvaluation> {
      const [name, ref] = splitRef(input.model, null, 'model');
      const v = await assets.getVersion('model', name, ref);
      const results: GateResult[] = [];
      for (const g of input.gates) results.push(await one(v.name, v.version, g));
      return { model: { name: v.name, version: v.version }, passed: results.every((r) => r.passed), results };
    },
  };
}

export type Gates = ReturnType<typeof createGates>;

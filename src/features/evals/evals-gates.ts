/**
 * Gates: the questions a promotion or a rollout asks of evaluation evidence. A gate is either
 * `metric op threshold` on the version's latest succeeded run that reports the metric, or "no
 * regression against the version currently in environment E beyond delta d". Each answer
 * carries its evidence (runs, values, intervals) so the caller can show why and record it.
 * Until the promotion feature exists, "the version in environment E" is the model's alias E,
 * and the environments are the defaults (`DEFAULT_ENVIRONMENTS`). A gate never passes by
 * accident: an unknown environment, or a metric several suites report with no suite named, is
 * an error; a no-regression baseline is measured on the candidate's suite only.
 */
import type { z } from 'zod';
import { compare, type EvaluateGatesBody, type Gate, type GateEvaluation, type GateResult, type MetricSummary, type RunSummary } from '../../contracts/evals.js';
import { namespaceGranted, parseAssetRef } from '../../contracts/asset-names.js';
import { AppError, errors } from '../../platform/errors.js';
import type { AssetsService } from '../assets/assets-service.js';
import type { EvalsRepo, RunRow } from './evals-repo.js';
import { splitRef } from './evals-service.js';

/**
 * The environments gates may name, and which version of a model each runs (null: none). A gate
 * naming an environment that does not exist is an error, not a pass.
 */
export interface EnvironmentResolver {
  /** Every environment that exists. */
  names(): Promise<readonly string[]>;
  versionIn(modelName: string, environment: string): Promise<string | null>;
}

/**
 * The environments there are until they are records of their own: the defaults of the design
 * (the seed's environments.yaml).
 */
export const DEFAULT_ENVIRONMENTS = ['development', 'staging', 'production'] as const;

/**
 * Default resolver: the environments are `names`, and environment E runs the version the
 * model's alias E points at (what `steward alias set NAME E VERSION` moves).
 */
export function aliasEnvironments(assets: Pick<AssetsService, 'getAlias'>, names: readonly string[] = DEFAULT_ENVIRONMENTS): EnvironmentResolver {
  return {
    names: async () => names,
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
const metricOf = (run: RunRow, metric: string) => (JSON.parse(run.summary ?? '{"metrics":[]}') as RunSummary).metrics.find((x) => x.id === metric);

export function createGates(deps: { repo: Pick<EvalsRepo, 'succeededRunsOf'>; assets: Pick<AssetsService, 'getVersion'>; environments: EnvironmentResolver }) {
  const { repo, assets } = deps;
  let environments = deps.environments;

  /** The newest succeeded run of the version that reports `metric` (on suite `suite`: NAME or NAME:VERSION, when given). */
  async function evidenceFor(name: string, version: string, metric: string, suite: string | undefined, preferSuite?: string): Promise<Evidence | null> {
    const runs = await repo.succeededRunsOf(name, version, 200);
    const parsed = suite === undefined ? null : parseAssetRef(suite);
    if (typeof parsed === 'string') throw errors.invalid(`suite ${parsed}`);
    const [sName, sVer] = [parsed?.name, parsed?.ref ?? undefined];
    let fallback: Evidence | null = null;
    for (const run of runs) {
      if (sName !== undefined && run.suite_name !== sName) continue;
      if (sVer !== undefined && run.suite_version !== sVer.replace(/^v/, '')) continue;
      const m = metricOf(run, metric);
      if (!m) continue;
      const ev = { run, metric: m };
      if (!preferSuite || `${run.suite_name}:${run.suite_version}` === preferSuite) return ev;
      fallback ??= ev;
    }
    return fallback;
  }

  /**
   * A gate that names no suite reads the one suite whose runs of the version report its metric.
   * When several do, which one the gate meant is unknown: judging it on whichever ran last would
   * let a later run of another suite hide a failing one, so it is an error naming them (those
   * the caller cannot read are counted, not named).
   */
  async function refuseAmbiguous(index: number, name: string, version: string, gate: Gate, namespaces: readonly string[] | null): Promise<void> {
    if (gate.suite !== undefined) return;
    const runs = await repo.succeededRunsOf(name, version, 200);
    const suites = [...new Set(runs.filter((r) => metricOf(r, gate.metric)).map((r) => r.suite_name))];
    if (suites.length < 2) return;
    const named = suites.filter((s) => namespaceGranted(s, namespaces)).sort();
    const hidden = suites.length - named.length;
    const list = [...named, ...(hidden ? [`${hidden} suite${hidden > 1 ? 's' : ''} in namespaces this token cannot read`] : [])].join(', ');
    throw errors.invalid(
      `gates.${index}: metric ${gate.metric} is reported by ${suites.length} suites of ${name}:${version} (${list}); name the suite: "suite" in the gate, or SUITE/${gate.metric} in its one-line form`,
      { gate: index, metric: gate.metric, suites: named, hiddenSuites: hidden },
    );
  }

  async function one(name: string, version: string, gate: Gate, namespaces: readonly string[] | null): Promise<GateResult> {
    const none = { run: null, suite: null, value: null, low: null, high: null, baseline: null };
    const cand = await evidenceFor(name, version, gate.metric, gate.suite);
    const where = gate.suite ? ` on suite ${gate.suite}` : '';
    if (!cand || cand.metric.value === null) {
      return { gate, passed: false, reason: `no succeeded evaluation run of ${name}:${version}${where} reports ${gate.metric}; run \`steward eval run SUITE --model ${name}:${version} --endpoint URL\``, evidence: none };
    }
    const c = cand.metric;
    const suiteOf = (run: RunRow) => `${run.suite_name}:${run.suite_version}`;
    // A run on a suite the caller cannot read is evidence all the same, but named by neither run nor suite.
    const seen = (run: RunRow) => namespaceGranted(run.suite_name, namespaces);
    const runText = (run: RunRow) => (seen(run) ? `run ${run.id}` : 'a run on a suite this token cannot read');
    const evidence = {
      ...(seen(cand.run) ? { run: cand.run.id, suite: suiteOf(cand.run) } : { run: null, suite: null, hidden: true }),
      value: c.value,
      low: c.low,
      high: c.high,
      baseline: null,
    };
    if (gate.type === 'threshold') {
      const passed = compare(c.value!, gate.op, gate.value);
      return { gate, passed, reason: `${gate.metric} = ${fmt(c.value)} (95% CI ${fmt(c.low)}–${fmt(c.high)}, ${runText(cand.run)}) ${passed ? 'meets' : 'fails'} ${gate.op} ${gate.value}`, evidence };
    }
    const baseVersion = await environments.versionIn(name, gate.environment);
    if (baseVersion === null) {
      return { gate, passed: true, reason: `${gate.environment} runs no version of ${name}: nothing to regress against`, evidence };
    }
    // The baseline is measured on the candidate's suite (preferably the same version of it), never on another suite.
    const base = await evidenceFor(name, baseVersion, gate.metric, cand.run.suite_name, suiteOf(cand.run));
    if (!base || base.metric.value === null) {
      return {
        gate,
        passed: false,
        reason: `${name}:${baseVersion} (in ${gate.environment}) has no succeeded run reporting ${gate.metric} on ${seen(cand.run) ? `suite ${cand.run.suite_name}` : 'the same suite'}; evaluate it on that suite to compare`,
        evidence: { ...evidence, baseline: { model: `${name}:${baseVersion}`, run: null, value: null } },
      };
    }
    const b = base.metric.value;
    const loss = c.higherIsBetter ? b - c.value! : c.value! - b;
    const passed = loss <= gate.maxDelta + 1e-12;
    const sameSuite = suiteOf(base.run) === suiteOf(cand.run);
    const reason =
      `${gate.metric}: ${fmt(c.value)} vs ${fmt(b)} for ${name}:${baseVersion} in ${gate.environment} — ` +
      `${loss > 0 ? `${fmt(loss)} worse` : loss < 0 ? `${fmt(-loss)} better` : 'equal'} (allowed loss ${fmt(gate.maxDelta)})` +
      (sameSuite ? '' : seen(base.run) ? ` [baseline measured on suite ${suiteOf(base.run)}]` : ' [baseline measured on another version of the suite]');
    const baseline = { model: `${name}:${baseVersion}`, ...(seen(base.run) ? { run: base.run.id } : { run: null, hidden: true }), value: b };
    return { gate, passed, reason, evidence: { ...evidence, baseline } };
  }

  let replaced = false;
  return {
    /** The environments feature replaces the alias reading once, while it is set up. */
    useEnvironments(resolver: EnvironmentResolver): void {
      if (replaced) throw new Error('the environments of gates are registered already');
      replaced = true;
      environments = resolver;
    },
    /**
     * Evaluates every gate for a model version; passed iff all pass. Reads only. `namespaces`:
     * those of a limited caller (null: unrestricted), whose evidence names no suite outside them.
     * A gate naming an unknown environment, or an unprefixed metric that several suites report,
     * is refused (400) before any gate is judged.
     */
    async evaluate(input: z.output<typeof EvaluateGatesBody>, namespaces: readonly string[] | null = null): Promise<GateEvaluation> {
      const [name, ref] = splitRef(input.model, null, 'model');
      const v = await assets.getVersion('model', name, ref);
      const known = await environments.names();
      for (const [i, g] of input.gates.entries()) {
        if (g.type === 'no_regression' && !known.includes(g.environment)) {
          throw errors.invalid(`gates.${i}: unknown environment ${JSON.stringify(g.environment)}; the environments are ${known.join(', ')}`, {
            gate: i,
            environment: g.environment,
            environments: [...known],
          });
        }
        await refuseAmbiguous(i, v.name, v.version, g, namespaces);
      }
      const results: GateResult[] = [];
      for (const g of input.gates) results.push(await one(v.name, v.version, g, namespaces));
      return { model: { name: v.name, version: v.version }, passed: results.every((r) => r.passed), results };
    },
  };
}

export type Gates = ReturnType<typeof createGates>;

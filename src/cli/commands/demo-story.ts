/**
 * The lifecycle demo's story (`steward demo`): every step through the SDK against an embedded
 * server started in this process, on the tiny built-in model. Each step reports itself through
 * `onStep` as it ends; a step that fails throws a DemoError saying what went wrong and what to do.
 * Nothing here is simulated: the versions are real GGUFs served by the built-in runtime, the
 * evaluations call them, the fault is the runtime's `--fault-rate`, and the rollback is the
 * rollouts feature's analysis acting on the gateway's usage.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DeploymentResponse } from '../../contracts/deployments.js';
import type { RunResponse, EvalSuiteSpecInput } from '../../contracts/evals.js';
import type { PromotionResponse } from '../../contracts/promotions.js';
import type { RolloutDetail } from '../../contracts/rollouts.js';
import { StewardClient } from '../../sdk/client.js';
import { pushVersion } from '../../sdk/node/push.js';
import { makeTinyGguf } from '../../runtimes/builtin/tiny-gguf.js';
import { startLoad, type LoadReport } from './demo-load.js';

export const DEMO_MODEL = 'demo/tiny-chat';
const SUITE = 'demo/smoke';
/** The share of the canary's completion requests the fault fails: four times the analysis' 5% limit. */
export const FAULT_RATE = 0.2;
/** Requests per second of the background load: what the tiny model answers on one thread with room to spare. */
const LOAD_PER_SECOND = 20;

export interface DemoStep {
  step: string;
  message: string;
  ms: number;
}

export interface DemoResult {
  url: string;
  steps: DemoStep[];
  pushed: string[];
  evaluations: { version: string; run: string; state: string; passed: boolean | null; metrics: Record<string, number | null> }[];
  production: string | null;
  rollout: { id: string; state: string; reason: string | null; candidateDeployment: string | null; faultToStableMs: number | null; abortedAfterMs: number | null };
  load: LoadReport;
  audit: { ok: boolean; events: number; head: string | null };
  timeline: { at: string; kind: string; message: string }[];
  events: Record<string, number>;
}

export class DemoError extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, hint: string, timeoutMs: number, fn: () => Promise<T | null | undefined | false>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new DemoError(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}; ${hint}`);
    await sleep(100);
  }
}

export async function runStory(opts: { url: string; adminToken: string; dataDir: string; onStep: (s: DemoStep) => void }): Promise<DemoResult> {
  const admin = new StewardClient({ url: opts.url, token: opts.adminToken });
  const steps: DemoStep[] = [];
  let t = performance.now();
  const done = (step: string, message: string) => {
    const s = { step, message, ms: Math.round(performance.now() - t) };
    steps.push(s);
    opts.onStep(s);
    t = performance.now();
  };
  const api = admin.api.bind(admin);
  const deployments: string[] = [];
  const logsHint = `the server's log is ${path.join(opts.dataDir, 'server.log')} and each replica's under ${path.join(opts.dataDir, 'deployments', 'logs')} (rerun with --keep to look at them)`;

  const deploy = async (version: string, environment: string, args: string[] = []): Promise<DeploymentResponse> => {
    const d = (await api((x) => x.deployments.createDeployment)({ body: { model: `${DEMO_MODEL}:${version}`, environment, runtime: 'builtin', replicas: 1, args: ['--threads', '1', ...args] } })) as DeploymentResponse;
    deployments.push(d.id);
    return until(`deployment ${d.id} (${version} in ${environment}) to be ready`, logsHint, 60_000, async () => {
      const cur = await api((x) => x.deployments.getDeployment)({ params: { id: d.id } });
      if (cur.state === 'failed') throw new DemoError(`deployment of ${version} in ${environment} failed: ${cur.error ?? 'no reason given'}; ${logsHint}`);
      return cur.state === 'ready' ? cur : null;
    });
  };
  const stopDeployments = (ids: string[]) => stopAndWait(admin, ids, logsHint);
  const promote = async (version: string, to: string, approver?: StewardClient): Promise<PromotionResponse> => {
    let p = await api((x) => x.promotions.createPromotion)({ body: { model: `${DEMO_MODEL}:${version}`, to, comment: 'steward demo' } });
    const settle = (want: (s: string) => boolean) =>
      until(`the promotion of ${version} to ${to}`, 'look at it with `steward promotions show`', 30_000, async () => {
        p = await api((x) => x.promotions.getPromotion)({ params: { id: p.id } });
        return want(p.state) ? p : null;
      });
    p = await settle((s) => s !== 'checking');
    if (p.state === 'pending' && approver) {
      await approver.api((x) => x.promotions.approvePromotion)({ params: { id: p.id }, body: { comment: 'approved by the demo approver' } });
      p = await settle((s) => s !== 'pending');
    }
    if (!['completed', 'rolling_out'].includes(p.state)) {
      const gates = p.gates.filter((g) => g.status !== 'passed').map((g) => `${g.name}: ${g.reason}`).join('; ');
      throw new DemoError(`promotion of ${version} to ${to} ended ${p.state}${gates ? ` (${gates})` : ''}`);
    }
    return p;
  };

  try {
    // 1. Two versions of a tiny llama model, different weights.
    const work = path.join(opts.dataDir, 'demo-models');
    const pushed: string[] = [];
    for (const [version, seed] of [['1.0.0', 1], ['2.0.0', 2]] as const) {
      const dir = path.join(work, version);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'model.gguf'), makeTinyGguf({ seed, name: `tiny-chat-${version}` }));
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ architecture: 'llama', seed }));
      const r = await pushVersion({ client: admin, kind: 'model', name: DEMO_MODEL, dir, version: { version, labels: { demo: 'true' } }, description: 'the tiny built-in model of steward demo', cacheDir: path.join(opts.dataDir, 'push-cache') });
      pushed.push(`${DEMO_MODEL}:${version}`);
      done('push', `pushed ${DEMO_MODEL}:${version} (${r.files} files, ${r.bytes} bytes, seed ${seed})`);
    }

    // 2. An evaluation suite, and each version evaluated against its own deployment.
    const suiteDir = path.join(work, 'suite');
    fs.mkdirSync(suiteDir, { recursive: true });
    const cases = ['Say hello.', 'Name a colour.', 'Count to three.', 'What is 2+2?'].map((input, i) => ({ id: `q${i + 1}`, input, expected: ['hello', 'blue', '1 2 3', '4'][i] }));
    fs.writeFileSync(path.join(suiteDir, 'cases.jsonl'), cases.map((c) => JSON.stringify(c)).join('\n') + '\n');
    // The tiny model writes gibberish: exact_match is reported as it is (0); the gate is latency.
    const spec: EvalSuiteSpecInput = { metrics: [{ metric: 'exact_match' }, { metric: 'latency_p95' }], thresholds: [{ metric: 'latency_p95', op: '<=', value: 5000 }], request: { temperature: 0, maxTokens: 8 } };
    await pushVersion({ client: admin, kind: 'dataset', name: SUITE, dir: suiteDir, version: { version: '1.0.0', metadata: { evalSuite: spec } }, description: 'the smoke suite of steward demo', cacheDir: path.join(opts.dataDir, 'push-cache') });
    const evalDeps = await Promise.all(['1.0.0', '2.0.0'].map((v) => deploy(v, 'development')));
    done('deploy', `deployed both versions in development for evaluation (builtin runtime, 1 thread each)`);
    const evaluations: DemoResult['evaluations'] = [];
    for (const [i, version] of ['1.0.0', '2.0.0'].entries()) {
      const url = evalDeps[i]!.replicaStatus[0]!.url!;
      let run: RunResponse = await api((x) => x.evals.createRun)({ body: { suite: `${SUITE}:1.0.0`, model: `${DEMO_MODEL}:${version}`, endpoint: { url: `${url}/v1` }, concurrency: 1, bootstrapResamples: 200 } });
      run = await until(`evaluation run ${run.id}`, 'look at it with `steward eval show`', 60_000, async () => {
        const r = await api((x) => x.evals.getRun)({ params: { id: run.id } });
        return ['succeeded', 'failed', 'cancelled', 'interrupted'].includes(r.state) ? r : null;
      });
      if (run.state !== 'succeeded') throw new DemoError(`evaluation of ${version} ended ${run.state}: ${run.error ?? 'no reason given'}; ${logsHint}`);
      const metrics = Object.fromEntries((run.summary?.metrics ?? []).map((m) => [m.id, m.value]));
      evaluations.push({ version, run: run.id, state: run.state, passed: run.summary?.passed ?? null, metrics });
      const shown = Object.entries(metrics).map(([k, v]) => `${k} ${v === null ? '–' : k.startsWith('latency') ? `${Math.round(v)} ms` : Number(v.toFixed(3))}`).join(', ');
      done('evaluate', `evaluated ${version} on ${run.total} cases: ${shown} → thresholds ${run.summary?.passed ? 'passed' : 'FAILED'}`);
    }
    await stopDeployments(evalDeps.map((d) => d.id));

    // 3. The pipeline's policies: staging needs a passed evaluation; production comes from
    // staging, needs one approver, and takes a new version as a canary judged by the analysis.
    await api((x) => x.promotions.putEnvironment)({ params: { env: 'staging' }, body: { description: 'demo: evaluated versions', order: 20, validation: { required: true }, deploy: { replicas: 1, runtime: 'builtin' } } });
    await api((x) => x.promotions.putEnvironment)({
      params: { env: 'production' },
      body: {
        description: 'demo: from staging, one approver, canary',
        order: 30,
        requiredSource: 'staging',
        validation: { required: true },
        approvals: { count: 1, role: 'approver' },
        deploy: { replicas: 1, runtime: 'builtin' },
        rollout: { strategy: 'canary', steps: [50, 100], pause: '2m', analysis: { intervalSeconds: 1 } },
      },
    });
    const approverToken = await api((x) => x.auth.createToken)({ body: { name: 'demo-approver', role: 'approver', expiresIn: '1h' } });
    const approver = new StewardClient({ url: opts.url, token: approverToken.token });
    done('policies', 'staging needs a passed evaluation; production needs staging, one approver (token demo-approver) and a 50% canary analysed every second');

    // 4. 1.0.0 through staging to production, served there.
    await promote('1.0.0', 'staging');
    done('promote', 'promoted 1.0.0 to staging (evaluation gate passed)');
    await promote('1.0.0', 'production', approver);
    done('promote', 'promoted 1.0.0 to production (approved by demo-approver)');
    const stable = await deploy('1.0.0', 'production');
    // Traffic pinned to 1.0.0: the faulty 2.0.0 deployment made below takes none before its canary step.
    await api((x) => x.gateway.putTraffic)({ params: { name: DEMO_MODEL, environment: 'production' }, body: { arms: [{ deployment: stable.id, weight: 100 }] } });
    done('deploy', `1.0.0 serves production at ${stable.replicaStatus[0]?.url ?? '?'} (deployment ${stable.id})`);
    const key = await api((x) => x.gateway.createKey)({ body: { name: 'demo-load', defaultEnvironment: 'production', expiresIn: '1h' } });
    const load = startLoad(`${opts.url}/v1/chat/completions`, key.key, DEMO_MODEL, LOAD_PER_SECOND);
    try {
      await until('the gateway to answer the load', logsHint, 30_000, async () => (load.report().byStatus['200'] ?? 0) >= 5);
      done('load', `steady load through the gateway: ${LOAD_PER_SECOND} chat requests/s (gateway key demo-load, max_tokens 4)`);

      // 5. 2.0.0 through staging, then to production as a canary whose replica fails 20% of requests.
      await promote('2.0.0', 'staging');
      done('promote', 'promoted 2.0.0 to staging (evaluation gate passed)');
      const faulty = await deploy('2.0.0', 'production', ['--fault-rate', String(FAULT_RATE)]);
      done('fault', `2.0.0 deployed in production with an injected fault: its runtime fails ${FAULT_RATE * 100}% of completions (--fault-rate ${FAULT_RATE})`);
      const p = await promote('2.0.0', 'production', approver);
      done('promote', `approved 2.0.0 for production: the promotion is ${p.state} and hands over to a canary rollout`);
      let rollout = await until('the rollout of the promotion to start', 'look at `steward rollout status`', 30_000, async () => (await api((x) => x.rollouts.listRollouts)({ query: { model: DEMO_MODEL, environment: 'production' } })).items[0]);
      const rolloutHint = `look at it with \`steward rollout status ${rollout.id}\`; ${logsHint}`;
      const detail = (): Promise<RolloutDetail> => api((x) => x.rollouts.getRollout)({ params: { id: rollout.id } });
      await until('the canary to take traffic', rolloutHint, 60_000, async () => (await detail()).step >= 0);
      done('canary', `rollout ${rollout.id}: 2.0.0 takes 50% of production's traffic`);
      const end = await until('the rollout to end', rolloutHint, 90_000, async () => {
        const r = await detail();
        return ['succeeded', 'aborted', 'failed', 'paused'].includes(r.state) ? r : null;
      });
      await sleep(1500); // requests routed before the abort still arrive
      const seen = load.candidateWindow(faulty.id);
      if (end.state !== 'aborted') throw new DemoError(`the rollout ended ${end.state} (${end.reason ?? 'no reason'}), not aborted by its analysis; ${rolloutHint}`);
      const a = end.lastAnalysis;
      const faultToStableMs = seen ? seen.last - seen.first : null;
      const abortedAfterMs = end.stepStartedAt && end.finishedAt ? Date.parse(end.finishedAt) - Date.parse(end.stepStartedAt) : null;
      done(
        'rollback',
        `analysis failed → rollout aborted: ${end.reason ?? ''}${a ? ` (canary ${a.candidate.errors}/${a.candidate.requests} errors)` : ''}; traffic fully back on 1.0.0 ${faultToStableMs === null ? '(the canary got no request)' : `${(faultToStableMs / 1000).toFixed(1)} s after the first request reached the faulty canary`}`,
      );
      rollout = end;
      const pointer = (await api((x) => x.promotions.listPointers)({ query: { model: DEMO_MODEL, environment: 'production' } })).items[0]?.version ?? null;
      if (pointer !== '1.0.0') throw new DemoError(`production points at ${pointer ?? 'nothing'} after the rollback, not 1.0.0; ${rolloutHint}`);
      await sleep(1000);
      const loadReport = load.report();

      // 6. The record: the audit chain, the rollout's timeline, the domain events.
      const audit = await api((x) => x.audit.verifyAudit)({});
      if (!audit.ok) throw new DemoError(`the audit chain does not verify: ${audit.firstBad ? `event ${audit.firstBad.seq}: ${audit.firstBad.problem}` : 'no detail'}`);
      done('audit', `audit chain verified: ${audit.events} events, head ${audit.head?.slice(0, 12) ?? '–'}`);
      const events: Record<string, number> = {};
      for (let after = 0; ; ) {
        const page = await api((x) => x.events.listEvents)({ query: { after, limit: 500 } });
        for (const e of page.items) events[e.type] = (events[e.type] ?? 0) + 1;
        if (page.items.length === 0 || page.next === after) break;
        after = page.next;
      }
      const timeline = (end as RolloutDetail).timeline.map((e) => ({ at: e.at, kind: e.kind, message: e.message }));
      await load.stop();
      await stopDeployments(deployments.filter((id) => !evalDeps.some((d) => d.id === id)));
      done('stop', 'stopped the load and every deployment');
      return {
        url: opts.url,
        steps,
        pushed,
        evaluations,
        production: pointer,
        rollout: { id: rollout.id, state: rollout.state, reason: rollout.reason, candidateDeployment: rollout.candidate.deployment, faultToStableMs, abortedAfterMs },
        load: loadReport,
        audit: { ok: audit.ok, events: audit.events, head: audit.head },
        timeline,
        events,
      };
    } finally {
      await load.stop();
    }
  } finally {
    // Whatever happened, no replica outlives the demo (a stop is the reconciler's work: wait for it).
    await stopAndWait(admin, deployments, logsHint);
  }
}

/**
 * Asks each deployment to stop (one stopping or stopped already is left to it) and waits until
 * all are stopped: the reconciler stops the replicas, which run in process groups of their own
 * and would outlive a server closed before it did.
 */
export async function stopAndWait(client: StewardClient, ids: readonly string[], hint: string): Promise<void> {
  await Promise.all(ids.map((id) => client.api((x) => x.deployments.stopDeployment)({ params: { id } }).catch(() => undefined)));
  await until('the deployments to stop', hint, 30_000, async () => {
    for (const id of ids) if ((await client.api((x) => x.deployments.getDeployment)({ params: { id } })).state !== 'stopped') return false;
    return true;
  });
}

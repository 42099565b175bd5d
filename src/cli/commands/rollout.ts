/** `steward rollout start|status|pause|resume|promote|abort`: progressive delivery into an environment. */
import type { Command } from 'commander';
import { parseAnalysisLine, type RolloutDetail, type RolloutResponse } from '../../contracts/rollouts.js';
import type { StewardClient } from '../../sdk/client.js';
import { clientFor, printJson, printTable, type GlobalOptions } from '../cli-context.js';
import { parseRef, UsageError } from '../cli-errors.js';
import { pickGlobals } from './push.js';

function numbers(flag: string) {
  return (v: string): number[] => {
    const parts = v.split(',').map((p) => p.trim());
    if (!parts.every((p) => /^\d{1,3}$/.test(p))) throw new UsageError(`${flag} ${JSON.stringify(v)} must be whole percentages separated by commas, e.g. 5,25,50,100`);
    return parts.map(Number);
  };
}

function percent(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || n > 100) throw new UsageError(`${flag} ${JSON.stringify(v)} must be a percentage (0-100)`);
    return n;
  };
}

function durationText(flag: string) {
  return (v: string): string => {
    if (!/^\d{1,6}(s|m|h)$/.test(v)) throw new UsageError(`${flag} ${JSON.stringify(v)} must look like 30s, 5m or 1h`);
    return v;
  };
}

const FINISHED = new Set(['succeeded', 'aborted', 'failed']);

function summary(r: RolloutResponse): string[] {
  const step = r.step >= 0 ? r.steps[r.step] : undefined;
  const where = step ? `step ${r.step + 1}/${r.steps.length} (${step.kind === 'shadow' ? `${step.shadowPercent}% mirrored` : `${step.weight}% on the candidate`})` : `not started (${r.steps.length} steps)`;
  const lines = [
    `${r.id}  ${r.model}  ${r.stable.version} → ${r.candidate.version} in ${r.environment}  ${r.strategy}  ${r.state.toUpperCase()}`,
    `stable     ${r.stable.deployment}; candidate ${r.candidate.deployment ?? '(being made)'}${r.candidate.created ? ' (made by the rollout)' : ''}`,
    `at         ${where}${r.promotion ? `; promotion ${r.promotion}` : ''}`,
  ];
  if (r.reason) lines.push(`reason     ${r.reason}`);
  const a = r.lastAnalysis;
  if (a) {
    const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
    const ms = (x: number | null) => (x === null ? '-' : `${Math.round(x)} ms`);
    lines.push(`analysis   ${a.verdict.toUpperCase()} at ${a.at}: ${a.reason}`);
    lines.push(`  candidate ${a.candidate.requests} req, errors ${pct(a.candidate.errorRate)}, p95 ${ms(a.candidate.p95LatencyMs)}${a.stable ? `; stable ${a.stable.requests} req, errors ${pct(a.stable.errorRate)}, p95 ${ms(a.stable.p95LatencyMs)}` : ''}`);
  }
  if (r.report) lines.push(`report     ${r.report.conclusion}`);
  return lines;
}

function printDetail(r: RolloutDetail): void {
  const lines = summary(r);
  lines.push('timeline');
  for (const t of r.timeline) lines.push(`  ${t.at}  ${t.kind.padEnd(8)} ${t.message}`);
  if (r.state === 'paused') lines.push(`paused: steward rollout resume ${r.id} | steward rollout promote ${r.id} | steward rollout abort ${r.id}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Exit status 1 for a rollout that ended without its candidate serving. */
function exitFor(r: RolloutResponse): void {
  if (r.state === 'aborted' || r.state === 'failed') process.exitCode = 1;
}

async function waitEnd(client: StewardClient, id: string, timeoutMs: number, narrate: boolean): Promise<RolloutDetail> {
  const end = Date.now() + timeoutMs;
  let seen = 0;
  for (;;) {
    const r = await client.api((t) => t.rollouts.getRollout)({ params: { id } });
    if (narrate) for (const t of r.timeline.filter((x) => x.seq > seen)) process.stderr.write(`  ${t.kind.padEnd(8)} ${t.message}\n`);
    seen = r.timeline.at(-1)?.seq ?? seen;
    if (FINISHED.has(r.state) || r.state === 'paused') return r;
    if (Date.now() > end) throw new UsageError(`rollout ${id} is still ${r.state} after ${timeoutMs / 1000} s; follow it with steward rollout status ${id}`);
    await new Promise((res) => setTimeout(res, 1000));
  }
}

export function registerRollout(program: Command, globals: () => GlobalOptions): void {
  const g = (o: GlobalOptions) => ({ ...globals(), ...pickGlobals(o) });
  const rollout = program.command('rollout').description('Progressive delivery: move an environment to a new version step by step, analysed, rolled back automatically');

  rollout
    .command('start')
    .description("Start a rollout of a candidate version into an environment (the environment's policy, with these flags over it)")
    .argument('<NAME:VERSION>', 'the candidate')
    .requiredOption('--env <env>', 'the environment (it must run a stable version already)')
    .option('--strategy <s>', 'canary, blue-green, ab or shadow')
    .option('--steps <list>', "canary: the candidate's share at each step, e.g. 5,25,50,100", numbers('--steps'))
    .option('--weights <stable,candidate>', 'a fixed split that sums to 100 (A/B; canary: one step, then 100), e.g. 90,10', numbers('--weights'))
    .option('--pause <duration>', 'how long each step is held and analysed (A/B and shadow: the duration), e.g. 30s', durationText('--pause'))
    .option('--grace <duration>', 'blue-green: how long blue stays warm after the switch', durationText('--grace'))
    .option('--preview <percent>', "blue-green: green's share while it is previewed", percent('--preview'))
    .option('--shadow-percent <percent>', 'shadow: the share of requests mirrored to the candidate', percent('--shadow-percent'))
    .option('--sticky <how>', 'A/B: none, key or header:NAME')
    .option('--analysis <criteria>', 'e.g. "error-rate<0.05,p95<2000,ttft<500,tps>20,min-requests>100", or none')
    .option('--candidate-deployment <id>', 'a deployment already serving the candidate in the environment (default: one found there, else a copy of the stable one)')
    .option('--reason <text>', 'why (kept in the audit log)')
    .option('--wait', 'follow it, printing each step and analysis, until it ends or pauses')
    .option('--timeout <minutes>', 'with --wait: give up after this many minutes', (v) => Number(v), 60)
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Examples:
  steward rollout start acme/bot:2.0.0 --env production --strategy canary --steps 5,25,50,100 --pause 30s --analysis 'error-rate<0.05,p95<2000'
  steward rollout start acme/bot:2.0.0 --env production --strategy blue-green --pause 2m --grace 10m
  steward rollout start acme/bot:2.0.0 --env production --strategy ab --weights 50,50 --pause 1h --sticky header:x-user-id
  steward rollout start acme/bot:2.0.0 --env production --strategy shadow --shadow-percent 20 --pause 10m

Each step is analysed every 2 s from the gateway's usage (error rate, p95 latency, time to first
token, tokens per second; against absolute thresholds and the stable arm). A failed analysis or a
degraded candidate returns all traffic to the stable version at once. Too little traffic is
inconclusive: the rollout pauses at the end of the step rather than passing it.`,
    )
    .action(async (ref: string, o: { env: string; strategy?: string; steps?: number[]; weights?: number[]; pause?: string; grace?: string; preview?: number; shadowPercent?: number; sticky?: string; analysis?: string; candidateDeployment?: string; reason?: string; wait?: boolean; timeout: number } & GlobalOptions) => {
      const r = parseRef(ref);
      const spec: Record<string, unknown> = {};
      if (o.strategy) spec.strategy = o.strategy;
      if (o.steps) spec.steps = o.steps;
      if (o.weights) {
        if (o.weights.length !== 2) throw new UsageError(`--weights takes two shares, stable and candidate (e.g. 90,10); got ${o.weights.length}`);
        spec.weights = o.weights;
      }
      if (o.pause) spec.pause = o.pause;
      if (o.grace) spec.grace = o.grace;
      if (o.preview !== undefined) spec.previewPercent = o.preview;
      if (o.shadowPercent !== undefined) spec.shadowPercent = o.shadowPercent;
      if (o.sticky) spec.sticky = o.sticky;
      if (o.analysis) {
        const a = parseAnalysisLine(o.analysis);
        if (!a.ok) throw new UsageError(`--analysis: ${a.message}`);
        spec.analysis = a.spec;
      }
      const client = clientFor(g(o));
      const started = await client.api((t) => t.rollouts.startRollout)({
        body: { model: `${r.name}:${r.ref}`, environment: o.env, spec, ...(o.candidateDeployment ? { candidateDeployment: o.candidateDeployment } : {}), ...(o.reason ? { reason: o.reason } : {}) },
      });
      if (!o.wait) {
        if (o.json) return printJson(started);
        process.stdout.write(`${summary(started).join('\n')}\nfollow it: steward rollout status ${started.id}\n`);
        return;
      }
      const done = await waitEnd(client, started.id, o.timeout * 60_000, !o.json);
      if (o.json) printJson(done);
      else printDetail(done);
      exitFor(done);
    });

  rollout
    .command('status')
    .description('Show a rollout with its analysis and timeline, or list rollouts')
    .argument('[id]', 'a rollout id (none: list them)')
    .option('--model <name>', 'only this model')
    .option('--env <env>', 'only this environment')
    .option('--state <state>', 'pending, running, paused, succeeded, aborted or failed')
    .option('--limit <n>', 'at most this many', (v) => Number(v), 20)
    .option('--json', 'print JSON')
    .action(async (id: string | undefined, o: { model?: string; env?: string; state?: string; limit: number } & GlobalOptions) => {
      const client = clientFor(g(o));
      if (id) {
        const r = await client.api((t) => t.rollouts.getRollout)({ params: { id } });
        if (o.json) return printJson(r);
        return printDetail(r);
      }
      const res = await client.api((t) => t.rollouts.listRollouts)({
        query: { ...(o.model ? { model: o.model } : {}), ...(o.env ? { environment: o.env } : {}), ...(o.state ? { state: o.state as 'running' } : {}), limit: o.limit },
      });
      if (o.json) return printJson(res);
      printTable(
        ['ID', 'MODEL', 'ENV', 'FROM', 'TO', 'STRATEGY', 'STEP', 'STATE', 'UPDATED'],
        res.items.map((r) => [r.id, r.model, r.environment, r.stable.version, r.candidate.version, r.strategy, r.step >= 0 ? `${r.step + 1}/${r.steps.length}` : '-', r.state, r.updatedAt]),
      );
    });

  const act = (verb: 'pause' | 'resume' | 'promote' | 'abort', description: string) =>
    rollout
      .command(verb)
      .description(description)
      .argument('<id>', 'the rollout')
      .option('--reason <text>', 'why (kept in the audit log)')
      .option('--json', 'print JSON')
      .action(async (id: string, o: { reason?: string } & GlobalOptions) => {
        const client = clientFor(g(o));
        const params = { params: { id }, body: { reason: o.reason ?? '' } };
        const r =
          verb === 'pause'
            ? await client.api((t) => t.rollouts.pauseRollout)(params)
            : verb === 'resume'
              ? await client.api((t) => t.rollouts.resumeRollout)(params)
              : verb === 'promote'
                ? await client.api((t) => t.rollouts.promoteRollout)(params)
                : await client.api((t) => t.rollouts.abortRollout)(params);
        if (o.json) return printJson(r);
        process.stdout.write(`${summary(r).join('\n')}\n`);
      });
  act('pause', 'Hold a rollout at its current step (traffic stays as it is)');
  act('resume', 'Go on from a pause (the step is held and analysed again from now)');
  act('promote', 'Skip the remaining steps: the candidate takes all traffic and the environment points at it');
  act('abort', 'Return all traffic to the stable version now and end the rollout');
}

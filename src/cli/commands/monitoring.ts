/** Monitoring: `steward metrics NAME` (totals and sparklines), `steward slo set|ls|show|rm`. */
import type { Command } from 'commander';
import type { MetricsResponse, SloResponse } from '../../contracts/monitoring.js';
import { clientFor, printJson, printTable, type GlobalOptions } from '../cli-context.js';
import { UsageError } from '../cli-errors.js';
import { ms, pct, sparkline } from './monitoring-fns.js';
import { pickGlobals } from './push.js';

const DURATION = /^[1-9]\d{0,5}[smhdw]$/;
function when(flag: string) {
  return (v: string): string => {
    if (DURATION.test(v) || /^\d{4}-\d\d-\d\dT/.test(v)) return v;
    throw new UsageError(`${flag} ${JSON.stringify(v)} must be a duration back from now (1h, 7d) or an RFC 3339 time`);
  };
}
function share(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!v.trim() || !Number.isFinite(n) || n <= 0 || n >= 1) throw new UsageError(`${flag} ${JSON.stringify(v)} must be a share between 0 and 1, e.g. 0.995`);
    return n;
  };
}
/** `2000ms@99`: requests within the threshold, and the percent of them. */
function latencyObjective(v: string): { thresholdMs: number; percent: number } {
  const m = /^(\d+(?:\.\d+)?)(ms|s)@(\d+(?:\.\d+)?)%?$/.exec(v.trim());
  if (!m) throw new UsageError(`--latency ${JSON.stringify(v)} must look like 2000ms@99 (99 % of requests within 2000 ms)`);
  return { thresholdMs: Number(m[1]) * (m[2] === 's' ? 1000 : 1), percent: Number(m[3]) };
}

function printMetrics(m: MetricsResponse): void {
  const t = m.totals;
  const scope = [m.environment ? `in ${m.environment}` : 'in every environment', m.version ? `version ${m.version}` : null, m.deployment ? `deployment ${m.deployment}` : null, m.key ? `key ${m.key}` : null].filter(Boolean).join(', ');
  const line = (label: string, total: string, values: (number | null)[]) => `${label.padEnd(12)} ${total.padStart(10)}  ${sparkline(values)}`;
  const lines = [
    `${m.model} ${scope}`,
    `${m.since} → ${m.until}, ${m.points.length} points of ${m.step >= 3600 ? `${m.step / 3600}h` : `${m.step / 60}m`}`,
    '',
    line('requests', String(t.requests), m.points.map((p) => p.requests)),
    line('error rate', pct(t.errorRate), m.points.map((p) => p.errorRate)),
    line('p95 latency', ms(t.latencyMs.p95), m.points.map((p) => p.latencyMs.p95)),
    line('p95 ttft', ms(t.ttftMs.p95), m.points.map((p) => p.ttftMs.p95)),
    line('tokens/s', String(t.tokensPerSecond), m.points.map((p) => p.tokensPerSecond)),
    '',
    `latency      p50 ${ms(t.latencyMs.p50)}, p95 ${ms(t.latencyMs.p95)}, p99 ${ms(t.latencyMs.p99)}`,
    `tokens       ${t.inputTokens} in, ${t.outputTokens} out`,
    `cost         $${t.costUsd.toFixed(4)}`,
    `errors       client ${t.errors.client}, rate-limited ${t.errors.rateLimited}, cancelled ${t.errors.cancelled}, timeout ${t.errors.timeout}, upstream ${t.errors.upstream}, server ${t.errors.server}`,
    `refusals     ${t.refusals}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function printSlo(s: SloResponse): void {
  const lines = [`${s.model} in ${s.environment}  (window ${s.window}; set ${s.updatedAt} by ${s.updatedBy})`];
  for (const st of s.status) {
    const what = st.slo === 'availability' ? `availability ≥ ${pct(st.objective, 3)}` : `latency: ${s.latency!.percent}% within ${ms(s.latency!.thresholdMs)}`;
    lines.push(`${what}`);
    lines.push(`  SLI ${pct(st.sli, 3)} over ${st.requests} requests; error budget left ${pct(st.budgetRemaining, 1)}; alert ${st.alert ?? 'none'}`);
    for (const b of st.burnRates) lines.push(`  burn ${b.long}/${b.short} > ${b.factor}×: ${b.longBurn ?? '-'} / ${b.shortBurn ?? '-'}${b.firing ? '  FIRING' : ''}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function registerMonitoring(program: Command, globals: () => GlobalOptions): void {
  const g = (o: GlobalOptions) => ({ ...globals(), ...pickGlobals(o) });

  program
    .command('metrics')
    .description("A model's traffic over time, from the monitoring rollups: requests, error rate, latency, TTFT, tokens, cost")
    .argument('<name>', 'model name')
    .option('--env <env>', 'one environment (default: all)')
    .option('--version <version>', 'one version')
    .option('--deployment <id>', 'one deployment')
    .option('--key <id>', 'one gateway key')
    .option('--since <when>', 'from: a duration back (1h, 7d) or a time', when('--since'), '1h')
    .option('--until <when>', 'to: a duration back or a time (default now)', when('--until'))
    .option('--step <step>', 'bucket size: 1m, 5m, 1h… (default: about 60 points)')
    .option('--json', 'print the API document (every point)')
    .addHelpText(
      'after',
      `
A minute without traffic is a zero (requests) or a blank (error rate, latency): never interpolated.
Minute figures are kept a week, hour figures 90 days.
Examples:
  steward metrics acme/bot --env production --since 1h
  steward metrics acme/bot --env production --since 7d --step 1h --json`,
    )
    .action(async (name: string, o: { env?: string; version?: string; deployment?: string; key?: string; since: string; until?: string; step?: string } & GlobalOptions) => {
      if (o.step !== undefined && !DURATION.test(o.step)) throw new UsageError(`--step ${JSON.stringify(o.step)} must be a duration such as 1m, 5m or 1h`);
      const res = await clientFor(g(o)).api((t) => t.monitoring.metrics)({
        query: {
          model: name,
          since: o.since,
          ...(o.env ? { environment: o.env } : {}),
          ...(o.version ? { version: o.version } : {}),
          ...(o.deployment ? { deployment: o.deployment } : {}),
          ...(o.key ? { key: o.key } : {}),
          ...(o.until ? { until: o.until } : {}),
          ...(o.step ? { step: o.step } : {}),
        },
      });
      if (o.json) return printJson(res);
      printMetrics(res);
    });

  const slo = program.command('slo').description('Service-level objectives: availability and latency per model and environment, error budgets, burn-rate alerts');
  slo
    .command('set')
    .description("Set a model's objectives in an environment (alerts: the SRE workbook's multi-window burn rates)")
    .argument('<name>', 'model name')
    .requiredOption('--env <env>', 'environment')
    .option('--availability <share>', 'share of requests without a server-side error, e.g. 0.995', share('--availability'))
    .option('--latency <objective>', 'e.g. 2000ms@99: 99 % of requests answered within 2000 ms', latencyObjective)
    .option('--window <duration>', 'the compliance window of the error budget', '30d')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  steward slo set acme/bot --env production --availability 0.995 --latency 2000ms@99 --window 30d')
    .action(async (name: string, o: { env: string; availability?: number; latency?: { thresholdMs: number; percent: number }; window: string } & GlobalOptions) => {
      if (o.availability === undefined && o.latency === undefined) throw new UsageError('give --availability, --latency or both');
      const res = await clientFor(g(o)).api((t) => t.monitoring.putSlo)({
        params: { model: name, env: o.env },
        body: { availability: o.availability ?? null, latency: o.latency ?? null, window: o.window },
      });
      if (o.json) return printJson(res);
      printSlo(res);
    });
  slo
    .command('ls')
    .description('Every SLO with its SLI, error budget and alert')
    .option('--model <name>', 'one model')
    .option('--json', 'print JSON')
    .action(async (o: { model?: string } & GlobalOptions) => {
      const res = await clientFor(g(o)).api((t) => t.monitoring.listSlos)({ query: o.model ? { model: o.model } : {} });
      if (o.json) return printJson(res);
      printTable(
        ['MODEL', 'ENV', 'SLO', 'OBJECTIVE', 'SLI', 'BUDGET LEFT', 'REQUESTS', 'ALERT', 'WINDOW'],
        res.items.flatMap((s) => s.status.map((st) => [s.model, s.environment, st.slo, pct(st.objective, 3), pct(st.sli, 3), pct(st.budgetRemaining, 1), st.requests, st.alert ?? '-', s.window])),
      );
    });
  slo
    .command('show')
    .description("A model's objectives in an environment: SLI, error budget, burn rates")
    .argument('<name>', 'model name')
    .requiredOption('--env <env>', 'environment')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { env: string } & GlobalOptions) => {
      const res = await clientFor(g(o)).api((t) => t.monitoring.getSlo)({ params: { model: name, env: o.env } });
      if (o.json) return printJson(res);
      printSlo(res);
    });
  slo
    .command('rm')
    .description("Remove a model's objectives in an environment (its alerts resolve)")
    .argument('<name>', 'model name')
    .requiredOption('--env <env>', 'environment')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { env: string } & GlobalOptions) => {
      await clientFor(g(o)).api((t) => t.monitoring.deleteSlo)({ params: { model: name, env: o.env } });
      if (o.json) return printJson({ model: name, environment: o.env, removed: true });
      process.stdout.write(`removed the SLO of ${name} in ${o.env}\n`);
    });
}

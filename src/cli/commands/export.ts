/** Export for teams that run Prometheus and Grafana: export prometheus-rules|grafana NAME. */
import fs from 'node:fs';
import type { Command } from 'commander';
import { clientFor, printJson, type GlobalOptions } from '../cli-context.js';
import { UsageError } from '../cli-errors.js';
import { pickGlobals } from './push.js';

function fraction(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!v.trim() || !Number.isFinite(n) || n <= 0 || n >= 1) throw new UsageError(`${flag} ${JSON.stringify(v)} must be a fraction between 0 and 1, e.g. 0.05`);
    return n;
  };
}

/** Prints `text`, or writes it to `out` and says so on stderr. */
function emit(text: string, out: string | undefined, what: string): void {
  if (!out) {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    return;
  }
  fs.writeFileSync(out, text.endsWith('\n') ? text : `${text}\n`);
  process.stderr.write(`wrote ${what} to ${out}\n`);
}

export function registerExport(program: Command, globals: () => GlobalOptions): void {
  const g = (o: GlobalOptions) => ({ ...globals(), ...pickGlobals(o) });
  const exp = program.command('export').description("Alert rules and dashboards for Prometheus and Grafana, on the gateway's metrics");
  exp
    .command('prometheus-rules')
    .description('Alert rules for a model: 5xx error rate, p95 latency, SLO burn rate (a PrometheusRule, or the plain rules file)')
    .argument('<name>', 'model name')
    .option('--env <env>', "one environment's traffic only (default: every environment, alerting per environment)")
    .option('--format <format>', 'crd (PrometheusRule for the Prometheus Operator) or rules (a rules file for rule_files / promtool check rules)', 'crd')
    .option('--error-rate <fraction>', 'error ratio that fires the error-rate alert', fraction('--error-rate'))
    .option('--p95-ms <ms>', 'p95 latency that fires the latency alert, in milliseconds')
    .option('--window <duration>', 'window of the error-rate and latency expressions (Prometheus duration)')
    .option('--for <duration>', 'how long a condition holds before the alert fires')
    .option('--slo <fraction>', 'availability objective of the burn-rate alerts', fraction('--slo'))
    .option('-o, --output <file>', 'write to this file instead of standard output')
    .option('--json', 'print JSON (the YAML text and the document)')
    .addHelpText(
      'after',
      `
Examples:
  steward export prometheus-rules acme/chat --env production | kubectl apply -f -
  steward export prometheus-rules acme/chat --format rules -o steward-rules.yml && promtool check rules steward-rules.yml`,
    )
    .action(async (name: string, o: { env?: string; format: string; errorRate?: number; p95Ms?: string; window?: string; for?: string; slo?: number; output?: string } & GlobalOptions) => {
      if (o.format !== 'crd' && o.format !== 'rules') throw new UsageError(`--format ${JSON.stringify(o.format)}: crd or rules`);
      const res = await clientFor(g(o)).api((t) => t.export.prometheusRules)({
        query: {
          model: name,
          format: o.format,
          ...(o.env ? { env: o.env } : {}),
          ...(o.errorRate !== undefined ? { errorRate: o.errorRate } : {}),
          ...(o.p95Ms !== undefined ? { p95Ms: Number(o.p95Ms) } : {}),
          ...(o.window ? { window: o.window } : {}),
          ...(o.for ? { for: o.for } : {}),
          ...(o.slo !== undefined ? { slo: o.slo } : {}),
        },
      });
      if (o.json) return printJson(res);
      emit(res.yaml, o.output, o.format === 'crd' ? 'the PrometheusRule' : 'the rules file');
    });
  exp
    .command('grafana')
    .description('A Grafana dashboard for a model: requests/s, error rate, p50/p95 latency, TTFT, tokens/s and cost per version')
    .argument('<name>', 'model name')
    .option('-o, --output <file>', 'write to this file instead of standard output')
    .option('--json', 'print JSON (the same: the dashboard is JSON)')
    .addHelpText('after', '\nImport the file in Grafana (Dashboards → New → Import) and pick your Prometheus data source.')
    .action(async (name: string, o: { output?: string } & GlobalOptions) => {
      const dash = await clientFor(g(o)).api((t) => t.export.grafana)({ query: { model: name } });
      emit(JSON.stringify(dash, null, 2), o.output, 'the dashboard');
    });
}

/** Notifications: webhooks create|ls|rm|test|deliveries, triggers create|ls|rm. */
import type { Command } from 'commander';
import type { DeliveryResponse, TriggerResponse } from '../../contracts/notify.js';
import { clientFor, printJson, printTable, type GlobalOptions } from '../cli-context.js';
import { UsageError } from '../cli-errors.js';
import { pickGlobals } from './push.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

function int(flag: string, min = 1) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} ${JSON.stringify(v)} must be a whole number ≥ ${min}`);
    return n;
  };
}

const OPS = [
  ['>=', 'gte'],
  ['<=', 'lte'],
  ['!=', 'ne'],
  ['>', 'gt'],
  ['<', 'lt'],
  ['=', 'eq'],
] as const;

/** `score>0.3`, `passed=false`, `metric!=latency`: a condition on the event's data. */
export function parseWhere(text: string): { field: string; op: (typeof OPS)[number][1]; value: number | string | boolean | null } {
  for (const [sym, op] of OPS) {
    const i = text.indexOf(sym);
    if (i <= 0) continue;
    const field = text.slice(0, i).trim();
    const raw = text.slice(i + sym.length).trim();
    if (!field || !raw) break;
    const n = Number(raw);
    const value = raw === 'true' ? true : raw === 'false' ? false : raw === 'null' ? null : Number.isFinite(n) ? n : raw.replace(/^"(.*)"$/, '$1');
    return { field, op, value };
  }
  throw new UsageError(`--where ${JSON.stringify(text)} must look like FIELD>NUMBER, FIELD=VALUE (operators >, >=, <, <=, =, !=), e.g. metrics.psi>0.3 or passed=false`);
}

function printDelivery(d: DeliveryResponse): void {
  process.stdout.write(`${d.id}  ${d.state}  ${d.eventType}  attempts ${d.attempts}  ${d.responseStatus === null ? 'no answer' : `HTTP ${d.responseStatus}`}${d.lastError ? `  ${d.lastError}` : ''}\n`);
}

const ruleOf = (t: TriggerResponse) =>
  t.on.event !== undefined ? `on ${t.on.event}${t.on.where?.length ? ` where ${t.on.where.map((w) => `${w.field} ${w.op} ${JSON.stringify(w.value)}`).join(' and ')}` : ''}` : t.on.schedule !== undefined ? `cron ${t.on.schedule} (UTC)` : `every ${t.on.every}`;

export function registerNotify(program: Command, globals: () => GlobalOptions): void {
  const g = (o: GlobalOptions) => ({ ...globals(), ...pickGlobals(o) });

  const hooks = program.command('webhooks').description('Send events to HTTP endpoints (JSON or Slack), signed, retried, recorded');
  hooks
    .command('create')
    .description('Send events matching patterns to a URL; the signing secret is printed once')
    .requiredOption('--name <name>', 'what it is for, e.g. oncall-slack')
    .requiredOption('--endpoint <url>', 'where to POST (http or https; a Slack incoming-webhook URL with --format slack); --url is the server\'s')
    .requiredOption('--event <pattern>', 'an event type (rollout.aborted) or a prefix (slo.alert.*); repeatable; * for every event', collect)
    .option('--format <format>', 'json (the event, its summary and the delivery id) or slack ({text, blocks})', 'json')
    .option('--namespace <ns>', "only this namespace's events")
    .option('--secret <secret>', 'the signing secret (at least 16 characters; default: generated)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Each POST carries X-Steward-Signature: sha256=HMAC-SHA256(secret, TIMESTAMP + "." + BODY) in hex and
X-Steward-Timestamp: TIMESTAMP (Unix seconds): recompute it, compare in constant time, and refuse a
timestamp more than 5 minutes old. X-Steward-Delivery is the same on every retry (deduplicate on it).

Examples:
  steward webhooks create --name oncall --endpoint https://hooks.slack.com/services/… --format slack --event 'slo.alert.*' --event rollout.aborted
  steward webhooks create --name budgets --endpoint https://ops.example.com/steward --event gateway.budget.threshold --namespace team-a`,
    )
    .action(async (o: { name: string; endpoint: string; event: string[]; format: string; namespace?: string; secret?: string } & GlobalOptions) => {
      if (o.format !== 'json' && o.format !== 'slack') throw new UsageError(`--format ${JSON.stringify(o.format)}: json or slack`);
      const h = await clientFor(g(o)).api((t) => t.notify.createWebhook)({
        body: { name: o.name, url: o.endpoint, events: o.event, format: o.format, ...(o.namespace ? { namespace: o.namespace } : {}), ...(o.secret ? { secret: o.secret } : {}) },
      });
      if (o.json) return printJson(h);
      process.stdout.write(`${h.secret}\n`);
      process.stderr.write(`webhook ${h.name} (id ${h.id}) sends ${h.events.join(', ')} to ${h.url} as ${h.format}; the signing secret above is not shown again. Try it: steward webhooks test ${h.id}\n`);
    });
  hooks
    .command('ls')
    .description('List webhooks, newest first (never their secrets)')
    .option('--limit <n>', 'how many', int('--limit'), 100)
    .option('--json', 'print JSON')
    .action(async (o: { limit: number } & GlobalOptions) => {
      const res = await clientFor(g(o)).api((t) => t.notify.listWebhooks)({ query: { limit: o.limit } });
      if (o.json) return printJson(res);
      printTable(
        ['ID', 'NAME', 'FORMAT', 'NAMESPACE', 'EVENTS', 'URL'],
        res.items.map((h) => [h.id, h.name, h.format, h.namespace ?? '*', h.events.join(','), h.url]),
      );
    });
  hooks
    .command('rm')
    .description('Delete a webhook and its deliveries (refused while a trigger fires it)')
    .argument('<id>', 'webhook id (whk_…)')
    .option('--json', 'print JSON')
    .action(async (id: string, o: GlobalOptions) => {
      await clientFor(g(o)).api((t) => t.notify.deleteWebhook)({ params: { id } });
      if (o.json) return printJson({ id, deleted: true });
      process.stdout.write(`deleted webhook ${id}\n`);
    });
  hooks
    .command('test')
    .description('Send a test notice now and say how the endpoint took it (exit 1 if it did not take it)')
    .argument('<id>', 'webhook id (whk_…)')
    .option('--json', 'print JSON')
    .action(async (id: string, o: GlobalOptions) => {
      const { delivery } = await clientFor(g(o)).api((t) => t.notify.testWebhook)({ params: { id } });
      if (o.json) printJson({ delivery });
      else printDelivery(delivery);
      if (delivery.state !== 'succeeded') process.exitCode = 1;
    });
  hooks
    .command('deliveries')
    .description("A webhook's deliveries, newest first: state, attempts, answer, last error")
    .argument('<id>', 'webhook id (whk_…)')
    .option('--state <state>', 'pending, succeeded or failed')
    .option('--limit <n>', 'how many', int('--limit'), 50)
    .option('--json', 'print JSON')
    .action(async (id: string, o: { state?: string; limit: number } & GlobalOptions) => {
      if (o.state && !['pending', 'succeeded', 'failed'].includes(o.state)) throw new UsageError(`--state ${JSON.stringify(o.state)}: pending, succeeded or failed`);
      const res = await clientFor(g(o)).api((t) => t.notify.listDeliveries)({ params: { id }, query: { limit: o.limit, ...(o.state ? { state: o.state as 'failed' } : {}) } });
      if (o.json) return printJson(res);
      printTable(
        ['ID', 'STATE', 'EVENT', 'SOURCE', 'ATTEMPTS', 'HTTP', 'CREATED', 'LAST ERROR'],
        res.items.map((d) => [d.id, d.state, d.eventType, d.source, d.attempts, d.responseStatus ?? '-', d.createdAt, d.lastError ?? '-']),
      );
    });

  const triggers = program.command('triggers').description('Retraining triggers: an event about a model (drift, an evaluation) or a schedule fires a webhook');
  triggers
    .command('create')
    .description('Fire a webhook when an event about a model meets conditions, or on a schedule')
    .requiredOption('--name <name>', 'what it is for, e.g. retrain-on-drift')
    .requiredOption('--model <name>', 'the model it watches')
    .requiredOption('--webhook <id>', 'the webhook it fires (steward webhooks ls)')
    .option('--on-event <type>', 'an event type, e.g. monitoring.drift.detected or eval.run.finished')
    .option('--where <condition>', 'with --on-event: a condition on the event data, FIELD>NUMBER or FIELD=VALUE (repeatable: all must hold)', collect)
    .option('--schedule <cron>', 'a cron expression (five fields, UTC), e.g. "0 3 * * 1"')
    .option('--every <interval>', 'an interval: 30m, 6h, 1d, 1w')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Examples:
  steward triggers create --name retrain-on-drift --model acme/chat --webhook whk_… --on-event monitoring.drift.detected --where 'metrics.psi>0.3'
  steward triggers create --name eval-regressed --model acme/chat --webhook whk_… --on-event eval.run.finished --where passed=false
  steward triggers create --name weekly --model acme/chat --webhook whk_… --schedule '0 3 * * 1'`,
    )
    .action(async (o: { name: string; model: string; webhook: string; onEvent?: string; where?: string[]; schedule?: string; every?: string } & GlobalOptions) => {
      const given = [o.onEvent, o.schedule, o.every].filter((x) => x !== undefined).length;
      if (given !== 1) throw new UsageError('give exactly one of --on-event, --schedule, --every');
      if (o.where && !o.onEvent) throw new UsageError('--where goes with --on-event');
      const on = o.onEvent !== undefined ? { event: o.onEvent, where: (o.where ?? []).map(parseWhere) } : o.schedule !== undefined ? { schedule: o.schedule } : { every: o.every! };
      const t = await clientFor(g(o)).api((x) => x.notify.createTrigger)({ body: { name: o.name, model: o.model, webhook: o.webhook, on } });
      if (o.json) return printJson(t);
      process.stdout.write(`trigger ${t.name} (id ${t.id}) fires webhook ${t.webhook} for ${t.model} ${ruleOf(t)}${t.nextAt ? `; next at ${t.nextAt}` : ''}\n`);
    });
  triggers
    .command('ls')
    .description('List retraining triggers, newest first')
    .option('--model <name>', 'one model')
    .option('--limit <n>', 'how many', int('--limit'), 100)
    .option('--json', 'print JSON')
    .action(async (o: { model?: string; limit: number } & GlobalOptions) => {
      const res = await clientFor(g(o)).api((t) => t.notify.listTriggers)({ query: { limit: o.limit, ...(o.model ? { model: o.model } : {}) } });
      if (o.json) return printJson(res);
      printTable(
        ['ID', 'NAME', 'MODEL', 'RULE', 'WEBHOOK', 'NEXT', 'LAST FIRED'],
        res.items.map((t) => [t.id, t.name, t.model, ruleOf(t), t.webhook, t.nextAt ?? '-', t.lastFiredAt ?? '-']),
      );
    });
  triggers
    .command('rm')
    .description('Delete a retraining trigger (its next scheduled firing is cancelled)')
    .argument('<id>', 'trigger id (trg_…)')
    .option('--json', 'print JSON')
    .action(async (id: string, o: GlobalOptions) => {
      await clientFor(g(o)).api((t) => t.notify.deleteTrigger)({ params: { id } });
      if (o.json) return printJson({ id, deleted: true });
      process.stdout.write(`deleted trigger ${id}\n`);
    });
}

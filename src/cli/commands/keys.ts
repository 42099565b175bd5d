/** The gateway's control-plane side: keys create|ls|show|revoke, usage, cost, traffic set|show|clear. */
import type { Command } from 'commander';
import type { KeyResponse } from '../../contracts/gateway.js';
import { clientFor, printJson, printTable, type GlobalOptions } from '../cli-context.js';
import { UsageError } from '../cli-errors.js';
import { pickGlobals } from './push.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];
const UNIT_MS = { s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 } as const;

function int(flag: string, min = 0) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} ${JSON.stringify(v)} must be a whole number ≥ ${min}`);
    return n;
  };
}
function usd(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!v.trim() || !Number.isFinite(n) || n < 0) throw new UsageError(`${flag} ${JSON.stringify(v)} must be an amount ≥ 0 in USD`);
    return n;
  };
}

/** `24h`, `7d`… before now, or an RFC 3339 time as it is. */
export function sinceTime(flag: string, v: string, now = Date.now()): string {
  const m = /^(\d{1,9})([smhdw])$/.exec(v);
  if (m) return new Date(now - Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]).toISOString();
  if (Number.isFinite(Date.parse(v))) return new Date(Date.parse(v)).toISOString();
  throw new UsageError(`${flag} ${JSON.stringify(v)} must be a duration such as 24h or 7d, or a time such as 2025-01-31T00:00:00Z`);
}

/** `DEP=N` pairs of --arm and --shadow. */
function pair(flag: string, v: string): [string, number] {
  const eq = v.lastIndexOf('=');
  const n = Number(v.slice(eq + 1));
  if (eq <= 0 || !v.slice(eq + 1).trim() || !Number.isFinite(n) || n < 0) throw new UsageError(`${flag} ${JSON.stringify(v)} must look like DEPLOYMENT=NUMBER`);
  return [v.slice(0, eq), n];
}

const money = (n: number | null) => (n === null ? '-' : `$${n.toFixed(n < 1 ? 4 : 2)}`);

function printKey(k: KeyResponse): void {
  const lines = [
    `${k.id}  ${k.name}${k.revokedAt ? `  REVOKED ${k.revokedAt}` : ''}`,
    `namespace    ${k.namespace ?? '(none: bare model names)'}`,
    `models       ${k.models ? k.models.join(', ') : `every model of ${k.namespace ?? 'no namespace'}`}`,
    `environment  ${k.defaultEnvironment}`,
    `limits       ${k.rpm ?? '∞'} requests/min, ${k.tpm ?? '∞'} tokens/min`,
    `budget       ${money(k.spentUsd)} spent of ${k.budgetUsd === null ? 'no limit' : money(k.budgetUsd)}`,
    `prefix       ${k.prefix}`,
    `created      ${k.createdAt} by ${k.createdBy}; ${k.expiresAt ? `expires ${k.expiresAt}` : 'never expires'}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function registerKeys(program: Command, globals: () => GlobalOptions): void {
  const g = (o: GlobalOptions) => ({ ...globals(), ...pickGlobals(o) });

  const keys = program.command('keys').description('Gateway API keys: what applications send to /v1 (OpenAI-compatible)');
  keys
    .command('create')
    .description('Create a gateway key; its secret is printed once and never again')
    .requiredOption('--name <name>', 'who uses it, e.g. support-bot')
    .option('--namespace <ns>', "the team it belongs to: it may use that namespace's models")
    .option('--model <pattern>', 'a model it may use: NAME or a pattern such as team/* (repeatable; default: every model of its namespace)', collect)
    .option('--env <env>', 'the environment a bare model name resolves in (default production)')
    .option('--rpm <n>', 'requests per minute', int('--rpm', 1))
    .option('--tpm <n>', 'tokens per minute (input + output)', int('--tpm', 1))
    .option('--budget <usd>', 'total spend allowed, in USD', usd('--budget'))
    .option('--expires <duration>', 'lifetime: 90m, 12h, 30d, 2w, or never (default 90d)')
    .option('--json', 'print JSON')
    .action(async (o: { name: string; namespace?: string; model?: string[]; env?: string; rpm?: number; tpm?: number; budget?: number; expires?: string } & GlobalOptions) => {
      const client = clientFor(g(o));
      const k = await client.api((t) => t.gateway.createKey)({
        body: {
          name: o.name,
          ...(o.namespace ? { namespace: o.namespace } : {}),
          ...(o.model ? { models: o.model } : {}),
          ...(o.env ? { defaultEnvironment: o.env } : {}),
          ...(o.rpm !== undefined ? { rpm: o.rpm } : {}),
          ...(o.tpm !== undefined ? { tpm: o.tpm } : {}),
          ...(o.budget !== undefined ? { budgetUsd: o.budget } : {}),
          ...(o.expires ? { expiresIn: o.expires } : {}),
        },
      });
      if (o.json) return printJson(k);
      process.stdout.write(`${k.key}\n`);
      process.stderr.write(
        `key ${k.name} (id ${k.id}, ${k.expiresAt ? `expires ${k.expiresAt}` : 'never expires'}); the secret above is not shown again. Use it with any OpenAI client:\n` +
          `  OPENAI_BASE_URL=${client.url.replace(/\/+$/, '')}/v1 OPENAI_API_KEY=${k.key}\n`,
      );
    });
  keys
    .command('ls')
    .description('List gateway keys, newest first (never their secrets)')
    .option('--namespace <ns>', 'one namespace')
    .option('--all', 'include revoked keys')
    .option('--limit <n>', 'how many', int('--limit', 1), 100)
    .option('--json', 'print JSON')
    .action(async (o: { namespace?: string; all?: boolean; limit: number } & GlobalOptions) => {
      const res = await clientFor(g(o)).api((t) => t.gateway.listKeys)({ query: { ...(o.namespace ? { namespace: o.namespace } : {}), ...(o.all ? {} : { revoked: 'false' }), limit: o.limit } });
      if (o.json) return printJson(res);
      printTable(
        ['ID', 'NAME', 'NAMESPACE', 'MODELS', 'ENV', 'RPM', 'TPM', 'SPENT', 'BUDGET', 'EXPIRES', 'REVOKED'],
        res.items.map((k) => [k.id, k.name, k.namespace ?? '-', k.models?.join(',') ?? '*', k.defaultEnvironment, k.rpm ?? '-', k.tpm ?? '-', money(k.spentUsd), money(k.budgetUsd), k.expiresAt ?? 'never', k.revokedAt ?? '-']),
      );
    });
  keys
    .command('show')
    .description('A gateway key: limits, budget and spend')
    .argument('<id>', 'key id (key_…)')
    .option('--json', 'print JSON')
    .action(async (id: string, o: GlobalOptions) => {
      const k = await clientFor(g(o)).api((t) => t.gateway.getKey)({ params: { id } });
      if (o.json) return printJson(k);
      printKey(k);
    });
  keys
    .command('revoke')
    .description('Revoke a gateway key (gateways refuse it once their route table follows)')
    .argument('<id>', 'key id (key_…)')
    .option('--json', 'print JSON')
    .action(async (id: string, o: GlobalOptions) => {
      const k = await clientFor(g(o)).api((t) => t.gateway.revokeKey)({ params: { id } });
      if (o.json) return printJson(k);
      process.stdout.write(`revoked ${k.name} (${k.id}) at ${k.revokedAt}\n`);
    });

  program
    .command('usage')
    .description('What the gateway served: requests, errors, tokens, cost, latency, grouped')
    .option('--by <group>', 'model, version, key, namespace, deployment or environment', 'model')
    .option('--since <when>', 'from: a duration back (24h, 7d) or a time', '24h')
    .option('--until <when>', 'to: a duration back or a time')
    .option('--model <name>', 'one model')
    .option('--key <id>', 'one key')
    .option('--namespace <ns>', 'one namespace')
    .option('--json', 'print JSON')
    .action(async (o: { by: string; since: string; until?: string; model?: string; key?: string; namespace?: string } & GlobalOptions) => {
      const groups = ['model', 'version', 'key', 'namespace', 'deployment', 'environment'];
      if (!groups.includes(o.by)) throw new UsageError(`--by ${JSON.stringify(o.by)}: one of ${groups.join(', ')}`);
      const res = await clientFor(g(o)).api((t) => t.gateway.usage)({
        query: {
          groupBy: o.by as 'model',
          since: sinceTime('--since', o.since),
          ...(o.until ? { until: sinceTime('--until', o.until) } : {}),
          ...(o.model ? { model: o.model } : {}),
          ...(o.key ? { key: o.key } : {}),
          ...(o.namespace ? { namespace: o.namespace } : {}),
        },
      });
      if (o.json) return printJson(res);
      const ms = (v: number | null) => (v === null ? '-' : v.toFixed(1));
      printTable(
        [o.by.toUpperCase(), 'REQUESTS', 'ERRORS', 'IN TOKENS', 'OUT TOKENS', 'COST', 'LATENCY MS', 'TTFT MS'],
        res.items.map((r) => [r.group ?? '-', r.requests, r.errors, r.inputTokens, r.outputTokens, money(r.costUsd), ms(r.latencyMsAvg), ms(r.ttftMsAvg)]),
      );
    });

  program
    .command('cost')
    .description('What serving cost over a period: per-token prices as metered, GPU-hour prices divided by the tokens served')
    .option('--by <group>', 'model, key, namespace or deployment', 'model')
    .option('--since <when>', 'from: a duration back (24h, 30d) or a time', '30d')
    .option('--until <when>', 'to: a duration back or a time (default now)')
    .option('--model <name>', 'one model')
    .option('--namespace <ns>', 'one namespace')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
A deployment priced per token (steward deploy --price-in/--price-out) costs what the gateway metered.
One priced by the hour (steward deploy --gpu-hour-price) costs price × GPUs × replicas × the hours it ran
in the period, shared among models, keys or namespaces by the tokens each was served; COST/1M TOK is
the cost per million tokens served. An idle deployment's hours go to its model (no key).`,
    )
    .action(async (o: { by: string; since: string; until?: string; model?: string; namespace?: string } & GlobalOptions) => {
      const groups = ['model', 'key', 'namespace', 'deployment'];
      if (!groups.includes(o.by)) throw new UsageError(`--by ${JSON.stringify(o.by)}: one of ${groups.join(', ')}`);
      const res = await clientFor(g(o)).api((t) => t.gateway.cost)({
        query: {
          groupBy: o.by as 'model',
          since: sinceTime('--since', o.since),
          ...(o.until ? { until: sinceTime('--until', o.until) } : {}),
          ...(o.model ? { model: o.model } : {}),
          ...(o.namespace ? { namespace: o.namespace } : {}),
        },
      });
      if (o.json) return printJson(res);
      process.stderr.write(`cost from ${res.since} to ${res.until}\n`);
      printTable(
        [o.by.toUpperCase(), 'REQUESTS', 'IN TOKENS', 'OUT TOKENS', 'TOKEN COST', 'GPU COST', 'COST', 'COST/1M TOK'],
        res.items.map((r) => [r.group ?? '-', r.requests, r.inputTokens, r.outputTokens, money(r.tokenCostUsd), money(r.gpuCostUsd), money(r.costUsd), money(r.costPerMTokUsd)]),
      );
    });

  const traffic = program.command('traffic').description("How a model's traffic in an environment is split between deployments");
  traffic
    .command('set')
    .description('Split traffic between deployments: weighted arms, sticky assignment, a shadow copy, fallbacks')
    .argument('<name>', 'model name')
    .requiredOption('--env <env>', 'environment')
    .requiredOption('--arm <dep=weight>', 'a deployment and its relative weight (repeatable)', collect)
    .option('--sticky <how>', 'key, or header:NAME (a user stays on one arm)', 'none')
    .option('--shadow <dep=percent>', 'copy this percentage of requests to a deployment (answers discarded)')
    .option('--fallback <model>', 'a model (NAME, NAME:ENV, NAME@VERSION) to try when this one cannot answer (repeatable)', collect)
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  steward traffic set acme/bot --env production --arm dep_old=90 --arm dep_new=10 --sticky header:x-user-id')
    .action(async (name: string, o: { env: string; arm: string[]; sticky: string; shadow?: string; fallback?: string[] } & GlobalOptions) => {
      const arms = o.arm.map((a) => {
        const [deployment, weight] = pair('--arm', a);
        if (!Number.isInteger(weight)) throw new UsageError(`--arm ${JSON.stringify(a)}: the weight is a whole number`);
        return { deployment, weight };
      });
      const shadow = o.shadow ? pair('--shadow', o.shadow) : null;
      const res = await clientFor(g(o)).api((t) => t.gateway.putTraffic)({
        params: { name, environment: o.env },
        body: { arms, sticky: o.sticky, shadow: shadow ? { deployment: shadow[0], percent: shadow[1] } : null, fallbacks: o.fallback ?? [] },
      });
      if (o.json) return printJson(res);
      printTraffic(res);
    });
  traffic
    .command('show')
    .description("A model's split in an environment")
    .argument('<name>', 'model name')
    .requiredOption('--env <env>', 'environment')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { env: string } & GlobalOptions) => {
      const res = await clientFor(g(o)).api((t) => t.gateway.getTraffic)({ params: { name, environment: o.env } });
      if (o.json) return printJson(res);
      printTraffic(res);
    });
  traffic
    .command('clear')
    .description("Remove a split: traffic goes to the environment's deployments again")
    .argument('<name>', 'model name')
    .requiredOption('--env <env>', 'environment')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { env: string } & GlobalOptions) => {
      await clientFor(g(o)).api((t) => t.gateway.deleteTraffic)({ params: { name, environment: o.env } });
      if (o.json) return printJson({ model: name, environment: o.env, cleared: true });
      process.stdout.write(`cleared the split of ${name} in ${o.env}\n`);
    });
}

function printTraffic(t: { model: string; environment: string; arms: { deployment: string; weight: number }[]; sticky: string; shadow: { deployment: string; percent: number } | null; fallbacks: string[]; updatedAt: string; updatedBy: string }): void {
  const total = t.arms.reduce((s, a) => s + a.weight, 0);
  const lines = [`${t.model} in ${t.environment}  (set ${t.updatedAt} by ${t.updatedBy})`];
  for (const a of t.arms) lines.push(`  ${a.deployment.padEnd(16)} weight ${String(a.weight).padStart(7)}  ${((100 * a.weight) / total).toFixed(1)}%`);
  lines.push(`sticky     ${t.sticky}`);
  if (t.shadow) lines.push(`shadow     ${t.shadow.percent}% to ${t.shadow.deployment}`);
  if (t.fallbacks.length) lines.push(`fallbacks  ${t.fallbacks.join(', ')}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

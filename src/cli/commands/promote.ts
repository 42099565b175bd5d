/** Environments and promotions: env, promote, approve, reject, promotions, rollback. */
import fs from 'node:fs';
import type { Command } from 'commander';
import type { EnvironmentPolicyInput, EnvironmentResponse, PromotionResponse } from '../../contracts/promotions.js';
import type { StewardClient } from '../../sdk/client.js';
import { clientFor, printJson, printTable, type GlobalOptions } from '../cli-context.js';
import { parseRef, UsageError } from '../cli-errors.js';
import { pickGlobals } from './push.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];
/** States a request leaves by itself or by a decision: `--wait` waits them out (a rollout included). */
const OPEN = new Set(['checking', 'pending', 'rolling_out']);

function int(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} ${JSON.stringify(v)} must be a whole number ≥ 0`);
    return n;
  };
}

/** `24h` → seconds (durations as the API takes them), `none` → null. */
function duration(flag: string) {
  return (v: string): string | null => {
    if (v === 'none') return null;
    if (!/^[1-9]\d{0,5}[smhdw]$/.test(v)) throw new UsageError(`${flag} ${JSON.stringify(v)} must look like 90m, 24h, 7d or 2w (or none)`);
    return v;
  };
}

function printPromotion(p: PromotionResponse): void {
  const lines = [
    `${p.id}  ${p.model.name}:${p.model.version} → ${p.to}  ${p.state.toUpperCase()}`,
    `requested  ${p.requestedAt} by ${p.requestedBy}${p.comment ? `: ${p.comment}` : ''}`,
  ];
  if (p.reason) lines.push(`reason     ${p.reason}`);
  for (const gate of p.gates) lines.push(`  ${gate.status.padEnd(12)} ${gate.name}: ${gate.reason}`);
  if (p.approvals.required > 0) {
    const approvals = p.approvals.decisions.filter((d) => d.decision === 'approve').length;
    lines.push(`approvals  ${approvals}/${p.approvals.required} (${p.approvals.role})${p.expiresAt && p.state === 'pending' ? `; expires ${p.expiresAt}` : ''}`);
    for (const d of p.approvals.decisions) lines.push(`  ${d.decision} by ${d.by} at ${d.at}${d.comment ? `: ${d.comment}` : ''}`);
  }
  if (p.state === 'pending') lines.push(`waiting for approval: steward approve ${p.id}  (or steward reject ${p.id} --comment WHY)`);
  if (p.state === 'rolling_out') lines.push(`rolling out: the environment moves when the rollout succeeds; follow it with steward rollout status --model ${p.model.name} --env ${p.to}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Exit status 1 for a request that did not (or will not) complete. */
function exitFor(p: PromotionResponse): void {
  if (!['completed', 'pending', 'checking', 'rolling_out'].includes(p.state)) process.exitCode = 1;
}

async function waitDecided(client: StewardClient, p: PromotionResponse, timeoutMs: number): Promise<PromotionResponse> {
  const end = Date.now() + timeoutMs;
  let cur = p;
  while (OPEN.has(cur.state)) {
    if (Date.now() > end) throw new UsageError(`promotion ${p.id} is still ${cur.state} after ${timeoutMs / 1000} s; check it later with steward promotions show ${p.id}`);
    await new Promise((r) => setTimeout(r, 1000));
    cur = await client.api((t) => t.promotions.getPromotion)({ params: { id: p.id } });
  }
  return cur;
}

function envRows(items: EnvironmentResponse[]) {
  return items.map((e) => [
    e.name,
    e.namespace ?? '*',
    e.policy.requiredSource ?? '-',
    e.policy.validation.required ? `yes${e.policy.validation.minScore !== null ? ` ≥${e.policy.validation.minScore}` : ''}` : 'no',
    e.policy.gates.length,
    e.policy.approvals.count ? `${e.policy.approvals.count} ${e.policy.approvals.role}` : '-',
    e.policy.deploy.replicas,
    e.policy.autoPromote ? 'yes' : 'no',
  ]);
}

export function registerPromotions(program: Command, globals: () => GlobalOptions): void {
  const g = (o: GlobalOptions) => ({ ...globals(), ...pickGlobals(o) });

  const env = program.command('env').description('Environments (development, staging, production, …) and their promotion policies');
  env
    .command('ls')
    .description('List environments and their policies, in pipeline order')
    .option('--json', 'print JSON')
    .action(async (o: GlobalOptions) => {
      const res = await clientFor(g(o)).api((t) => t.promotions.listEnvironments)({});
      if (o.json) return printJson(res);
      printTable(['ENVIRONMENT', 'NAMESPACE', 'FROM', 'VALIDATION', 'GATES', 'APPROVALS', 'REPLICAS', 'AUTO'], envRows(res.items));
    });
  env
    .command('show')
    .description("Show an environment's policy")
    .argument('<env>', 'environment name')
    .option('--namespace <ns>', "a team's override (default: the global policy)")
    .option('--json', 'print JSON')
    .action(async (name: string, o: { namespace?: string } & GlobalOptions) => {
      const res = await clientFor(g(o)).api((t) => t.promotions.getEnvironment)({ params: { env: name }, query: o.namespace ? { namespace: o.namespace } : {} });
      if (o.json) return printJson(res);
      process.stdout.write(`${res.name}${res.namespace ? ` (namespace ${res.namespace})` : ''}  updated ${res.updatedAt} by ${res.updatedBy}\n${JSON.stringify(res.policy, null, 2)}\n`);
    });
  env
    .command('set')
    .description("Create an environment or change its policy (admin); flags change the current policy, --file replaces it")
    .argument('<env>', 'environment name (lowercase letters, digits, "-")')
    .option('--namespace <ns>', "set a team's override instead of the global policy")
    .option('--file <policy.json>', 'the whole policy as JSON')
    .option('--description <text>', 'what the environment is for')
    .option('--order <n>', 'position in the pipeline (listings sort by it)', int('--order'))
    .option('--required-source <env>', "versions must come from this environment ('none' for any)")
    .option('--validation <on|off>', 'require a passing evaluation run')
    .option('--min-score <x>', "every score of those runs must reach this ('none' to drop)")
    .option('--gate <gate>', 'add a gate, e.g. "exact_match >= 0.9" or "f1 no-regression production 0.02" (repeatable)', collect)
    .option('--clear-gates', 'drop the current gates first')
    .option('--min-time-in-source <duration>', "e.g. 24h ('none' to drop)", duration('--min-time-in-source'))
    .option('--approvals <n>', 'approvals required', int('--approvals'))
    .option('--approval-role <role>', 'approver or admin')
    .option('--approval-timeout <duration>', 'a waiting request expires after this, e.g. 7d', duration('--approval-timeout'))
    .option('--replicas <n>', 'replicas of deployments in this environment', int('--replicas'))
    .option('--auto-promote <on|off>', 'every ready version enters this environment by itself')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Examples:
  steward env set production --approvals 2 --gate "exact_match >= 0.9" --gate "f1 no-regression production"
  steward env set canary --required-source staging --min-time-in-source 24h
  steward env set staging --namespace team-a --validation off`,
    )
    .action(async (name: string, o: Record<string, unknown> & GlobalOptions) => {
      const client = clientFor(g(o));
      let policy: EnvironmentPolicyInput;
      if (o.file) {
        try {
          policy = JSON.parse(fs.readFileSync(o.file as string, 'utf8')) as EnvironmentPolicyInput;
        } catch (err) {
          throw new UsageError(`--file ${String(o.file)}: ${(err as Error).message}`);
        }
      } else {
        const ns = o.namespace as string | undefined;
        const cur = await client
          .api((t) => t.promotions.getEnvironment)({ params: { env: name }, query: ns ? { namespace: ns } : {} })
          .catch((err: unknown) => {
            if ((err as { status?: number }).status === 404) return null;
            throw err;
          });
        policy = cur ? { ...cur.policy } : {};
      }
      const onOff = (flag: string, v: unknown): boolean => {
        if (v === 'on' || v === 'true' || v === 'yes') return true;
        if (v === 'off' || v === 'false' || v === 'no') return false;
        throw new UsageError(`${flag} takes on or off`);
      };
      if (o.description !== undefined) policy.description = o.description as string;
      if (o.order !== undefined) policy.order = o.order as number;
      if (o.requiredSource !== undefined) policy.requiredSource = o.requiredSource === 'none' ? null : (o.requiredSource as string);
      if (o.validation !== undefined || o.minScore !== undefined) {
        const v = { required: false, minScore: null as number | null, ...policy.validation };
        if (o.validation !== undefined) v.required = onOff('--validation', o.validation);
        if (o.minScore !== undefined) {
          const n = Number(o.minScore);
          if (o.minScore !== 'none' && !(n >= 0 && n <= 1)) throw new UsageError('--min-score takes a number from 0 to 1, or none');
          v.minScore = o.minScore === 'none' ? null : n;
        }
        policy.validation = v;
      }
      if (o.clearGates) policy.gates = [];
      if (o.gate) policy.gates = [...(policy.gates ?? []), ...(o.gate as string[])];
      if (o.minTimeInSource !== undefined) policy.minTimeInSource = o.minTimeInSource as string | null;
      if (o.approvals !== undefined || o.approvalRole !== undefined) {
        const a = { count: 0, role: 'approver' as 'approver' | 'admin', ...policy.approvals };
        if (o.approvals !== undefined) a.count = o.approvals as number;
        if (o.approvalRole !== undefined) {
          if (o.approvalRole !== 'approver' && o.approvalRole !== 'admin') throw new UsageError('--approval-role takes approver or admin');
          a.role = o.approvalRole;
        }
        policy.approvals = a;
      }
      if (o.approvalTimeout) policy.approvalTimeout = o.approvalTimeout as string;
      if (o.replicas !== undefined) policy.deploy = { runtime: null, ...policy.deploy, replicas: o.replicas as number };
      if (o.autoPromote !== undefined) policy.autoPromote = onOff('--auto-promote', o.autoPromote);
      const res = await client.api((t) => t.promotions.putEnvironment)({
        params: { env: name },
        query: o.namespace ? { namespace: o.namespace as string } : {},
        body: policy,
      });
      if (o.json) return printJson(res);
      process.stdout.write(`${res.name}${res.namespace ? ` (namespace ${res.namespace})` : ''} saved\n`);
    });
  env
    .command('history')
    .description("Every move of a model's environment pointers, newest first")
    .argument('<model>', 'model NAME')
    .option('--env <env>', 'one environment')
    .option('--limit <n>', 'moves to show', int('--limit'), 50)
    .option('--json', 'print JSON')
    .action(async (model: string, o: { env?: string; limit: number } & GlobalOptions) => {
      const res = await clientFor(g(o)).api((t) => t.promotions.pointerHistory)({ query: { model, ...(o.env ? { environment: o.env } : {}), limit: o.limit } });
      if (o.json) return printJson(res);
      printTable(
        ['AT', 'ENVIRONMENT', 'VERSION', 'PREVIOUS', 'HOW', 'BY', 'REASON'],
        res.items.map((m) => [m.at, m.environment, m.version ?? '-', m.previous ?? '-', m.kind === 'promotion' ? `promotion ${m.promotion ?? ''}` : m.kind, m.by, m.reason ?? '']),
      );
    });

  program
    .command('promote')
    .description('Request a promotion of a model version to an environment: gates are evaluated, then it completes or waits for approvals')
    .argument('<name:version>', 'model NAME:VERSION')
    .requiredOption('--to <env>', 'target environment')
    .option('--comment <text>', 'why (shown to approvers)')
    .option('--wait', 'wait until it is approved, rejected or expires')
    .option('--timeout <minutes>', 'with --wait: give up after this many minutes', int('--timeout'), 60)
    .option('--json', 'print JSON')
    .action(async (ref: string, o: { to: string; comment?: string; wait?: boolean; timeout: number } & GlobalOptions) => {
      const r = parseRef(ref);
      const client = clientFor(g(o));
      let p = await client.api((t) => t.promotions.createPromotion)({ body: { model: `${r.name}:${r.ref}`, to: o.to, ...(o.comment ? { comment: o.comment } : {}) } });
      if (o.wait && OPEN.has(p.state)) {
        if (!o.json) process.stderr.write(p.state === 'rolling_out' ? `promotion ${p.id} is rolling out: steward rollout status --model ${p.model.name} --env ${p.to}\n` : `promotion ${p.id} waits for ${p.approvals.required} approval(s) (${p.approvals.role}): steward approve ${p.id}\n`);
        p = await waitDecided(client, p, o.timeout * 60_000);
      }
      if (o.json) printJson(p);
      else printPromotion(p);
      exitFor(p);
    });

  const decide = (verb: 'approve' | 'reject') =>
    program
      .command(verb)
      .description(verb === 'approve' ? 'Approve a pending promotion (approver or admin; not your own request)' : 'Reject a pending promotion, saying why')
      .argument('<id>', 'promotion id (steward promotions ls --state pending)')
      .option('--comment <text>', verb === 'approve' ? 'a note for the record' : 'why (required)')
      .option('--json', 'print JSON')
      .action(async (id: string, o: { comment?: string } & GlobalOptions) => {
        const client = clientFor(g(o));
        let p: PromotionResponse;
        if (verb === 'approve') p = await client.api((t) => t.promotions.approvePromotion)({ params: { id }, body: { comment: o.comment ?? '' } });
        else {
          if (!o.comment) throw new UsageError('say why with --comment');
          p = await client.api((t) => t.promotions.rejectPromotion)({ params: { id }, body: { comment: o.comment } });
        }
        if (o.json) printJson(p);
        else printPromotion(p);
      });
  decide('approve');
  decide('reject');

  const promotions = program.command('promotions').description('Promotion requests: the approvals inbox, their gates and evidence');
  promotions
    .command('ls')
    .description('List promotion requests, newest first')
    .option('--model <name>', 'one model')
    .option('--env <env>', 'one target environment')
    .option('--state <state>', 'checking, pending, completed, rejected, failed, cancelled or expired (pending: the approvals inbox)')
    .option('--limit <n>', 'how many', int('--limit'), 50)
    .option('--json', 'print JSON')
    .action(async (o: { model?: string; env?: string; state?: string; limit: number } & GlobalOptions) => {
      const res = await clientFor(g(o)).api((t) => t.promotions.listPromotions)({
        query: { ...(o.model ? { model: o.model } : {}), ...(o.env ? { environment: o.env } : {}), ...(o.state ? { state: o.state as 'pending' } : {}), limit: o.limit },
      });
      if (o.json) return printJson(res);
      printTable(
        ['ID', 'MODEL', 'TO', 'STATE', 'APPROVALS', 'REQUESTED', 'BY'],
        res.items.map((p) => [
          p.id,
          `${p.model.name}:${p.model.version}`,
          p.to,
          p.state,
          p.approvals.required ? `${p.approvals.decisions.filter((d) => d.decision === 'approve').length}/${p.approvals.required}` : '-',
          p.requestedAt,
          p.requestedBy,
        ]),
      );
    });
  promotions
    .command('show')
    .description('A promotion request: every gate with its evidence, the approvals')
    .argument('<id>', 'promotion id')
    .option('--json', 'print JSON')
    .action(async (id: string, o: GlobalOptions) => {
      const p = await clientFor(g(o)).api((t) => t.promotions.getPromotion)({ params: { id } });
      if (o.json) return printJson(p);
      printPromotion(p);
    });
  promotions
    .command('cancel')
    .description('Cancel a pending promotion (its requester or an admin)')
    .argument('<id>', 'promotion id')
    .option('--json', 'print JSON')
    .action(async (id: string, o: GlobalOptions) => {
      const p = await clientFor(g(o)).api((t) => t.promotions.cancelPromotion)({ params: { id } });
      if (o.json) return printJson(p);
      printPromotion(p);
    });

  program
    .command('rollback')
    .description('Move an environment back to its last known-good version of a model (or --to an earlier one), skipping gates')
    .argument('<model>', 'model NAME')
    .requiredOption('--env <env>', 'the environment to roll back')
    .option('--to <version>', 'a version that was in the environment before (default: the last known-good one)')
    .option('--reason <text>', 'why (audited)')
    .option('--json', 'print JSON')
    .action(async (model: string, o: { env: string; to?: string; reason?: string } & GlobalOptions) => {
      const t0 = performance.now();
      const m = await clientFor(g(o)).api((t) => t.promotions.rollback)({
        params: { env: o.env },
        body: { model, ...(o.to ? { to: o.to } : {}), ...(o.reason ? { reason: o.reason } : {}) },
      });
      if (o.json) return printJson(m);
      process.stdout.write(`${m.environment}: ${m.model} ${m.previous ?? '-'} → ${m.version} (rolled back in ${Math.round(performance.now() - t0)} ms)\n`);
    });
}

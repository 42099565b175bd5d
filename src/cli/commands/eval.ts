/**
 * `steward eval …`: evaluation suites (dataset versions holding cases and an evalSuite spec),
 * runs against an OpenAI-compatible endpoint (executed by the server, followed here with a
 * progress bar), per-case results, comparisons of two runs, and gates. Endpoint API keys come
 * from the environment only (never a flag, so they stay out of shell history and `ps`).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { EvalSuiteSpec, parseCasesJsonl, parseGate, type CaseResult, type GateInput, type RunResponse } from '../../contracts/evals.js';
import { EvalsClient } from '../../sdk/evals-client.js';
import { clientFor, confirm, env, printJson, printTable, wantsProgress, type GlobalOptions } from '../cli-context.js';
import { UsageError } from '../cli-errors.js';
import { countProgress } from '../progress.js';
import { pickGlobals, runPush } from './push.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

function intOption(v: string, name: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} must be an integer ≥ ${min} (got ${JSON.stringify(v)})`);
  return n;
}

/** `500ms`, `30s`, `2m` or a bare number of milliseconds. */
export function parseDuration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
  if (!m) throw new UsageError(`--timeout ${JSON.stringify(v)} must look like 500ms, 30s or 2m`);
  const n = Number(m[1]);
  return Math.round(m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n);
}

const fmt = (n: number | null | undefined, digits = 4): string => (n === null || n === undefined ? '-' : String(Number(n.toPrecision(digits))));

/** Reads and checks a suite directory locally: the spec and every case line, before any upload. */
export function loadSuiteDir(dir: string, configFile?: string): { spec: EvalSuiteSpec; raw: unknown; cases: number } {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a directory; put cases.jsonl (and suite.json) in one`);
  const cfgPath = configFile ?? path.join(dir, 'suite.json');
  if (!fs.existsSync(cfgPath)) throw new UsageError(`no suite config: pass --config FILE or put suite.json in ${dir} (see \`steward eval suite push --help\`)`);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(cfgPath, 'utf8')) as unknown;
  } catch (err) {
    throw new UsageError(`${cfgPath} is not JSON: ${(err as Error).message}`);
  }
  const res = EvalSuiteSpec.safeParse(raw);
  if (!res.success) {
    const i = res.error.issues[0]!;
    throw new UsageError(`${cfgPath}: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  const casesPath = path.join(dir, res.data.cases);
  if (!fs.existsSync(casesPath)) throw new UsageError(`${cfgPath} names cases file ${res.data.cases}, which is not in ${dir}`);
  const parsed = parseCasesJsonl(fs.readFileSync(casesPath, 'utf8'), { hasSuitePrompt: res.data.request.prompt !== undefined });
  if (!parsed.ok) throw new UsageError(`${casesPath}: ${parsed.message}`);
  return { spec: res.data, raw, cases: parsed.cases.length };
}

function printRun(run: RunResponse): void {
  const lines = [
    `run        ${run.id}  ${run.state}${run.error ? `  (${run.error})` : ''}`,
    `model      ${run.model.name}:${run.model.version}  via ${run.endpoint.url} (model "${run.endpoint.model}")`,
    `suite      ${run.suite.name}:${run.suite.version}`,
    `cases      ${run.done}/${run.total} done, ${run.failed} failed requests`,
    `created    ${run.createdAt} by ${run.createdBy ?? '-'}${run.finishedAt ? `, finished ${run.finishedAt}` : ''}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const s = run.summary;
  if (!s) return;
  process.stdout.write(`\nmetrics (95% bootstrap CI; ${s.casesPerSecond} cases/s, error rate ${(s.errorRate * 100).toFixed(1)}%)\n`);
  printTable(
    ['metric', 'value', 'ci', 'scored', 'errors', 'better'],
    s.metrics.map((m) => [m.id === m.metric ? m.id : `${m.id} (${m.metric})`, `${fmt(m.value)}${m.unit ? ` ${m.unit}` : ''}`, `${fmt(m.low)} – ${fmt(m.high)}`, m.scored, m.errors, m.higherIsBetter ? 'higher' : 'lower']),
  );
  if (s.thresholds.length) {
    process.stdout.write('\nthresholds\n');
    printTable(['metric', 'rule', 'actual', 'result'], s.thresholds.map((t) => [t.metric, `${t.op} ${t.value}`, fmt(t.actual), t.passed ? 'pass' : 'FAIL']));
    process.stdout.write(`\n${s.passed ? 'all thresholds passed' : 'thresholds FAILED'}\n`);
  }
}

function printCases(items: CaseResult[]): void {
  printTable(
    ['#', 'case', 'status', 'latency', 'scores / error'],
    items.map((c) => [
      c.index,
      c.caseId,
      c.ok ? 'ok' : 'failed',
      c.latencyMs === null ? '-' : `${Math.round(c.latencyMs)} ms`,
      c.ok ? Object.entries(c.scores).map(([k, v]) => `${k}=${v.value === null ? `error(${v.error ?? ''})` : fmt(v.value, 3)}`).join(' ') : (c.error ?? ''),
    ]),
  );
}

/** Follows a run with a progress bar; Ctrl-C detaches (the run goes on in the server). */
async function follow(evals: EvalsClient, run: RunResponse, g: GlobalOptions): Promise<RunResponse> {
  const bar = countProgress('eval', 'cases', wantsProgress(g));
  const ctl = new AbortController();
  const onSigint = () => ctl.abort();
  process.once('SIGINT', onSigint);
  try {
    const last = await evals.wait(run.id, { signal: ctl.signal, onProgress: (r) => bar.update(r.done, r.total, r.failed) });
    bar.stop();
    if (ctl.signal.aborted) process.stderr.write(`detached: run ${run.id} goes on in the server; follow it with \`steward eval show ${run.id}\`, stop it with \`steward eval cancel ${run.id}\`\n`);
    return last;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function finishRun(run: RunResponse, g: GlobalOptions, quiet = false): void {
  if (g.json) printJson(run);
  else if (quiet) process.stdout.write(`${run.id}\n`);
  else printRun(run);
  if (run.state === 'failed' || run.state === 'interrupted' || run.state === 'cancelled') {
    process.stderr.write(`run ${run.id} is ${run.state}${run.error ? `: ${run.error}` : ''}; resume it with \`steward eval resume ${run.id}\`\n`);
    process.exitCode = 1;
  } else if (run.summary && !run.summary.passed) {
    if (quiet) process.stderr.write(`run ${run.id}: thresholds FAILED (\`steward eval show ${run.id}\`)\n`);
    process.exitCode = 1;
  }
}

export function registerEval(program: Command, globals: () => GlobalOptions): void {
  const ev = program
    .command('eval')
    .description('Evaluations: suites, runs against an OpenAI-compatible endpoint, results, comparisons, gates')
    .addHelpText(
      'after',
      `
A suite is a directory with cases.jsonl (one case per line) and suite.json:
  {"id": "q1", "input": "What is 2+2?", "expected": "4", "tags": ["math"]}
  {"input": [{"role": "user", "content": "Say hi"}], "references": ["hi", "hello"]}
  {"prompt": {"ref": "support-bot:production", "variables": {"question": "..."}}, "expected": "..."}
suite.json:
  {"metrics": [{"metric": "exact_match"}, {"metric": "rougeL"}, {"metric": "latency_p95"}],
   "thresholds": [{"metric": "exact_match", "op": ">=", "value": 0.8}],
   "request": {"temperature": 0, "maxTokens": 256}}

Examples:
  steward eval suite push ./qa-suite --name qa --version 1.0.0
  STEWARD_ENDPOINT_API_KEY=... steward eval run qa:1.0.0 --model acme/bot:1.2.0 --endpoint http://127.0.0.1:8000/v1
  steward eval show run_abc --failed
  steward eval compare run_abc run_def
  steward eval gate acme/bot:1.2.0 --gate "exact_match >= 0.8" --gate "rougeL no-regression production 0.01"
  steward eval metrics`,
    );

  const suite = ev.command('suite').description('Evaluation suites (datasets holding cases.jsonl and an evalSuite spec)');
  suite
    .command('push')
    .description('Check a suite directory locally (spec and every case line), then push it as a dataset version')
    .argument('<dir>', 'directory holding cases.jsonl and suite.json')
    .requiredOption('--name <name>', 'suite (dataset) name, "name" or "namespace/name"')
    .requiredOption('--version <semver>', 'version to create, e.g. 1.0.0')
    .option('--config <file>', 'suite spec (default: DIR/suite.json)')
    .option('--label <key=value>', 'label (repeatable)', collect)
    .option('--description <text>', 'description, when the suite is created by this push')
    .option('--json', 'print the version as JSON')
    .option('--no-progress', 'no progress bars')
    .action(async (dir: string, o: { name: string; version: string; config?: string; label?: string[]; description?: string } & GlobalOptions) => {
      const g = { ...globals(), ...pickGlobals(o) };
      const { raw, cases } = loadSuiteDir(dir, o.config);
      if (!g.json) process.stderr.write(`suite: ${cases} cases, checked\n`);
      await runPush(
        dir,
        {
          kind: 'dataset',
          name: o.name,
          version: o.version,
          metadata: { evalSuite: raw, format: 'jsonl', rows: cases },
          ...(o.label ? { label: o.label } : {}),
          ...(o.description ? { description: o.description } : {}),
        },
        g,
      );
    });
  suite
    .command('check')
    .description('Check a suite directory locally without pushing (line numbers for bad cases)')
    .argument('<dir>', 'directory holding cases.jsonl and suite.json')
    .option('--config <file>', 'suite spec (default: DIR/suite.json)')
    .action(async (dir: string, o: { config?: string }) => {
      const { spec, cases } = loadSuiteDir(dir, o.config);
      process.stdout.write(`ok: ${cases} cases, ${spec.metrics.length} metrics, ${spec.thresholds.length} thresholds\n`);
    });

  ev.command('run')
    .description('Evaluate a model version\'s endpoint against a suite; follows the run with a progress bar (exit 1 if a threshold fails)')
    .argument('<suite>', 'suite NAME[:VERSION|ALIAS] (default latest)')
    .requiredOption('--model <name:ref>', 'the model version being evaluated, NAME:VERSION or NAME:ALIAS')
    .requiredOption('--endpoint <url>', 'OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1 (key: $STEWARD_ENDPOINT_API_KEY)')
    .option('--endpoint-model <id>', 'the "model" field sent upstream (default: the model name)')
    .option('--judge-endpoint <url>', 'endpoint of the judge model for llm_judge metrics (key: $STEWARD_JUDGE_API_KEY)')
    .option('--judge-model <id>', 'the judge\'s "model" field')
    .option('-c, --concurrency <n>', 'cases in flight at once', '8')
    .option('--timeout <duration>', 'per request (500ms, 30s, 2m)', '60s')
    .option('--retries <n>', 'retries of transient failures (connection, 429, 5xx)', '3')
    .option('--limit <n>', 'evaluate only the first N cases')
    .option('--label <key=value>', 'label of the run (repeatable)', collect)
    .option('--detach', 'start the run and return at once')
    .option('-q, --quiet', 'print only the run id on stdout once the run ends (for scripts: A=$(steward eval run … -q))')
    .option('--json', 'print the run as JSON')
    .option('--no-progress', 'no progress bar')
    .action(async (suiteRef: string, o: { model: string; endpoint: string; endpointModel?: string; judgeEndpoint?: string; judgeModel?: string; concurrency: string; timeout: string; retries: string; limit?: string; label?: string[]; detach?: boolean; quiet?: boolean } & GlobalOptions) => {
      const g = { ...globals(), ...pickGlobals(o) };
      const evals = new EvalsClient(clientFor(g));
      const labels: Record<string, string> = {};
      for (const l of o.label ?? []) {
        const i = l.indexOf('=');
        if (i <= 0) throw new UsageError(`--label ${JSON.stringify(l)} must look like key=value`);
        labels[l.slice(0, i)] = l.slice(i + 1);
      }
      const apiKey = env('STEWARD_ENDPOINT_API_KEY');
      const judgeKey = env('STEWARD_JUDGE_API_KEY');
      const run = await evals.startRun({
        suite: suiteRef,
        model: o.model,
        endpoint: { url: o.endpoint, ...(apiKey ? { apiKey } : {}), ...(o.endpointModel ? { model: o.endpointModel } : {}) },
        ...(o.judgeEndpoint ? { judge: { url: o.judgeEndpoint, ...(judgeKey ? { apiKey: judgeKey } : {}), ...(o.judgeModel ? { model: o.judgeModel } : {}) } } : {}),
        concurrency: intOption(o.concurrency, '--concurrency', 1),
        timeoutMs: parseDuration(o.timeout),
        retries: intOption(o.retries, '--retries', 0),
        ...(o.limit ? { limit: intOption(o.limit, '--limit', 1) } : {}),
        ...(Object.keys(labels).length ? { labels } : {}),
      });
      if (!g.json && !o.quiet) process.stderr.write(`run ${run.id}: ${run.total} cases of ${run.suite.name}:${run.suite.version} against ${run.model.name}:${run.model.version}\n`);
      if (o.detach) {
        if (g.json) printJson(run);
        else process.stdout.write(`${run.id}\n`);
        return;
      }
      finishRun(await follow(evals, run, o.quiet ? { ...g, progress: false } : g), g, o.quiet);
    });

  ev.command('show')
    .description('A run: state, metrics with confidence intervals, thresholds; --cases lists per-case results')
    .argument('<run>', 'run id')
    .option('--cases', 'list every case')
    .option('--failed', 'list failed cases only (failed requests, binary metrics that scored 0)')
    .option('--json', 'print JSON (with --cases/--failed: {run, cases})')
    .action(async (id: string, o: { cases?: boolean; failed?: boolean } & GlobalOptions) => {
      const g = { ...globals(), ...pickGlobals(o) };
      const evals = new EvalsClient(clientFor(g));
      const run = await evals.getRun(id);
      const cases: CaseResult[] = [];
      if (o.cases || o.failed) for await (const c of evals.allResults(id, { failed: Boolean(o.failed) })) cases.push(c);
      if (g.json) return printJson(o.cases || o.failed ? { run, cases } : run);
      printRun(run);
      if (o.cases || o.failed) {
        process.stdout.write(`\n${o.failed ? 'failed cases' : 'cases'} (${cases.length})\n`);
        printCases(cases);
      }
    });

  ev.command('ls')
    .description('List runs, newest first')
    .option('--model <name[:version]>', 'runs of this model (version)')
    .option('--suite <name[:version]>', 'runs of this suite (version)')
    .option('--state <state>', 'queued, running, succeeded, failed, cancelled or interrupted')
    .option('--limit <n>', 'page size (at most 1000)', '50')
    .option('--cursor <c>', 'continue from a previous page')
    .option('--all', 'every run, page after page')
    .option('--json', 'print JSON')
    .action(async (o: { model?: string; suite?: string; state?: string; limit: string; cursor?: string; all?: boolean } & GlobalOptions) => {
      const g = { ...globals(), ...pickGlobals(o) };
      const evals = new EvalsClient(clientFor(g));
      const limit = intOption(o.limit, '--limit', 1);
      if (limit > 1000) throw new UsageError('--limit must be at most 1000 (use --all or --cursor for more)');
      const query = {
        ...(o.model ? { model: o.model } : {}),
        ...(o.suite ? { suite: o.suite } : {}),
        ...(o.state ? { state: o.state as RunResponse['state'] } : {}),
        limit,
      };
      const page = await evals.listRuns({ ...query, ...(o.cursor ? { cursor: o.cursor } : {}) });
      while (o.all && page.nextCursor) {
        const next = await evals.listRuns({ ...query, cursor: page.nextCursor });
        page.items.push(...next.items);
        page.nextCursor = next.nextCursor;
      }
      if (g.json) return printJson(page);
      printTable(
        ['run', 'state', 'model', 'suite', 'cases', 'passed', 'created'],
        page.items.map((r) => [r.id, r.state, `${r.model.name}:${r.model.version}`, `${r.suite.name}:${r.suite.version}`, `${r.done}/${r.total}`, r.summary ? (r.summary.passed ? 'yes' : 'no') : '-', r.createdAt]),
      );
      if (page.nextCursor) process.stderr.write(`more: --cursor ${page.nextCursor} (or --all)\n`);
    });

  ev.command('compare')
    .description('Compare run B against run A: per-metric deltas with paired-bootstrap intervals, and the cases that flipped')
    .argument('<a>', 'baseline run id')
    .argument('<b>', 'candidate run id')
    .option('--json', 'print JSON')
    .action(async (a: string, b: string, o: GlobalOptions) => {
      const g = { ...globals(), ...pickGlobals(o) };
      const c = await new EvalsClient(clientFor(g)).compare(a, b);
      if (g.json) return printJson(c);
      process.stdout.write(`A ${c.a.id}  ${c.a.model.name}:${c.a.model.version} on ${c.a.suite.name}:${c.a.suite.version}\nB ${c.b.id}  ${c.b.model.name}:${c.b.model.version} on ${c.b.suite.name}:${c.b.suite.version}\n${c.commonCases} cases in common\n\n`);
      printTable(
        ['metric', 'A', 'B', 'delta (B-A)', '95% CI', 'verdict'],
        c.metrics.map((m) => [m.id, fmt(m.a), fmt(m.b), m.delta === null ? '-' : `${m.delta > 0 ? '+' : ''}${fmt(m.delta)}`, `${fmt(m.low)} – ${fmt(m.high)}`, m.verdict]),
      );
      if (c.flipped.length) {
        process.stdout.write(`\nflipped cases (${c.flipped.length}${c.flippedTruncated ? '+' : ''})\n`);
        printTable(['case', 'metric', 'A', 'B', ''], c.flipped.map((f) => [f.caseId, f.metric, fmt(f.a), fmt(f.b), f.direction]));
      } else process.stdout.write('\nno case flipped\n');
    });

  ev.command('cancel')
    .description('Cancel a queued or running run (answered cases are kept; resume continues from them)')
    .argument('<run>', 'run id')
    .option('--json', 'print JSON')
    .action(async (id: string, o: GlobalOptions) => {
      const g = { ...globals(), ...pickGlobals(o) };
      const run = await new EvalsClient(clientFor(g)).cancelRun(id);
      if (g.json) printJson(run);
      else process.stdout.write(`run ${run.id} cancelled at ${run.done}/${run.total} cases\n`);
    });

  ev.command('rm')
    .description('Delete a finished, cancelled or interrupted run with its results (a queued or running one: cancel it first)')
    .argument('<run>', 'run id')
    .option('-y, --yes', 'do not ask for confirmation (required when there is no terminal)')
    .option('--json', 'print the deleted run as JSON')
    .action(async (id: string, o: { yes?: boolean } & GlobalOptions) => {
      const g = { ...globals(), ...pickGlobals(o) };
      if (!(await confirm(`Delete evaluation run ${id} and its results?`, o.yes))) {
        process.stderr.write('nothing deleted\n');
        return;
      }
      const run = await new EvalsClient(clientFor(g)).deleteRun(id);
      if (g.json) printJson(run);
      else process.stdout.write(`deleted run ${run.id} (${run.state}, ${run.model.name}:${run.model.version} on ${run.suite.name}:${run.suite.version})\n`);
    });

  ev.command('resume')
    .description('Resume a cancelled, interrupted or failed run: answered cases are not re-run, failed requests are retried')
    .argument('<run>', 'run id')
    .option('--detach', 'return at once')
    .option('--json', 'print the run as JSON')
    .option('--no-progress', 'no progress bar')
    .action(async (id: string, o: { detach?: boolean } & GlobalOptions) => {
      const g = { ...globals(), ...pickGlobals(o) };
      const evals = new EvalsClient(clientFor(g));
      const apiKey = env('STEWARD_ENDPOINT_API_KEY');
      const judgeApiKey = env('STEWARD_JUDGE_API_KEY');
      const run = await evals.resumeRun(id, { ...(apiKey ? { apiKey } : {}), ...(judgeApiKey ? { judgeApiKey } : {}) });
      if (!g.json) process.stderr.write(`run ${run.id} resumed at ${run.done}/${run.total} cases\n`);
      if (o.detach) return g.json ? printJson(run) : undefined;
      finishRun(await follow(evals, run, g), g);
    });

  ev.command('gate')
    .description('Evaluate gates for a model version from its evaluation runs (exit 1 if any fails)')
    .argument('<model>', 'NAME:VERSION or NAME:ALIAS')
    .requiredOption('--gate <rule>', '"METRIC >= 0.8" or "METRIC no-regression ENVIRONMENT [MAX_DELTA]"; METRIC may be SUITE/METRIC (repeatable)', collect)
    .option('--json', 'print JSON')
    .action(async (model: string, o: { gate: string[] } & GlobalOptions) => {
      const g = { ...globals(), ...pickGlobals(o) };
      const gates: GateInput[] = o.gate.map((text) => {
        const p = parseGate(text);
        if (!p.ok) throw new UsageError(p.message);
        return p.gate;
      });
      const res = await new EvalsClient(clientFor(g)).evaluateGates({ model, gates });
      if (g.json) printJson(res);
      else {
        printTable(['gate', 'result', 'why'], res.results.map((r, i) => [o.gate[i]!, r.passed ? 'pass' : 'FAIL', r.reason]));
        process.stdout.write(`\n${res.model.name}:${res.model.version}: ${res.passed ? 'all gates passed' : 'gates FAILED'}\n`);
      }
      if (!res.passed) process.exitCode = 1;
    });

  ev.command('metrics')
    .description('The metrics library: names, what they measure, direction, parameters')
    .option('--json', 'print JSON (with parameter schemas)')
    .action(async (o: GlobalOptions) => {
      const g = { ...globals(), ...pickGlobals(o) };
      const list = await new EvalsClient(clientFor(g)).metrics();
      if (g.json) return printJson(list);
      printTable(['metric', 'better', 'unit', 'needs', 'description'], list.items.map((m) => [m.name, m.higherIsBetter ? 'higher' : 'lower', m.unit || '-', Object.keys(m.needs).filter((k) => (m.needs as Record<string, boolean>)[k]).join(',') || '-', m.description]));
    });
}

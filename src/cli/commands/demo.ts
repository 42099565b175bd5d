/**
 * `steward demo`: the lifecycle story on the embedded default, narrated. Starts the same server
 * `steward up` runs (SQLite + files, gateway on) in this process on a free port, runs the story
 * (demo-story.ts) through the SDK, prints a line per step, the rollout's timeline and a summary,
 * then stops everything and removes its data dir (unless --keep, or a step failed).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { printJson, type GlobalOptions } from '../cli-context.js';
import { UsageError } from '../cli-errors.js';
import type { DemoResult, DemoStep } from './demo-story.js';

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port ${v} is not a port number (0 picks a free one)`);
  return n;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function printSummary(r: DemoResult, totalMs: number): void {
  const w = (s: string) => process.stdout.write(s + '\n');
  w('\nRollout timeline:');
  for (const e of r.timeline) w(`  ${e.at.slice(11, 23)}  ${e.kind.padEnd(8)} ${e.message}`);
  w('\nSummary:');
  w(`  pushed        ${r.pushed.join(', ')}`);
  for (const e of r.evaluations) w(`  evaluated     ${e.version}: run ${e.run} ${e.state}, thresholds ${e.passed ? 'passed' : 'failed'}`);
  w(`  production    ${r.production} (2.0.0's promotion failed with its rollout)`);
  w(`  rollout       ${r.rollout.id} ${r.rollout.state}: ${r.rollout.reason ?? ''}`);
  if (r.rollout.faultToStableMs !== null) w(`  rollback      traffic fully back on 1.0.0 ${seconds(r.rollout.faultToStableMs)} after the faulty canary's first request`);
  w(`  load          ${r.load.sent} requests through the gateway; answers by status ${JSON.stringify(r.load.byStatus)}`);
  w(`  audit         chain verified over ${r.audit.events} events`);
  w(`  events        ${Object.values(r.events).reduce((a, b) => a + b, 0)} domain events (${Object.entries(r.events).map(([k, v]) => `${k} ${v}`).join(', ')})`);
  w(`  total         ${seconds(totalMs)}`);
}

/** Stops every deployment of the demo's server and waits for it (an interrupted demo). */
async function stopAll(url: string, token: string | undefined): Promise<void> {
  const [{ StewardClient }, { stopAndWait }] = await Promise.all([import('../../sdk/client.js'), import('./demo-story.js')]);
  const client = new StewardClient({ url, token });
  const page = await client.api((t) => t.deployments.listDeployments)({ query: { limit: 100 } });
  await stopAndWait(client, page.items.map((d) => d.id), 'some replicas may still run: `ps -ef | grep runtimes/builtin` finds them');
}

async function demo(o: { data?: string; port: number; keep?: boolean; json?: boolean }): Promise<void> {
  if (o.data && fs.existsSync(o.data) && fs.readdirSync(o.data).length > 0) {
    throw new UsageError(`--data ${o.data} is not empty: the demo starts from nothing; give it a new or empty directory`);
  }
  const dataDir = path.resolve(o.data ?? fs.mkdtempSync(path.join(os.tmpdir(), 'steward-demo-')));
  fs.mkdirSync(dataDir, { recursive: true });
  const say = (line: string) => {
    if (!o.json) process.stdout.write(line + '\n');
  };
  const t0 = performance.now();
  // Loaded on demand, as `steward up` does: the rest of the CLI does not pay for the server.
  const [{ loadConfig }, { startServer }, { runStory }] = await Promise.all([import('../../platform/config.js'), import('../../server/main.js'), import('./demo-story.js')]);
  // The embedded default whatever the environment says (SQLite and files in the data dir);
  // short polls so each step follows the last without waiting for a timer.
  const config = loadConfig({
    env: {},
    flags: { dataDir, port: o.port, host: '127.0.0.1' },
    overrides: { jobPollIntervalMs: 200, eventPollMs: 50, deploymentReconcileMs: 500 },
  });
  const logFile = fs.createWriteStream(path.join(dataDir, 'server.log'), { flags: 'a' });
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({ config, gateway: true, logDestination: logFile });
  } catch (err) {
    // Nothing ran yet: a data dir the demo made is of no use to anyone.
    await new Promise((r) => logFile.end(r));
    if (!o.data) fs.rmSync(dataDir, { recursive: true, force: true });
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new UsageError(`127.0.0.1:${o.port} is in use; run the demo on another port with --port N (0 picks a free one)`);
    throw err;
  }
  const token = server.bootstrapToken?.token;
  let ok = false;
  // Replicas run in process groups of their own and would outlive an interrupted demo: Ctrl-C
  // stops them (and the server) before exiting.
  const running = server;
  const interrupt = (signal: NodeJS.Signals) => {
    process.stderr.write(`\nsteward demo: ${signal}, stopping the deployments and the server; data kept in ${dataDir}\n`);
    const force = setTimeout(() => process.exit(130), 15_000);
    force.unref();
    void stopAll(running.url, token)
      .catch(() => undefined)
      .then(() => running.close())
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    if (!token) throw new Error(`the server in ${dataDir} did not create an admin token: the demo needs a new, empty data directory`);
    say(`steward demo: an embedded server at ${server.url} (SQLite + files in ${dataDir}, gateway on /v1)\n`);
    const result = await runStory({
      url: server.url,
      adminToken: token,
      dataDir,
      onStep: (s: DemoStep) => say(`✓ ${s.step.padEnd(9)} ${s.message}  (${seconds(s.ms)})`),
    });
    const totalMs = performance.now() - t0;
    if (o.json) printJson({ ...result, dataDir, kept: Boolean(o.keep), totalMs: Math.round(totalMs) });
    else printSummary(result, totalMs);
    ok = true;
  } catch (err) {
    process.stderr.write(`steward demo stopped: its data (server.log, the replicas' logs) is kept in ${dataDir}\n`);
    throw err;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await server.close();
    await new Promise((r) => logFile.end(r));
    if (ok && !o.keep) fs.rmSync(dataDir, { recursive: true, force: true });
    else if (ok) say(`\ndata kept in ${dataDir}: \`steward up --data ${dataDir}\` serves it again`);
  }
}

export function registerDemo(program: Command, globals: () => GlobalOptions): void {
  program
    .command('demo')
    .description('Run the whole lifecycle on the tiny built-in model, narrated: push, evaluate, promote, canary, fault, automatic rollback, audit')
    .option('--data <dir>', 'data directory of the demo\'s server (default: a new temporary directory, removed at the end)')
    .option('--port <port>', 'port of the demo\'s server (default 0: a free one)', port, 0)
    .option('--keep', 'keep the data directory at the end (then `steward up --data DIR` serves it)')
    .option('--json', 'print the outcome as JSON (steps, evaluations, rollout, rollback time, audit, timeline) instead of the narration')
    .addHelpText(
      'after',
      `
What it does, in one process and nothing to install (about 20 seconds):
  1. starts the platform as \`steward up\` does (SQLite + files, the gateway on /v1), on a free port
  2. generates two tiny llama GGUF models and pushes them as demo/tiny-chat 1.0.0 and 2.0.0
  3. evaluates both with a small suite against deployments of each (built-in CPU runtime)
  4. sets policies: staging needs a passed evaluation; production needs staging, an approver,
     and takes new versions as a canary analysed every second
  5. promotes 1.0.0 to staging and production (a demo approver token approves), deploys it,
     and sends a steady load of chat requests through the gateway
  6. deploys 2.0.0 with an injected fault (its runtime fails 20% of requests: --fault-rate 0.2)
     and promotes it: the canary takes 50% of the traffic
  7. the analysis sees the error rate above 5%, aborts the rollout, traffic returns to 1.0.0
  8. verifies the audit chain, prints the rollout's timeline and a summary, stops everything

Examples:
  steward demo                  # narrated
  steward demo --keep           # then: steward up --data <the directory it prints>
  steward demo --json | jq .rollout`,
    )
    .action(async (o: { data?: string; port: number; keep?: boolean; json?: boolean }) => demo({ ...o, data: o.data ?? globals().data }));
}

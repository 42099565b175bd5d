/**
 * The variants of the gateway benchmark, each a server in its own process pinned to the server
 * core, all in front of the same fake upstream: `direct` (the upstream itself), `bare` (node:http +
 * undici, the floor), `steward` (Steward's gateway hot path) and `portkey` (@portkey-ai/gateway from
 * npm, installed on demand into bench/.cache/portkey, never a dependency of Steward).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GatewaySnapshot } from '../../src/contracts/gateway.js';
import { freePort, sleep } from '../bench-fns.js';
import type { Target } from './gateway-fns.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '../..');
const SERVE = path.join(HERE, 'serve.ts');

export interface Running extends Target {
  /** The command line that started it, as printed with the figures. */
  command: string;
  stop(): Promise<void>;
}

export interface Placement {
  /** Core for servers under test (and where the variant's process runs); null: not pinned. */
  serverCpu: number | null;
  upstreamCpu: number | null;
}

export const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** `argv` prefixed with `taskset -c CPU` when pinning. */
export function pinned(cpu: number | null, argv: string[]): string[] {
  return cpu === null || !hasTaskset ? argv : ['taskset', '-c', String(cpu), ...argv];
}

const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
export const commandLine = (argv: string[]) => argv.map((a) => quote(a.startsWith(ROOT + '/') ? path.relative(ROOT, a) : a)).join(' ');

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(t);
}

/** Starts `argv` (pinned), waits until something accepts on 127.0.0.1:port, and returns it running. */
export async function startProcess(name: string, argv: string[], port: number, opts: { cpu: number | null; cwd?: string; headers?: Record<string, string>; timeoutMs?: number; onStop?: () => void }): Promise<Running> {
  const full = pinned(opts.cpu, argv);
  const child = spawn(full[0]!, full.slice(1), { cwd: opts.cwd ?? ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before listening: ${stderr.trim().slice(-500)}`);
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`${name} did not listen on ${port} within ${opts.timeoutMs ?? 30_000} ms: ${stderr.trim().slice(-500)}`);
    }
    await sleep(50);
  }
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    headers: opts.headers ?? {},
    command: commandLine(full),
    stop: async () => {
      await stopChild(child);
      opts.onStop?.();
    },
  };
}

const tsx = (file: string, args: string[]) => [process.execPath, '--import', 'tsx', file, ...args];

export async function startUpstream(cpu: number | null, chunks: number): Promise<Running> {
  const port = await freePort();
  return startProcess('upstream', tsx(SERVE, ['upstream', '--port', String(port), '--chunks', String(chunks)]), port, { cpu });
}

/** `direct`: the load goes to the upstream itself (its CPU is the upstream's own). */
export function direct(upstream: Running): Running {
  return { ...upstream, name: 'direct', stop: async () => undefined };
}

export async function startBare(upstreamUrl: string, cpu: number | null): Promise<Running> {
  const port = await freePort();
  return startProcess('bare', tsx(SERVE, ['bare', '--upstream', upstreamUrl, '--port', String(port)]), port, { cpu });
}

// ---------------------------------------------------------------------------------------------
// Steward

/**
 * Steward's gateway alone from a snapshot file (`steward gateway --snapshot-file`): the full hot
 * path — key check, limits, routing, a 90/10 split, metering. BENCH_STEWARD_CMD gives another
 * command line to try (`{snapshot}`, `{port}` and `{upstream}` are replaced; run from the
 * repository root).
 */
const STEWARD_GATEWAY_BUILT = true;
function stewardCommand(snapshotFile: string, port: number, upstreamUrl: string): string[] {
  const template = process.env.BENCH_STEWARD_CMD;
  if (template)
    return template
      .split(/\s+/)
      .filter(Boolean)
      .map((a) => a.replace('{snapshot}', snapshotFile).replace('{port}', String(port)).replace('{upstream}', upstreamUrl));
  return [process.execPath, path.join(ROOT, 'bin/steward'), 'gateway', '--snapshot-file', snapshotFile, '--port', String(port)];
}

/** The gateway key the load presents (its sha256 is in the snapshot). */
export const STEWARD_KEY = 'sk-steward-bench-0123456789abcdef';

/**
 * The route table the Steward variant serves: model `bench` in production split 90/10 between two
 * deployments of different versions (so the splitter runs), both on the fake upstream, priced
 * (so metering computes cost); one key allowed the model, with limits far above the load.
 */
export function stewardSnapshot(upstreamUrl: string): GatewaySnapshot {
  const deployment = (id: string, version: string) => ({
    id,
    model: 'bench',
    version,
    environment: 'production',
    upstreamModel: 'bench-upstream',
    apiKey: null,
    pricing: { inputPerMTok: 0.5, outputPerMTok: 1.5 },
    targets: [{ baseUrl: `${upstreamUrl}/v1`, replica: 0, version }],
  });
  return GatewaySnapshot.parse({
    version: 1,
    compiledAt: new Date().toISOString(),
    models: [{ name: 'bench', namespace: null, environments: { production: '2' }, cache: null }],
    deployments: [deployment('dep-bench-2', '2'), deployment('dep-bench-1', '1')],
    traffic: [
      {
        model: 'bench',
        environment: 'production',
        arms: [
          { deployment: 'dep-bench-2', weight: 90 },
          { deployment: 'dep-bench-1', weight: 10 },
        ],
        sticky: 'none',
        shadow: null,
        fallbacks: [],
      },
    ],
    keys: [
      {
        id: 'key-bench',
        hash: createHash('sha256').update(STEWARD_KEY).digest('hex'),
        namespace: null,
        models: ['bench'],
        defaultEnvironment: 'production',
        rpm: 100_000_000,
        tpm: 1_000_000_000,
        budgetUsd: 1_000_000_000,
        spentUsd: 0,
        expiresAt: null,
      },
    ],
  });
}

/** The newest modification time of a file under `dir` (ms). */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) newest = Math.max(newest, fs.statSync(path.join(e.parentPath, e.name)).mtimeMs);
  }
  return newest;
}

/** Starts Steward's gateway alone from a snapshot file naming the upstream; pinned like every variant. */
export async function startSteward(upstreamUrl: string, cpu: number | null, log: (line: string) => void): Promise<Running> {
  if (!STEWARD_GATEWAY_BUILT && !process.env.BENCH_STEWARD_CMD) throw new Error('gateway not built yet');
  // bin/steward runs the compiled dist/: measuring a stale build would measure old code.
  const built = path.join(ROOT, 'dist/cli/main.js');
  if (fs.existsSync(built) && fs.statSync(built).mtimeMs < newestMtime(path.join(ROOT, 'src'))) log('  steward: warning: dist/ is older than src/; run `npm run build` first to measure the current code');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-bench-gw-'));
  const snapshotFile = path.join(dir, 'snapshot.json');
  fs.writeFileSync(snapshotFile, JSON.stringify(stewardSnapshot(upstreamUrl)));
  const port = await freePort();
  try {
    return await startProcess('steward', stewardCommand(snapshotFile, port, upstreamUrl), port, {
      cpu,
      headers: { authorization: `Bearer ${STEWARD_KEY}` },
      onStop: () => fs.rmSync(dir, { recursive: true, force: true }),
    });
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Portkey

const PORTKEY_VERSION = process.env.BENCH_PORTKEY_VERSION ?? '1.15.2';
export const PORTKEY_DIR = path.join(ROOT, 'bench/.cache/portkey');

/** Installs @portkey-ai/gateway into bench/.cache/portkey unless that version is there; returns its server script. */
export function ensurePortkey(log: (line: string) => void): string {
  const pkg = path.join(PORTKEY_DIR, 'node_modules/@portkey-ai/gateway/package.json');
  const script = path.join(path.dirname(pkg), 'build/start-server.js');
  const installed = fs.existsSync(pkg) ? (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { version: string }).version : null;
  if (installed === PORTKEY_VERSION && fs.existsSync(script)) return script;
  fs.mkdirSync(PORTKEY_DIR, { recursive: true });
  // Its streaming through Node needs @hono/node-server pinned to 1.14.1 (issue 14).
  const manifest = { name: 'steward-bench-portkey', private: true, dependencies: { '@portkey-ai/gateway': PORTKEY_VERSION }, overrides: { '@hono/node-server': '1.14.1' } };
  fs.writeFileSync(path.join(PORTKEY_DIR, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const args = ['install', '--prefix', PORTKEY_DIR, '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock'];
  log(`  installing @portkey-ai/gateway@${PORTKEY_VERSION}: npm ${args.map((a) => (a === PORTKEY_DIR ? path.relative(ROOT, a) : a)).join(' ')}`);
  execFileSync('npm', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
  if (!fs.existsSync(script)) throw new Error(`npm install left no ${path.relative(ROOT, script)}`);
  return script;
}

/** Portkey's gateway, calling the fake upstream as an OpenAI provider with a custom host (headers per request, its documented way). */
export async function startPortkey(upstreamUrl: string, cpu: number | null, log: (line: string) => void): Promise<Running> {
  const script = ensurePortkey(log);
  const port = await freePort();
  return startProcess('portkey', [process.execPath, script, `--port=${port}`, '--headless'], port, {
    cpu,
    cwd: PORTKEY_DIR,
    headers: { authorization: 'Bearer sk-bench', 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${upstreamUrl}/v1` },
  });
}

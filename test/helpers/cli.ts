/** Runs the real `bin/steward` binary (built into dist/ by `npm test`) as a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/steward');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliEnv {
  /** STEWARD_URL; none lets the CLI find its server (contexts, `steward up` records). */
  url?: string | undefined;
  token?: string | undefined;
  /** Private cache and config dirs, so tests never share a hash cache or a login. */
  home: string;
}

export function cliEnv(url?: string, token?: string): CliEnv {
  return { url, token, home: fs.mkdtempSync(path.join(os.tmpdir(), 'steward-cli-')) };
}

/** The environment the binary runs in: nothing of the test process's but PATH. */
export function cliProcessEnv(env: CliEnv, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: env.home,
    ...(env.url ? { STEWARD_URL: env.url } : {}),
    ...(env.token ? { STEWARD_TOKEN: env.token } : {}),
    STEWARD_CACHE_DIR: path.join(env.home, 'cache'),
    STEWARD_CONFIG: path.join(env.home, 'config.json'),
    ...extra,
  };
}

export function runCli(args: string[], env: CliEnv, opts: { cwd?: string; extraEnv?: Record<string, string>; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? env.home,
      env: cliProcessEnv(env, opts.extraEnv),
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export interface CliServer {
  url: string;
  /** The admin token the first start printed. */
  token: string;
  child: ChildProcess;
  /** SIGTERM (a clean exit) unless told otherwise; resolves once the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * `steward up ARGS` as a user starts it (the real binary, in `cwd`), resolved once it listens:
 * its URL and first-start admin token read from what it prints.
 */
export function startCliServer(args: string[], env: CliEnv, opts: { cwd?: string; extraEnv?: Record<string, string> } = {}): Promise<CliServer> {
  return spawnServer([BIN, 'up', ...args], opts.cwd ?? env.home, cliProcessEnv(env, opts.extraEnv));
}

/** The same with a process environment given whole (a user's shell: PATH and HOME). */
export function spawnServer(argv: string[], cwd: string, processEnv: Record<string, string>): Promise<CliServer> {
  const child = spawn(process.execPath, argv, { cwd, env: processEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stdout!.resume();
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const url = /^steward (http:\/\/\S+)/m.exec(stderr)?.[1];
      const token = /^\s+(stw_\S+)$/m.exec(stderr)?.[1];
      if (url && token) resolve({ url, token, child, stop });
    });
    child.once('exit', (code) => reject(new Error(`steward up exited (${code}) before listening:\n${stderr}`)));
  });
}

/** Writes `files` (relative path → content) under `root`, creating directories; answers `root`. */
export function writeTree(root: string, files: Record<string, string | Buffer>): string {
  fs.mkdirSync(root, { recursive: true });
  for (const [p, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), content);
  }
  return root;
}

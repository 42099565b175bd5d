/**
 * Where a CLI command gets its server, token and output style: flags first, then the
 * environment (STEWARD_URL, STEWARD_TOKEN, STEWARD_DATA), then the config file written by
 * `steward login`, then `admin.token` in the data dir (the first `steward up` writes it).
 * This module is the CLI's only reader of process.env.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline/promises';
import { Agent, fetch as undiciFetch } from 'undici';
import { StewardClient } from '../sdk/client.js';
import { createUploadTransport } from '../sdk/node/upload-transport.js';
import { UsageError } from './cli-errors.js';

export interface GlobalOptions {
  url?: string;
  token?: string;
  data?: string;
  json?: boolean;
  progress?: boolean;
}

export interface CliConfigFile {
  url?: string;
  token?: string;
}

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export function env(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : v;
}

export function configFilePath(): string {
  const base = env('STEWARD_CONFIG') ?? path.join(env('XDG_CONFIG_HOME') ?? path.join(os.homedir(), '.config'), 'steward', 'config.json');
  return base;
}

export function cacheDir(): string {
  return env('STEWARD_CACHE_DIR') ?? path.join(env('XDG_CACHE_HOME') ?? path.join(os.homedir(), '.cache'), 'steward');
}

export function readConfigFile(): CliConfigFile {
  try {
    return JSON.parse(fs.readFileSync(configFilePath(), 'utf8')) as CliConfigFile;
  } catch {
    return {};
  }
}

export function writeConfigFile(cfg: CliConfigFile): string {
  const file = configFilePath();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(cfg, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return file;
}

export function dataDirOf(opts: GlobalOptions): string {
  return path.resolve(opts.data ?? env('STEWARD_DATA') ?? '.steward');
}

export function resolveConnection(opts: GlobalOptions): { url: string; token: string | undefined } {
  const file = readConfigFile();
  const url = opts.url ?? env('STEWARD_URL') ?? file.url ?? DEFAULT_URL;
  let token = opts.token ?? env('STEWARD_TOKEN') ?? file.token;
  if (!token) {
    try {
      token = fs.readFileSync(path.join(dataDirOf(opts), 'admin.token'), 'utf8').trim() || undefined;
    } catch {
      token = undefined;
    }
  }
  return { url, token };
}

// One keep-alive pool for the CLI's lifetime for API calls and downloads (no timeouts: a
// completing upload or a slow download may take minutes); byte uploads use their own transport.
const agent = new Agent({ connections: 16, keepAliveTimeout: 10_000, headersTimeout: 0, bodyTimeout: 0 });
const uploads = createUploadTransport();

export function clientFor(opts: GlobalOptions): StewardClient {
  const { url, token } = resolveConnection(opts);
  const f = ((input: string, init?: RequestInit) => undiciFetch(input, { ...(init as object), dispatcher: agent } as Parameters<typeof undiciFetch>[1])) as unknown as typeof fetch;
  return new StewardClient({ url, token, fetch: f, uploadTransport: uploads.send });
}

export async function closeClients(): Promise<void> {
  uploads.close();
  await agent.close();
}

/** Progress bars only for a person watching: a TTY on stderr, no --json, no --no-progress. */
export function wantsProgress(opts: GlobalOptions): boolean {
  return opts.progress !== false && !opts.json && Boolean(process.stderr.isTTY) && env('CI') === undefined;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Left-aligned columns for listings; a person reads these, scripts use --json. */
export function printTable(headers: string[], rows: (string | number | null | undefined)[][]): void {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  for (const r of cells) process.stdout.write(`${r.map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i]!))).join('  ')}\n`);
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

/**
 * Asks before something irreversible: on a terminal, `question [y/N]`; with no terminal to ask
 * on (a script, CI) the command must say `--yes`, so nothing is deleted by accident.
 */
export async function confirm(question: string, yes: boolean | undefined): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY) throw new UsageError(`${question} Pass --yes to confirm (there is no terminal to ask on)`);
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

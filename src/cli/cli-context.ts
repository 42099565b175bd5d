/**
 * Where a CLI command gets its server, token and output style. The server: `--server`/`--url`,
 * then STEWARD_URL, then the server recorded in `--data`/STEWARD_DATA, then the current context
 * (`steward login`), then a server `steward up` started on this host (in ./.steward, else the
 * newest one still running), else http://127.0.0.1:8080. The token: `--token`, then
 * STEWARD_TOKEN, then the one saved for *that* URL (a context with it, or the token file of a
 * running local server recorded there): a saved token is never sent to another URL.
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
import { liveServerIn, liveServers, type LocalServer } from './cli-servers.js';

export interface GlobalOptions {
  url?: string;
  token?: string;
  data?: string;
  json?: boolean;
  progress?: boolean;
}

/** A server the user logged in to: its URL and the token for it, under a name. */
export interface CliContext {
  name: string;
  url: string;
  token: string;
}

export interface CliConfig {
  /** Name of the context used when no flag or variable names a server. */
  current: string | null;
  contexts: CliContext[];
}

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export function env(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : v;
}

/** The config file: STEWARD_CONFIG, else $XDG_CONFIG_HOME/steward/config.json, else ~/.config/steward/config.json. */
export function configFilePath(): string {
  return env('STEWARD_CONFIG') ?? path.join(env('XDG_CONFIG_HOME') ?? path.join(os.homedir(), '.config'), 'steward', 'config.json');
}

/** The directory of the config file: `local.json` (servers started on this host) lives beside it. */
export function configDir(): string {
  return path.dirname(configFilePath());
}

export function cacheDir(): string {
  return env('STEWARD_CACHE_DIR') ?? path.join(env('XDG_CACHE_HOME') ?? path.join(os.homedir(), '.cache'), 'steward');
}

/** The config file's contexts; a file written before contexts (`{url, token}`) reads as one context. */
export function readConfig(): CliConfig {
  let raw: { current?: unknown; contexts?: unknown; url?: unknown; token?: unknown };
  try {
    raw = JSON.parse(fs.readFileSync(configFilePath(), 'utf8')) as typeof raw;
  } catch {
    return { current: null, contexts: [] };
  }
  const contexts = Array.isArray(raw.contexts)
    ? (raw.contexts as Partial<CliContext>[]).filter((c): c is CliContext => typeof c?.name === 'string' && typeof c.url === 'string' && typeof c.token === 'string')
    : [];
  if (!contexts.length && typeof raw.url === 'string' && typeof raw.token === 'string') {
    const name = contextNameFor(raw.url);
    return { current: name, contexts: [{ name, url: raw.url, token: raw.token }] };
  }
  const current = typeof raw.current === 'string' && contexts.some((c) => c.name === raw.current) ? raw.current : null;
  return { current, contexts };
}

/** Writes the config file (mode 0600, its directory 0700), replacing it whole. */
export function writeConfig(cfg: CliConfig): string {
  const file = configFilePath();
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify({ current: cfg.current, contexts: cfg.contexts }, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
  return file;
}

/** A URL as compared between contexts and servers: origin and path, no trailing slash. */
export function normalizeUrl(u: string): string {
  try {
    const url = new URL(u);
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    return u.replace(/\/+$/, '');
  }
}

/** Whether two URLs name the same server: the same origin and path (never a guess beyond that). */
export function sameServer(a: string, b: string): boolean {
  return normalizeUrl(a) === normalizeUrl(b);
}

/** The default name of a context: the server's host and port. */
export function contextNameFor(url: string): string {
  try {
    return new URL(url).host || url;
  } catch {
    return url;
  }
}

export interface Connection {
  url: string;
  token: string | undefined;
  /** Where the URL came from, for messages: "--server", "STEWARD_URL", "context NAME", … */
  urlFrom: string;
  /** Where the token came from, or null when none applies to this URL. */
  tokenFrom: string | null;
}

function readToken(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export function resolveConnection(opts: GlobalOptions): Connection {
  const cfg = readConfig();
  const current = cfg.contexts.find((c) => c.name === cfg.current) ?? null;
  const explicitData = opts.data ?? env('STEWARD_DATA');
  const dataServer = explicitData ? liveServerIn(path.resolve(explicitData)) : null;
  const cwdServer = explicitData ? null : liveServerIn(path.resolve('.steward'));
  const local = liveServers(configDir());
  const pick = (): [string, string] => {
    if (opts.url) return [opts.url, '--server'];
    const fromEnv = env('STEWARD_URL');
    if (fromEnv) return [fromEnv, 'STEWARD_URL'];
    if (dataServer) return [dataServer.url, `the server of ${dataServer.dataDir}`];
    if (current) return [current.url, `context ${current.name}`];
    if (cwdServer) return [cwdServer.url, `the server of ${cwdServer.dataDir}`];
    if (local[0]) return [local[0].url, `the server of ${local[0].dataDir} (steward up)`];
    return [DEFAULT_URL, 'the default'];
  };
  const [url, urlFrom] = pick();
  const explicit = opts.token ?? env('STEWARD_TOKEN');
  if (explicit) return { url, token: explicit, urlFrom, tokenFrom: opts.token ? '--token' : 'STEWARD_TOKEN' };
  // A saved token goes only to the server it was saved for.
  const ctx = (current && sameServer(current.url, url) ? current : null) ?? cfg.contexts.find((c) => sameServer(c.url, url));
  if (ctx) return { url, token: ctx.token, urlFrom, tokenFrom: `context ${ctx.name}` };
  const server = [dataServer, cwdServer, ...local].find((s): s is LocalServer => s !== null && sameServer(s.url, url));
  const fromServer = server ? readToken(server.tokenFile) : undefined;
  if (server && fromServer) return { url, token: fromServer, urlFrom, tokenFrom: server.tokenFile };
  // No guess beyond that: a data dir's admin.token goes only to the running server recorded in
  // that data dir, never to whatever listens on a port now (another user's process, say).
  return { url, token: undefined, urlFrom, tokenFrom: null };
}

// One keep-alive pool for the CLI's lifetime for API calls and downloads (no timeouts: a
// completing upload or a slow download may take minutes); byte uploads use their own transport.
const agent = new Agent({ connections: 16, keepAliveTimeout: 10_000, headersTimeout: 0, bodyTimeout: 0 });
const uploads = createUploadTransport();

/** The connection of the last client made, for the hints of an error report. */
let lastConnection: Connection | null = null;
export const connectionUsed = (): Connection | null => lastConnection;

export function clientFor(opts: GlobalOptions): StewardClient {
  lastConnection = resolveConnection(opts);
  return clientAt(lastConnection.url, lastConnection.token);
}

/** A client of exactly this server and token (`steward login` checks a token before saving it). */
export function clientAt(url: string, token: string | undefined): StewardClient {
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

/**
 * Which server the CLI talks to, kubectl/gh style: `steward login URL` checks a token against a
 * server and saves both as a context (config file, mode 0600); `steward context ls|use|rm`
 * lists and switches them; `steward logout` forgets one. A saved token is sent only to the server
 * it was saved for (cli-context.ts).
 */
import readline from 'node:readline';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import {
  configFilePath,
  contextNameFor,
  env,
  normalizeUrl,
  printJson,
  printTable,
  readConfig,
  resolveConnection,
  sameServer,
  writeConfig,
  clientAt,
  configDir,
  type CliConfig,
  type GlobalOptions,
} from '../cli-context.js';
import { liveServers } from '../cli-servers.js';
import { UsageError } from '../cli-errors.js';

/** A token piped on stdin (`steward login URL < token.txt`), or typed at a prompt that does not echo it. */
async function readTokenFromStdin(url: string): Promise<string> {
  if (!process.stdin.isTTY) {
    let text = '';
    for await (const chunk of process.stdin) text += (chunk as Buffer).toString('utf8');
    return text.trim();
  }
  process.stderr.write(`token for ${url}: `);
  const muted = new Writable({ write: (_chunk, _enc, done) => done() });
  const rl = readline.createInterface({ input: process.stdin, output: muted, terminal: true });
  try {
    return (await new Promise<string>((resolve) => rl.question('', resolve))).trim();
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

function checkedUrl(u: string): string {
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    throw new UsageError(`${JSON.stringify(u)} is not a URL; e.g. http://127.0.0.1:8080 or https://steward.example.com`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${u}: only http:// and https:// servers`);
  return normalizeUrl(u);
}

/** The context a NAME or URL argument designates. */
function findContext(cfg: CliConfig, target: string) {
  return cfg.contexts.find((c) => c.name === target) ?? cfg.contexts.find((c) => sameServer(c.url, target));
}

export function registerContext(program: Command, globals: () => GlobalOptions): void {
  program
    .command('login')
    .description('Check a token against a server and save both as a context (config file, mode 0600); it becomes the current context')
    .argument('[url]', 'server URL (default: --server, STEWARD_URL, or the server found on this host)')
    .option('--name <name>', 'context name (default: the host and port)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
The token comes from --token, STEWARD_TOKEN, or stdin:
  steward login https://steward.example.com --token stw_…
  steward login https://steward.example.com < token.txt
  steward login https://steward.example.com             # asks for it (input is not shown)
The token saved for a server is sent to that server only.`,
    )
    .action(async (urlArg: string | undefined, o: { name?: string; json?: boolean }) => {
      const gl = globals();
      const url = checkedUrl(urlArg ?? resolveConnection(gl).url);
      const token = gl.token ?? env('STEWARD_TOKEN') ?? (await readTokenFromStdin(url));
      if (!token) throw new UsageError('no token: pass --token, set STEWARD_TOKEN, or pipe it on stdin');
      const me = await clientAt(url, token).whoami();
      const cfg = readConfig();
      const existing = o.name === undefined ? findContext(cfg, url) : undefined;
      const name = o.name ?? existing?.name ?? contextNameFor(url);
      const contexts = cfg.contexts.filter((c) => c.name !== name && normalizeUrl(c.url) !== url);
      const file = writeConfig({ current: name, contexts: [...contexts, { name, url, token }] });
      if (o.json) return printJson({ ...me, url, context: name, configFile: file });
      process.stdout.write(`logged in to ${url} as ${me.name} (${me.role}); context ${name} saved to ${file} and made current\n`);
    });

  program
    .command('logout')
    .description('Forget the token saved for a server (its context); the token itself stays valid until revoked')
    .argument('[target]', 'context name or server URL (default: the current context)')
    .option('--json', 'print JSON')
    .action(async (target: string | undefined, o: { json?: boolean }) => {
      const cfg = readConfig();
      const ctx = target === undefined ? cfg.contexts.find((c) => c.name === cfg.current) : findContext(cfg, target);
      if (!ctx) throw new UsageError(target === undefined ? 'no current context to log out of; `steward context ls` lists them' : `no context ${JSON.stringify(target)}; \`steward context ls\` lists them`);
      writeConfig({ current: cfg.current === ctx.name ? null : cfg.current, contexts: cfg.contexts.filter((c) => c !== ctx) });
      if (o.json) return printJson({ loggedOut: ctx.name, url: ctx.url });
      process.stdout.write(`logged out of ${ctx.url} (context ${ctx.name} removed; revoke the token with \`steward token revoke\` if it leaked)\n`);
    });

  const context = program.command('context').description('Saved servers (contexts): list, switch, remove');
  context
    .command('ls')
    .description('List contexts (never their tokens) and the servers running on this host')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const cfg = readConfig();
      const conn = resolveConnection(globals());
      const local = liveServers(configDir());
      if (o.json) {
        return printJson({
          current: cfg.current,
          using: { url: conn.url, from: conn.urlFrom, token: conn.tokenFrom },
          contexts: cfg.contexts.map((c) => ({ name: c.name, url: c.url, current: c.name === cfg.current })),
          localServers: local.map((s) => ({ url: s.url, dataDir: s.dataDir, pid: s.pid, startedAt: s.startedAt })),
          configFile: configFilePath(),
        });
      }
      if (cfg.contexts.length) printTable(['CURRENT', 'NAME', 'URL'], cfg.contexts.map((c) => [c.name === cfg.current ? '*' : '', c.name, c.url]));
      else process.stdout.write('no contexts; `steward login URL` saves one\n');
      if (local.length) {
        process.stdout.write('\nrunning on this host (steward up / server):\n');
        printTable(['URL', 'DATA', 'PID'], local.map((s) => [s.url, s.dataDir, s.pid]));
      }
      process.stdout.write(`\nusing ${conn.url} (from ${conn.urlFrom}); token: ${conn.tokenFrom ?? 'none'}\n`);
    });
  context
    .command('use')
    .description('Make a context current: commands without --server or STEWARD_URL then call its server')
    .argument('<name>', 'context name (or its URL)')
    .action(async (target: string) => {
      const cfg = readConfig();
      const ctx = findContext(cfg, target);
      if (!ctx) throw new UsageError(`no context ${JSON.stringify(target)}; \`steward context ls\` lists them, \`steward login URL\` adds one`);
      writeConfig({ ...cfg, current: ctx.name });
      process.stdout.write(`now using ${ctx.name} (${ctx.url})\n`);
    });
  context
    .command('rm')
    .description('Remove a context and its saved token')
    .argument('<name>', 'context name (or its URL)')
    .action(async (target: string) => {
      const cfg = readConfig();
      const ctx = findContext(cfg, target);
      if (!ctx) throw new UsageError(`no context ${JSON.stringify(target)}; \`steward context ls\` lists them`);
      writeConfig({ current: cfg.current === ctx.name ? null : cfg.current, contexts: cfg.contexts.filter((c) => c !== ctx) });
      process.stdout.write(`removed context ${ctx.name} (${ctx.url})\n`);
    });
}

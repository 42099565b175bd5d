/** Administration commands: up, server, gc, token, admin reset-token, whoami. */
import path from 'node:path';
import type { Command } from 'commander';
import { clientFor, configDir, env, formatBytes, printJson, printTable, resolveConnection, type GlobalOptions } from '../cli-context.js';
import { recordLocalServer } from '../cli-servers.js';
import { UsageError } from '../cli-errors.js';
import { pickGlobals } from './push.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port ${v} is not a port number`);
  return n;
}

async function serve(flags: { data?: string; port?: number; host?: string; gateway: boolean }): Promise<void> {
  // Loaded on demand: client commands should not pay for the server's dependencies at start-up.
  const [{ loadConfig }, { startServer }] = await Promise.all([import('../../platform/config.js'), import('../../server/main.js')]);
  const config = loadConfig({ env: process.env, flags: { dataDir: flags.data, port: flags.port, host: flags.host } });
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({ config, handleSignals: true, gateway: flags.gateway });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`${config.host}:${config.port} is already in use (another steward, or another program); start on another port with --port N (or STEWARD_PORT=N)`);
    }
    throw err;
  }
  // So that the CLI on this host finds this server (and its admin token) from any directory.
  recordLocalServer({ url: server.url, dataDir: config.dataDir, tokenFile: path.join(config.dataDir, 'admin.token') }, configDir(), (err) =>
    process.stderr.write(`note: could not record this server for the CLI (${(err as Error).message}); clients need --server or STEWARD_URL\n`),
  );
  process.stderr.write(`steward ${server.url}  (database: ${config.database.kind}, blobs: ${config.blobs.kind}, data: ${config.dataDir})\n`);
  process.stderr.write(server.webUi ? `web UI ${server.url}/  (sign in with an API token)\n` : 'web UI not built: `npm run build:web` builds it\n');
  const boot = server.bootstrapToken;
  const file = path.join(config.dataDir, 'admin.token');
  if (boot?.file) {
    process.stderr.write(`\nFirst start: created an admin token. It is shown once here and saved (mode 0600) to\n  ${boot.file}\n\n  ${boot.token}\n\nThe CLI on this host reads it from there; elsewhere set STEWARD_TOKEN.\n\n`);
  } else if (boot) {
    process.stderr.write(
      `\nFirst start on this database: created an admin token. It is shown once here and saved nowhere:\n\n  ${boot.token}\n\n${file} already exists (another instance's, or an earlier database's) and was left as it is.\nKeep this token (e.g. in STEWARD_TOKEN); lost, it is recovered with: steward admin reset-token\n\n`,
    );
  } else if (server.adminTokenFile) {
    process.stderr.write(`admin token: ${server.adminTokenFile} (the CLI on this host reads it)\n`);
  } else {
    process.stderr.write(`no admin token file at ${file}: use a token you created (STEWARD_TOKEN), or make one with: steward admin reset-token --data ${config.dataDir}\n`);
  }
}

export function registerAdmin(program: Command, globals: () => GlobalOptions): void {
  const g = (o: GlobalOptions) => ({ ...globals(), ...pickGlobals(o) });

  program
    .command('up')
    .description('Run the whole platform in one process on the embedded default (SQLite + files in the data dir)')
    .option('--data <dir>', 'data directory (default ./.steward, or STEWARD_DATA)')
    .option('--port <port>', 'port to listen on', port, 8080)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .addHelpText('after', '\nSTEWARD_DATABASE_URL and STEWARD_BLOB_URL switch to PostgreSQL and S3, and the other settings of\n`steward server --help` apply (STEWARD_LOG_REQUESTS=all logs every request).')
    .action(async (o: { data?: string; port: number; host: string }) => serve({ data: o.data ?? globals().data, port: o.port, host: o.host, gateway: true }));

  program
    .command('server')
    .description('Run the control plane, configured by the environment')
    .addHelpText(
      'after',
      `
Environment:
  STEWARD_DATABASE_URL   postgres://user@host/db (default: SQLite in the data dir)
  STEWARD_DATABASE_POOL_SIZE          PostgreSQL connections (default: 2 × cores, at least 4)
  STEWARD_BLOB_URL       s3://bucket/prefix (default: files in the data dir)
  STEWARD_S3_ENDPOINT    endpoint of an S3-compatible store (MinIO, R2, …)
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION
  STEWARD_S3_FORCE_PATH_STYLE=false   virtual-hosted bucket addressing (AWS S3 itself)
  STEWARD_DATA           data dir (admin.token is written there on first start)
  STEWARD_HOST, STEWARD_PORT, STEWARD_LOG_LEVEL
  STEWARD_LOG_REQUESTS=all            log every request at info (default: only failed or slow ones)
  STEWARD_SLOW_REQUEST_MS             a request at least this slow is logged at info (default 1000)
  STEWARD_PROMPT_SAFETY  prompt-injection check at render: off, warn (default), block
  STEWARD_EVAL_ENDPOINT_ALLOW         hosts, *.suffixes, addresses or CIDRs eval endpoints may be (default: any but link-local)`,
    )
    .action(async () => serve({ data: globals().data, gateway: false }));

  program
    .command('gc')
    .description('Find blobs no version references (dry run); --apply removes them, expired pending versions and stale uploads')
    .option('--apply', 'actually delete (default is a dry run)')
    .option('--json', 'print JSON')
    .action(async (o: { apply?: boolean } & GlobalOptions) => {
      const res = await clientFor(g(o)).gc(!o.apply);
      if (o.json) return printJson(res);
      const verb = res.dryRun ? 'would remove' : 'removed';
      process.stdout.write(`${verb} ${res.blobs} blob(s), ${formatBytes(res.bytes)}${res.dryRun ? '\nrun with --apply to delete them' : `; expired ${res.expiredVersions} pending version(s) and ${res.expiredUploads} upload(s)`}\n`);
    });

  const token = program.command('token').description('API tokens (admin)');
  token
    .command('create')
    .description('Create a token; its secret is printed once and never again')
    .requiredOption('--name <name>', 'who or what uses it, e.g. ci-pipeline')
    .requiredOption('--role <role>', 'viewer, developer, approver, admin, or gateway (a gateway replica: route table and usage only)')
    .option('--namespace <ns>', 'limit to a namespace (repeatable)', collect)
    .option('--expires <duration>', 'lifetime: 90m, 12h, 30d, 2w (at most 3650d), or never (default 90d)')
    .option('--json', 'print JSON')
    .action(async (o: { name: string; role: 'viewer'; namespace?: string[]; expires?: string } & GlobalOptions) => {
      const t = await clientFor(g(o)).createToken({ name: o.name, role: o.role, ...(o.namespace ? { namespaces: o.namespace } : {}), ...(o.expires ? { expiresIn: o.expires } : {}) });
      if (o.json) return printJson(t);
      process.stdout.write(`${t.token}\n`);
      process.stderr.write(`token ${t.name} (${t.role}, id ${t.id}, ${t.expiresAt ? `expires ${t.expiresAt}` : 'never expires'}); the secret above is not shown again\n`);
    });
  token
    .command('ls')
    .description('List tokens (never their secrets)')
    .option('--json', 'print JSON')
    .action(async (o: GlobalOptions) => {
      const l = await clientFor(g(o)).listTokens();
      if (o.json) return printJson(l);
      printTable(['ID', 'NAME', 'ROLE', 'PREFIX', 'EXPIRES', 'REVOKED', 'LAST USED'], l.items.map((t) => [t.id, t.name, t.role, t.prefix, t.expiresAt, t.revokedAt, t.lastUsedAt]));
    });
  token
    .command('revoke')
    .description('Revoke a token')
    .argument('<id>', 'token id (from token ls)')
    .option('--json', 'print JSON')
    .action(async (id: string, o: GlobalOptions) => {
      const t = await clientFor(g(o)).revokeToken(id);
      if (o.json) return printJson(t);
      process.stdout.write(`revoked ${t.name} (${t.id})\n`);
    });

  program
    .command('admin')
    .description('Operator commands that work on the data dir or database directly, without a server or token')
    .command('reset-token')
    .description('Create a new admin token (e.g. after the last one was lost or revoked): needs access to the data dir or the database')
    .option('--data <dir>', 'data directory of the server (default ./.steward, or STEWARD_DATA); admin.token there is replaced')
    .option('--database-url <url>', 'the server\'s database (default STEWARD_DATABASE_URL, else SQLite in the data dir)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nThe secret is printed once on stdout and, for a data dir, saved (mode 0600) to DIR/admin.token.\nThe audit trail records it as token.recover with the operating-system user who ran it.')
    .action(async (o: { data?: string; databaseUrl?: string; json?: boolean }) => {
      const [{ loadConfig }, { resetAdminToken }] = await Promise.all([import('../../platform/config.js'), import('../../server/admin-recovery.js')]);
      const data = o.data ?? globals().data;
      const databaseUrl = o.databaseUrl ?? env('STEWARD_DATABASE_URL');
      const config = loadConfig({ env: { ...process.env, STEWARD_DATABASE_URL: databaseUrl }, flags: { dataDir: data } });
      // A PostgreSQL database named alone has no data dir to write into: the secret is only printed.
      const writeFile = config.database.kind === 'sqlite' || data !== undefined || env('STEWARD_DATA') !== undefined;
      const t = await resetAdminToken(config, { writeFile });
      if (o.json) return printJson(t);
      process.stdout.write(`${t.token}\n`);
      process.stderr.write(`created admin token ${t.name} (id ${t.id}, never expires)${t.file ? `; saved (mode 0600) to ${t.file}` : ''}; the secret above is not shown again\n`);
    });

  program
    .command('whoami')
    .description('Show which server the CLI calls and who the token belongs to')
    .option('--json', 'print JSON')
    .action(async (o: GlobalOptions) => {
      const conn = resolveConnection(g(o));
      const me = await clientFor(g(o)).whoami();
      if (o.json) return printJson({ ...me, url: conn.url });
      process.stdout.write(`${me.name} (${me.role})${me.namespaces ? ` limited to ${me.namespaces.join(', ')}` : ''} at ${conn.url}\n`);
    });
}

export function registerAudit(program: Command, globals: () => GlobalOptions): void {
  const g = (o: GlobalOptions) => ({ ...globals(), ...pickGlobals(o) });
  const audit = program.command('audit').description('The tamper-evident audit trail');
  audit
    .command('ls')
    .description('List audit events, newest first')
    .option('--actor <name>', 'only this actor (token name)')
    .option('--action <action>', 'exact action, or a prefix ending in * (e.g. model.alias.*)')
    .option('--target <target>', 'exact target, or a prefix ending in * (e.g. model:acme/bot*)')
    .option('--since <time>', 'RFC 3339 time, inclusive')
    .option('--until <time>', 'RFC 3339 time, exclusive')
    .option('--limit <n>', 'page size', '50')
    .option('--cursor <c>', 'continue from a previous page')
    .option('--json', 'print JSON')
    .action(async (o: { actor?: string; action?: string; target?: string; since?: string; until?: string; limit: string; cursor?: string } & GlobalOptions) => {
      const page = await clientFor(g(o)).listAudit({ actor: o.actor, action: o.action, target: o.target, since: o.since, until: o.until, limit: Number(o.limit), cursor: o.cursor });
      if (o.json) return printJson(page);
      printTable(['SEQ', 'AT', 'ACTOR', 'ACTION', 'TARGET'], page.items.map((e) => [e.seq, e.at, e.actor, e.action, e.target]));
      if (page.nextCursor) process.stderr.write(`more: --cursor ${page.nextCursor}\n`);
    });
  audit
    .command('verify')
    .description('Recompute the hash chain and compare it with the latest signed checkpoint; exits 1 and names the first bad event if anything was edited, deleted, inserted, reordered or rewound')
    .option('--json', 'print JSON')
    .action(async (o: GlobalOptions) => {
      const res = await clientFor(g(o)).verifyAudit();
      const cp = res.checkpoint;
      const anchor = cp ? `matches the signed checkpoint of ${cp.at} (event ${cp.seq}, key ${cp.keyId})` : 'no signed checkpoint yet (a rewound or wiped log would not be detected)';
      if (o.json) printJson(res);
      else if (res.ok) process.stdout.write(`audit trail intact: ${res.events} events, head ${res.head ?? '-'}; ${anchor} (${res.ms} ms)\n`);
      else process.stdout.write(`audit trail BROKEN at event ${res.firstBad!.seq}: ${res.firstBad!.problem}\n(${res.events} events read)\n`);
      if (!res.ok) process.exitCode = 1;
    });
}

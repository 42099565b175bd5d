/**
 * The `steward` command. Exit status: 0 success; 1 the operation failed (the error's code and
 * message on stderr); 2 bad usage. Commands are thin: they call the API through the SDK.
 */
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { StewardApiError } from '../sdk/client.js';
import { closeClients, connectionUsed, type GlobalOptions } from './cli-context.js';
import { UsageError } from './cli-errors.js';
import { registerAdmin, registerAudit } from './commands/admin.js';
import { registerContext } from './commands/context.js';
import { registerDemo } from './commands/demo.js';
import { registerDeployments } from './commands/deploy.js';
import { registerExport } from './commands/export.js';
import { registerGateway } from './commands/gateway.js';
import { registerKeys } from './commands/keys.js';
import { registerLineage } from './commands/lineage.js';
import { registerMonitoring } from './commands/monitoring.js';
import { registerNotify } from './commands/notify.js';
import { registerPromotions } from './commands/promote.js';
import { registerPull } from './commands/pull.js';
import { registerPush } from './commands/push.js';
import { registerRegistry } from './commands/registry.js';

type Register = (program: Command, globals: () => GlobalOptions) => void;

/** The version of this checkout (package.json), printed by `steward --version`. */
const CLI_VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/**
 * Command groups whose modules load what only they need (zod schemas, the CSV parser), imported
 * when the command line names them, or all of them when it names no command (the full help, or
 * an unknown command's suggestions): half of the CLI's start-up otherwise.
 */
const LAZY: Record<string, () => Promise<Register>> = {
  prompt: async () => (await import('./commands/prompt.js')).registerPrompt,
  dataset: async () => (await import('./commands/dataset.js')).registerDataset,
  eval: async () => (await import('./commands/eval.js')).registerEval,
  rollout: async () => (await import('./commands/rollout.js')).registerRollout,
};

export async function buildProgram(argv: readonly string[] = process.argv): Promise<Command> {
  const program = new Command('steward');
  program
    .description('Steward: carry large language models from import to retirement — registry, artifacts, promotion, serving, audit')
    .option('--server, --url <url>', 'server URL (env STEWARD_URL; default: the current context, else a server `steward up` runs on this host, else http://127.0.0.1:8080)')
    .option('--token <token>', 'API token (env STEWARD_TOKEN; default: the token saved for that server by `steward login`, or its admin.token on this host)')
    .option('--data <dir>', 'data directory (env STEWARD_DATA; default ./.steward)')
    .addHelpText('before', `steward ${CLI_VERSION}\n`)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str) });
  const globals = () => program.opts<GlobalOptions>();
  registerAdmin(program, globals);
  registerContext(program, globals);
  registerPush(program, globals);
  registerPull(program, globals);
  registerRegistry(program, globals);
  registerAudit(program, globals);
  registerLineage(program, globals);
  registerPromotions(program, globals);
  registerDeployments(program, globals);
  registerGateway(program, globals);
  registerKeys(program, globals);
  registerMonitoring(program, globals);
  registerNotify(program, globals);
  registerExport(program, globals);
  registerDemo(program, globals);
  const args = argv.slice(2);
  const core = new Set(program.commands.map((c) => c.name()));
  const named = Object.keys(LAZY).filter((name) => args.includes(name));
  const wanted = named.length || args.some((a) => core.has(a)) ? named : Object.keys(LAZY);
  for (const name of wanted) (await LAZY[name]!())(program, globals);
  for (const c of program.commands) c.exitOverride();
  program.addHelpText(
    'after',
    `
steward --version (or -V) prints the version.

Quick start:
  steward up                                   # platform on http://127.0.0.1:8080, data in ./.steward
  steward demo                                 # the whole lifecycle on a tiny built-in model, narrated
  steward push ./my-model --model acme/my-model --version 1.0.0 --meta meta.json
  steward ls
  steward show acme/my-model:1.0.0
  steward alias set acme/my-model champion 1.0.0
  steward pull acme/my-model:champion -o ./out`,
  );
  return program;
}

export async function main(argv: string[]): Promise<void> {
  // Only as the first argument: `push --version 1.0.0` is the version to create (commander's
  // own version option would take it anywhere, since program options may follow the command).
  if (argv[2] === '--version' || argv[2] === '-V') {
    process.stdout.write(`${CLI_VERSION}\n`);
    return;
  }
  const program = await buildProgram(argv);
  let code = 0;
  try {
    await program.parseAsync(argv);
  } catch (err) {
    code = report(err);
  } finally {
    await closeClients().catch(() => undefined);
  }
  // Success leaves the exit code alone: `up`/`server` keep running, and a command may have set
  // a failing code itself (audit verify on a broken chain).
  if (code !== 0) process.exit(code);
}

function report(err: unknown): number {
  if (err instanceof CommanderError) {
    // --help and --version are "errors" with exit code 0 in commander's override mode.
    return err.exitCode === 0 ? 0 : 2;
  }
  if (err instanceof UsageError) {
    process.stderr.write(`error: ${err.message}\n(run with --help for usage)\n`);
    return 2;
  }
  if (err instanceof StewardApiError) {
    process.stderr.write(`error: ${err.code}: ${err.message}\n`);
    const missing = err.details.missing;
    if (Array.isArray(missing) && missing.length) process.stderr.write(`  missing blobs: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}\n`);
    const issues = err.details.issues;
    if (Array.isArray(issues)) for (const i of issues.slice(0, 10) as { path: string; message: string }[]) process.stderr.write(`  ${i.path || '(body)'}: ${i.message}\n`);
    if (err.code === 'unauthenticated') {
      const conn = connectionUsed();
      process.stderr.write(
        conn?.tokenFrom
          ? `  hint: the token from ${conn.tokenFrom} was refused by ${conn.url}; \`steward login ${conn.url}\` saves a new one\n`
          : `  hint: no token is saved for ${conn?.url ?? 'this server'}; run \`steward login ${conn?.url ?? 'URL'}\`, pass --token or set STEWARD_TOKEN\n`,
      );
    }
    return 1;
  }
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT' || e?.code === 'EACCES' || e instanceof SyntaxError) {
    process.stderr.write(`error: ${e.message}\n`);
    return 1;
  }
  process.stderr.write(`error: ${(e as Error)?.message ?? String(err)}\n`);
  return 1;
}

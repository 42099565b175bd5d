/** `steward gateway`: the data plane on its own, following a control plane (or a snapshot file). */
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { env, resolveConnection, type GlobalOptions } from '../cli-context.js';
import { UsageError } from '../cli-errors.js';
import { pickGlobals } from './push.js';

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port ${v} is not a port number`);
  return n;
}

export function registerGateway(program: Command, globals: () => GlobalOptions): void {
  program
    .command('gateway')
    .description('Run the OpenAI-compatible gateway alone, routing by the control plane\'s route table')
    .option('--port <port>', 'port to listen on (STEWARD_GATEWAY_PORT)', port)
    .option('--host <host>', 'address to bind (STEWARD_GATEWAY_HOST)')
    .option('--data <dir>', 'where the last route table is kept, to serve through a control-plane outage (default ./.steward-gateway)')
    .option('--snapshot-file <file>', 'serve a fixed route table from this file (re-read when it changes) instead of following a control plane')
    .option('--anonymous', 'serve without gateway keys (only behind your own authentication)')
    .addHelpText(
      'after',
      `
The gateway follows the control plane at --server / STEWARD_URL with a token of role gateway
(STEWARD_GATEWAY_TOKEN, else --token / STEWARD_TOKEN):
  steward token create --name gw-1 --role gateway --expires never
  STEWARD_URL=https://steward.internal STEWARD_GATEWAY_TOKEN=stw_… steward gateway --port 8081
Several gateways share key limits and budgets exactly through Redis: STEWARD_GATEWAY_REDIS_URL=redis://host:6379
(without it, each gateway holds limits on its own).
Applications then call http://HOST:8081/v1 with a gateway key (steward keys create).
It serves /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models, and /healthz,
/readyz (200 once it has a route table; says whether the control plane is reachable), /metrics.`,
    )
    .action(async (o: { port?: number; host?: string; data?: string; snapshotFile?: string; anonymous?: boolean } & GlobalOptions) => {
      const [{ startGatewayServer }, sources, { createLogger }] = await Promise.all([
        import('../../gateway/gateway-server.js'),
        import('../../gateway/gateway-sources.js'),
        import('../../platform/log.js'),
      ]);
      const log = createLogger({ level: env('STEWARD_LOG_LEVEL') ?? 'info' });
      let source;
      let sink = null;
      if (o.snapshotFile) source = sources.fileSnapshotSource(path.resolve(o.snapshotFile));
      else {
        const conn = resolveConnection({ ...globals(), ...pickGlobals(o) });
        const token = env('STEWARD_GATEWAY_TOKEN') ?? conn.token;
        if (!token) throw new UsageError('the gateway needs a token of role gateway: set STEWARD_GATEWAY_TOKEN (steward token create --name gw --role gateway)');
        source = sources.httpSnapshotSource({ url: conn.url, token });
        sink = sources.httpUsageSink({ url: conn.url, token });
      }
      const redisUrl = env('STEWARD_GATEWAY_REDIS_URL');
      const limiter = redisUrl
        ? (await import('../../gateway/gateway-limits-redis.js')).createRedisLimiter({
            url: redisUrl,
            onFallback: (err) => log.warn({ err: err.message }, 'gateway: Redis cannot be reached; key limits hold per gateway until it answers'),
          })
        : undefined;
      const gw = await startGatewayServer({
        ...(limiter ? { limiter } : {}),
        host: o.host ?? env('STEWARD_GATEWAY_HOST') ?? '127.0.0.1',
        port: o.port ?? Number(env('STEWARD_GATEWAY_PORT') ?? 8081),
        source,
        sink,
        stateDir: o.snapshotFile ? null : path.resolve(o.data ?? '.steward-gateway'),
        gatewayId: `${os.hostname()}:${process.pid}`,
        log,
        settings: { allowAnonymous: Boolean(o.anonymous) },
      });
      process.stderr.write(`steward gateway ${gw.url}/v1\n`);
      const stop = () => {
        gw.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

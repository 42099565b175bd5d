/**
 * `steward gateway`: the data plane alone on its own port, on plain node:http. `/v1/...` is the
 * proxy; `/healthz` says the process lives; `/readyz` is 200 once a route table is in use (from
 * the control plane or persisted) and says whether the control plane is reachable and how old
 * the table is; `/metrics` is Prometheus text.
 */
import http from 'node:http';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from '../platform/log.js';
import { createGateway, type Gateway, type GatewaySettings, type SnapshotSource } from './gateway.js';
import type { Limiter } from './gateway-limits.js';
import type { UsageSink } from './gateway-meter.js';

export interface RunningGateway {
  url: string;
  gateway: Gateway;
  close(): Promise<void>;
}

export async function startGatewayServer(opts: {
  host: string;
  port: number;
  source: SnapshotSource;
  sink: UsageSink | null;
  stateDir: string | null;
  gatewayId: string;
  log: Logger;
  settings?: Partial<GatewaySettings>;
  limiter?: Limiter;
}): Promise<RunningGateway> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'steward_gateway_process_' });
  const gateway = createGateway({ ...opts, registry });
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/v1/')) {
      void gateway.handle(req, res);
      return;
    }
    if (url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (url === '/readyz') {
      const s = gateway.status();
      res.writeHead(s.ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: s.ready ? 'ready' : 'not_ready', ...s }));
      return;
    }
    if (url === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `Unknown request URL: ${req.method} ${url}`, type: 'invalid_request_error', param: null, code: 'unknown_url' } }));
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address() as { port: number };
  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${addr.port}`;
  opts.log.info({ url }, 'steward gateway listening');
  return {
    url,
    gateway,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await gateway.close();
    },
  };
}

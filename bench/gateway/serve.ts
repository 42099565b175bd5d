/**
 * Entry point of the benchmark's own servers, each run as its own process (pinned by the caller
 * with taskset):
 *   node --import tsx bench/gateway/serve.ts upstream [--port N] [--chunks N] [--chunk-delay-ms N]
 *   node --import tsx bench/gateway/serve.ts bare --upstream URL [--port N]
 * Prints one line `{"url": "...", "pid": N}` once listening; exits on SIGTERM/SIGINT.
 */
import type http from 'node:http';
import { parseArgs } from 'node:util';
import { createBareProxy } from './bare-proxy.js';
import { createFakeUpstream } from './fake-upstream.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { port: { type: 'string', default: '0' }, chunks: { type: 'string', default: '20' }, 'chunk-delay-ms': { type: 'string', default: '0' }, upstream: { type: 'string' } },
});
const what = positionals[0];
let server: http.Server;
let close: () => Promise<void>;
if (what === 'upstream') {
  server = createFakeUpstream({ chunks: Number(values.chunks), chunkDelayMs: Number(values['chunk-delay-ms']) });
  close = () => new Promise<void>((r) => server.close(() => r()));
} else if (what === 'bare' && values.upstream) {
  ({ server, close } = createBareProxy({ upstream: values.upstream }));
} else {
  process.stderr.write('usage: serve.ts upstream [--port N] [--chunks N] [--chunk-delay-ms N] | bare --upstream URL [--port N]\n');
  process.exit(2);
}
server.listen(Number(values.port), '127.0.0.1', () => {
  const port = (server.address() as { port: number }).port;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: process.pid })}\n`);
});
const stop = () => {
  setTimeout(() => process.exit(0), 2_000).unref();
  server.closeAllConnections();
  void close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

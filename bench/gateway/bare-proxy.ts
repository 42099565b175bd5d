/**
 * The bare proxy of the gateway benchmark: node:http in front of an undici Pool, body buffered
 * (it is small) and the response written back unparsed, chunk by chunk as it arrives (SSE passes
 * through), with backpressure; a client gone mid-answer destroys the upstream body, which aborts
 * that request. No routing, keys or metering: the floor a Node gateway cannot go under.
 * Written with data/end handlers, not `stream.pipeline` and an AbortController per request: on
 * this machine those cost about twice the CPU per request (537 against 278 µs in one run under
 * load), which a floor must not carry.
 */
import http from 'node:http';
import { Pool } from 'undici';

/** Hop-by-hop headers (RFC 9110 §7.6.1), not forwarded either way. */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);
/** Request headers undici sets itself (the body is a Buffer of known length). */
const REQUEST_OWN = new Set([...HOP, 'host', 'content-length']);

function forwardable(raw: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!.toLowerCase();
    if (!REQUEST_OWN.has(k)) out[k] = raw[i + 1]!;
  }
  return out;
}

export function createBareProxy(opts: { upstream: string; connections?: number }): { server: http.Server; close(): Promise<void> } {
  const pool = new Pool(opts.upstream, { connections: opts.connections ?? 128, pipelining: 1, keepAliveTimeout: 60_000 });
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      pool
        .request({ method: req.method as 'POST', path: req.url ?? '/', headers: forwardable(req.rawHeaders), body })
        .then((up) => {
          const headers: Record<string, string | string[]> = {};
          for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = v;
          res.writeHead(up.statusCode, headers);
          const src = up.body;
          res.once('close', () => {
            if (!res.writableFinished) src.destroy();
          });
          src.on('data', (c: Buffer) => {
            if (!res.write(c)) {
              src.pause();
              res.once('drain', () => src.resume());
            }
          });
          src.on('end', () => res.end());
          src.on('error', () => res.destroy());
        })
        .catch((err: unknown) => {
          if (!res.headersSent) {
            res.writeHead(502, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ error: { message: `upstream: ${(err as Error).message}`, type: 'api_error', param: null, code: null } }));
          } else res.destroy();
        });
    });
  });
  return {
    server,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      await pool.close();
    },
  };
}

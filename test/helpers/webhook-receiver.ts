/**
 * A webhook endpoint on loopback for tests: records every request (headers, raw body, parsed
 * JSON, when it arrived) and answers with the status its mode says, so a test can make it
 * fail, hang or come back.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedHook {
  at: number;
  headers: http.IncomingHttpHeaders;
  raw: string;
  json: Record<string, unknown>;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedHook[];
  /** The status answered next (default 204); `hang` never answers. */
  mode: number | 'hang';
  /** Waits until `n` requests arrived (bounded). */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedHook[]>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedHook[] = [];
  const hanging = new Set<http.ServerResponse>();
  const r: WebhookReceiver = {
    url: '',
    received,
    mode: 204,
    async waitFor(n, timeoutMs = 15_000) {
      const end = Date.now() + timeoutMs;
      while (received.length < n) {
        if (Date.now() > end) throw new Error(`webhook receiver: ${received.length} of ${n} requests after ${timeoutMs} ms`);
        await new Promise((res) => setTimeout(res, 20));
      }
      return received.slice(0, n);
    },
    close: () =>
      new Promise((res) => {
        for (const h of hanging) h.destroy();
        server.closeAllConnections();
        server.close(() => res());
      }),
  };
  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        // recorded as received; the test looks at raw
      }
      received.push({ at: Date.now(), headers: req.headers, raw, json });
      if (r.mode === 'hang') {
        hanging.add(res);
        return;
      }
      res.writeHead(r.mode, { 'content-type': 'text/plain' });
      res.end(r.mode >= 400 ? `receiver says ${r.mode}` : '');
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return r;
}

/** A loopback URL where nothing listens (a port just freed). */
export async function deadUrl(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
  const port = (s.address() as AddressInfo).port;
  await new Promise((res) => s.close(res));
  return `http://127.0.0.1:${port}/hook`;
}

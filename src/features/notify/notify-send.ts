/**
 * One webhook POST: a JSON body with its signature headers, a deadline for the whole exchange,
 * and the endpoint policy's `lookup` on the connection (so a name that resolves to a refused
 * address later fails instead of reaching it). The answer's body is read and dropped (at most
 * 64 KiB kept for the error message). Nothing here retries: the delivery job does.
 */
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';

export interface SendResult {
  /** HTTP status, or null when no answer came (the error says why). */
  status: number | null;
  error: string | null;
}

const MAX_ERROR_BODY = 512;

export function postJson(url: string, body: string, headers: Record<string, string>, opts: { timeoutMs: number; lookup: net.LookupFunction }): Promise<SendResult> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    let settled = false;
    const done = (r: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = mod.request(u, {
      method: 'POST',
      lookup: opts.lookup,
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'steward-webhooks', ...headers },
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`));
    }, opts.timeoutMs);
    req.on('error', (err) => done({ status: null, error: err.message || (err as NodeJS.ErrnoException).code || 'connection failed' }));
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (text.length < MAX_ERROR_BODY) text += chunk;
      });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        done({ status, error: status >= 200 && status < 300 ? null : `HTTP ${status}${text.trim() ? `: ${text.trim().slice(0, MAX_ERROR_BODY)}` : ''}` });
      });
      res.on('error', (err) => done({ status: res.statusCode ?? null, error: err.message }));
    });
    req.end(body);
  });
}

/** Whether an attempt's outcome is worth another try: no answer, 408, 429 or 5xx. */
export function retryable(r: SendResult): boolean {
  return r.status === null || r.status === 408 || r.status === 429 || r.status >= 500;
}

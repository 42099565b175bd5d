/**
 * Load generator of the prompts benchmark, run as a child process so that autocannon and the
 * server under test do not share an event loop. Takes one request over IPC, warms up, then
 * POSTs the same render body for the given time and answers percentiles computed from every
 * 2xx response time (autocannon's own histogram has 1 ms resolution).
 */
import autocannon from 'autocannon';
import { percentile } from './bench-fns.js';

export interface RenderLoadRequest {
  url: string;
  token: string;
  body: string;
  connections: number;
  warmupSeconds: number;
  seconds: number;
}

export interface RenderLoadResult {
  rps: number;
  ok: number;
  non2xx: number;
  errors: number;
  p50: number;
  p99: number;
}

function attack(req: RenderLoadRequest, seconds: number, onResponse?: (status: number, ms: number) => void): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: req.url,
        connections: req.connections,
        duration: seconds,
        method: 'POST',
        headers: { authorization: `Bearer ${req.token}`, 'content-type': 'application/json' },
        body: req.body,
      },
      (err, result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result)),
    );
    if (onResponse) instance.on('response', (_client, status, _bytes, ms) => onResponse(status, ms));
  });
}

async function measure(req: RenderLoadRequest): Promise<RenderLoadResult> {
  await attack(req, req.warmupSeconds);
  const latencies: number[] = [];
  const result = await attack(req, req.seconds, (status, ms) => {
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  latencies.sort((a, b) => a - b);
  return { rps: latencies.length / result.duration, ok: latencies.length, non2xx: result.non2xx, errors: result.errors, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

process.on('message', (msg: RenderLoadRequest) => {
  measure(msg).then(
    (res) => process.send?.(res),
    (err: unknown) => process.send?.({ error: err instanceof Error ? err.message : String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));

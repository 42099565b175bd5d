/**
 * Load generator of the registry benchmark, run as a child process of bench/registry.ts so the
 * server under test and autocannon do not share one event loop. It takes a LoadRequest over
 * IPC, warms up, runs autocannon for the requested time with a fresh random path per request,
 * and answers a LoadResult with percentiles computed from every 2xx response time (autocannon's
 * own histogram has 1 ms resolution, too coarse for single-digit-millisecond targets).
 */
import autocannon from 'autocannon';
import { percentile } from './bench-fns.js';
import { failedResult, pathGenerator, type LoadRequest, type LoadResult, type LoadStarted } from './registry-fns.js';

function attack(req: LoadRequest, seconds: number, onResponse?: (status: number, ms: number) => void): Promise<autocannon.Result> {
  const next = pathGenerator(req.scenario, req.catalogue);
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: req.url,
        connections: req.connections,
        duration: seconds,
        headers: { authorization: `Bearer ${req.token}` },
        requests: [{ method: 'GET', setupRequest: (r) => ({ ...r, path: next() }) }],
      },
      (err, result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result)),
    );
    if (onResponse) instance.on('response', (_client, status, _bytes, ms) => onResponse(status, ms));
  });
}

async function measure(req: LoadRequest): Promise<LoadResult> {
  if (req.warmupSeconds > 0) await attack(req, req.warmupSeconds);
  const started: LoadStarted = { id: req.id, started: true };
  process.send?.(started);
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const result = await attack(req, req.seconds, (status, ms) => {
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  latencies.sort((a, b) => a - b);
  const requests = Object.values(statuses).reduce((s, n) => s + n, 0);
  return {
    id: req.id,
    requests,
    ok: latencies.length,
    non2xx: result.non2xx,
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds: result.duration,
    rps: latencies.length / result.duration,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? NaN,
  };
}

process.on('message', (msg: LoadRequest) => {
  measure(msg).then(
    (res) => process.send?.(res),
    (err: unknown) => process.send?.(failedResult(msg.id, err instanceof Error ? err.message : String(err))),
  );
});
process.on('disconnect', () => process.exit(0));

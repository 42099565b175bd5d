/**
 * Load generator of the gateway benchmark, run as a child process of bench/gateway.ts (pinned to
 * its own core), so the server under test and the load share neither an event loop nor a core.
 * Takes a LoadTask over IPC and answers a LoadReply:
 * - cannon: autocannon, closed loop; percentiles from every response time (autocannon's own
 *   histogram rounds to whole milliseconds);
 * - paced: an open loop over an undici Pool, dispatching on a 1 ms timer the requests due by then
 *   (autocannon's `overallRate` sends each connection's quota in a burst at the start of every
 *   second, which measures saturation, not a steady offered rate); latency from dispatch to the
 *   end of the answer, so a backlog in the pool counts;
 * - sequential: one request at a time over keep-alive connections, round-robin over the targets.
 * CPU per request is the target process's /proc time over the measured window only.
 */
import autocannon from 'autocannon';
import { Client, Pool } from 'undici';
import { percentile } from '../bench-fns.js';
import { CHAT_PATH, cpuTimeUs, type CannonTask, type LatencyFigures, type LoadFigures, type LoadReply, type LoadTask, type PacedTask, type SequentialTask } from './gateway-fns.js';

const TIMEOUT_S = 10;

/** CPU time (µs) of this process and the upstream's, to tell whether the load core kept up. */
function loadSideCpuUs(upstreamPid: number): number {
  const own = process.cpuUsage();
  return own.user + own.system + cpuTimeUs(upstreamPid);
}

interface Window {
  latencies: number[];
  requests: number;
  errors: number;
  seconds: number;
  /** 2xx answers completed inside the window (an open loop's backlog finishes after it). */
  okInWindow: number;
  /** Answers of any status completed inside the window: what the window's CPU time served. */
  answeredInWindow: number;
  cpuUs: number;
  loadCpuUs: number;
  dropped: number;
  errorKinds: Record<string, number>;
}

const count = (kinds: Record<string, number>, kind: string) => (kinds[kind] = (kinds[kind] ?? 0) + 1);

function figures(w: Window): LoadFigures {
  const { latencies, requests, seconds } = w;
  latencies.sort((a, b) => a - b);
  return {
    requests,
    ok: latencies.length,
    errors: w.errors,
    seconds,
    rps: w.okInWindow / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? NaN,
    cpuUsPerRequest: w.answeredInWindow ? w.cpuUs / w.answeredInWindow : NaN,
    loadCoreBusy: w.loadCpuUs / (seconds * 1e6),
    dropped: w.dropped,
    errorKinds: w.errorKinds,
  };
}

function cannon(task: CannonTask, seconds: number, onResponse?: (status: number, ms: number) => void): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: task.target.url,
        connections: task.connections,
        duration: seconds,
        timeout: TIMEOUT_S,
        requests: task.bodies.map((body) => ({ method: 'POST' as const, path: CHAT_PATH, headers: { ...task.target.headers, 'content-type': 'application/json' }, body })),
      },
      (err, result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result)),
    );
    if (onResponse) instance.on('response', (_client, status, _bytes, ms) => onResponse(status, ms));
  });
}

async function runCannon(task: CannonTask): Promise<LoadFigures> {
  if (task.warmupSeconds > 0) await cannon(task, task.warmupSeconds);
  const latencies: number[] = [];
  let requests = 0;
  let bad = 0;
  const errorKinds: Record<string, number> = {};
  const cpu0 = cpuTimeUs(task.target.pid);
  const load0 = loadSideCpuUs(task.upstreamPid);
  const result = await cannon(task, task.seconds, (status, ms) => {
    requests++;
    if (status >= 200 && status < 300) latencies.push(ms);
    else {
      bad++;
      count(errorKinds, `status ${status}`);
    }
  });
  if (result.errors) errorKinds['connection errors'] = result.errors;
  if (result.timeouts) errorKinds.timeout = result.timeouts;
  const cpuUs = cpuTimeUs(task.target.pid) - cpu0;
  const loadCpuUs = loadSideCpuUs(task.upstreamPid) - load0;
  return figures({ latencies, requests, errors: bad + result.errors + result.timeouts, seconds: result.duration, okInWindow: latencies.length, answeredInWindow: requests, cpuUs, loadCpuUs, dropped: 0, errorKinds });
}

interface PacedRun {
  latencies: number[];
  requests: number;
  errors: number;
  okInWindow: number;
  answeredInWindow: number;
  dropped: number;
  errorKinds: Record<string, number>;
  /** The target's and the load side's CPU time (µs) over the window. */
  cpuUs: number;
  loadCpuUs: number;
}

/**
 * Dispatches `rate` requests per second for `seconds`, then waits for the answers. Once a
 * second's worth is pending, further requests are not sent (dropped, counted as errors), so a
 * server far slower than the rate costs a bounded wait rather than minutes of backlog; a request
 * on a connection waits TIMEOUT_S for headers, then for each body chunk. (An AbortSignal.timeout
 * per request would bound the queue wait too, at a timer and an EventTarget per request on the
 * load core.)
 */
async function paced(task: PacedTask, pool: Pool, seconds: number): Promise<PacedRun> {
  const run: PacedRun = { latencies: [], requests: 0, errors: 0, okInWindow: 0, answeredInWindow: 0, dropped: 0, errorKinds: {}, cpuUs: 0, loadCpuUs: 0 };
  const headers = { ...task.target.headers, 'content-type': 'application/json' };
  const inflight = new Set<Promise<void>>();
  let inWindow = true;
  const fire = (n: number) => {
    if (inflight.size >= task.rate) {
      run.requests++;
      run.errors++;
      run.dropped++;
      count(run.errorKinds, 'not sent');
      return;
    }
    const body = task.bodies[n % task.bodies.length]!;
    const t = performance.now();
    const p = pool
      .request({ method: 'POST', path: CHAT_PATH, headers, body, headersTimeout: TIMEOUT_S * 1000, bodyTimeout: TIMEOUT_S * 1000 })
      .then(async (res) => {
        await res.body.dump({ limit: 1 << 20 });
        run.requests++;
        if (inWindow) run.answeredInWindow++;
        if (res.statusCode >= 200 && res.statusCode < 300) {
          run.latencies.push(performance.now() - t);
          if (inWindow) run.okInWindow++;
        } else {
          run.errors++;
          count(run.errorKinds, `status ${res.statusCode}`);
        }
      })
      .catch((err: unknown) => {
        run.requests++;
        run.errors++;
        const e = err as { name?: string; code?: string };
        count(run.errorKinds, e.code ?? e.name ?? 'error');
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
  };
  const cpu0 = cpuTimeUs(task.target.pid);
  const load0 = loadSideCpuUs(task.upstreamPid);
  const t0 = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = performance.now() - t0;
      const due = Math.floor((Math.min(elapsed, seconds * 1000) * task.rate) / 1000);
      while (sent < due) fire(sent++);
      if (elapsed >= seconds * 1000) {
        clearInterval(tick);
        resolve();
      }
    }, 1);
  });
  inWindow = false;
  run.cpuUs = cpuTimeUs(task.target.pid) - cpu0;
  run.loadCpuUs = loadSideCpuUs(task.upstreamPid) - load0;
  await Promise.all(inflight);
  return run;
}

async function runPaced(task: PacedTask): Promise<LoadFigures> {
  const pool = new Pool(task.target.url, { connections: task.connections, pipelining: 1, keepAliveTimeout: 60_000 });
  try {
    if (task.warmupSeconds > 0) await paced(task, pool, task.warmupSeconds);
    const r = await paced(task, pool, task.seconds);
    return figures({ ...r, seconds: task.seconds });
  } finally {
    await pool.close();
  }
}

async function runSequential(task: SequentialTask): Promise<Record<string, LatencyFigures>> {
  const clients = task.targets.map((t) => new Client(t.url, { pipelining: 1, keepAliveTimeout: 60_000 }));
  const samples = task.targets.map(() => ({ ms: [] as number[], errors: 0 }));
  try {
    for (let i = 0; i < task.warmup + task.count; i++) {
      for (const [k, target] of task.targets.entries()) {
        const t = performance.now();
        let ms = NaN;
        let status = 0;
        try {
          const res = await clients[k]!.request({
            method: 'POST',
            path: CHAT_PATH,
            headers: { ...target.headers, 'content-type': 'application/json' },
            body: task.body,
            headersTimeout: TIMEOUT_S * 1000,
            bodyTimeout: TIMEOUT_S * 1000,
          });
          status = res.statusCode;
          for await (const _chunk of res.body) if (Number.isNaN(ms) && task.firstByte) ms = performance.now() - t;
          if (!task.firstByte) ms = performance.now() - t;
        } catch {
          status = 0;
        }
        if (i < task.warmup) continue;
        if (status >= 200 && status < 300 && !Number.isNaN(ms)) samples[k]!.ms.push(ms);
        else samples[k]!.errors++;
      }
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
  const out: Record<string, LatencyFigures> = {};
  for (const [k, target] of task.targets.entries()) {
    const s = samples[k]!.ms.sort((a, b) => a - b);
    out[target.name] = { n: s.length, errors: samples[k]!.errors, p50: percentile(s, 50), p99: percentile(s, 99) };
  }
  return out;
}

async function run(task: LoadTask): Promise<LoadReply> {
  switch (task.kind) {
    case 'cannon':
      return { id: task.id, kind: 'load', figures: await runCannon(task) };
    case 'paced':
      return { id: task.id, kind: 'load', figures: await runPaced(task) };
    case 'sequential':
      return { id: task.id, kind: 'sequential', figures: await runSequential(task) };
  }
}

process.on('message', (task: LoadTask) => {
  run(task).then(
    (reply) => process.send?.(reply),
    (err: unknown) => process.send?.({ id: task.id, kind: 'error', message: err instanceof Error ? err.message : String(err) } satisfies LoadReply),
  );
});
process.on('disconnect', () => process.exit(0));

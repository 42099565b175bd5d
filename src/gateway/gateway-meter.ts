/**
 * Metering: every proxied request becomes a usage record, kept in memory and shipped to the
 * control plane in batches (every `flushMs`, or sooner when `batchSize` records wait), never a
 * write per request. A batch that fails to ship is kept and sent again with the same number, so
 * the control plane counts it once; past `maxBuffered` records the oldest are dropped (and
 * counted). Prometheus histograms and counters are updated per request, in memory.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { UsageBatch, UsageRecord } from '../contracts/gateway.js';
import { GATEWAY_METRICS } from '../contracts/gateway-metrics.js';
import type { Logger } from '../platform/log.js';

export type UsageSink = (batch: UsageBatch) => Promise<void>;

export interface Meter {
  record(r: UsageRecord): void;
  /** Ships what is buffered now (tests, shutdown). */
  flush(): Promise<void>;
  close(): Promise<void>;
  metrics: GatewayMetrics;
}

export interface GatewayMetrics {
  snapshotVersion: Gauge;
  snapshotAge: Gauge;
  controlPlaneUp: Gauge;
  retries: Counter;
  ejections: Counter;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export function createMeter(opts: { gatewayId: string; sink: UsageSink | null; registry: Registry; log: Logger; flushMs?: number; batchSize?: number; maxBuffered?: number }): Meter {
  const { registry, log } = opts;
  const flushMs = opts.flushMs ?? 1000;
  const batchSize = opts.batchSize ?? 1000;
  const maxBuffered = opts.maxBuffered ?? 100_000;
  const labels = ['model', 'version', 'deployment', 'environment', 'status'] as const;
  const requests = new Counter({ name: GATEWAY_METRICS.requests, help: 'Requests proxied by the gateway', labelNames: labels, registers: [registry] });
  const duration = new Histogram({ name: GATEWAY_METRICS.duration, help: 'Time from request to the last byte of the response', labelNames: ['model', 'version', 'deployment', 'environment'], buckets: LATENCY_BUCKETS, registers: [registry] });
  const ttft = new Histogram({ name: GATEWAY_METRICS.ttft, help: 'Time to the first content event of a streamed response', labelNames: ['model', 'version', 'deployment', 'environment'], buckets: LATENCY_BUCKETS, registers: [registry] });
  const tokens = new Counter({ name: GATEWAY_METRICS.tokens, help: 'Tokens metered, by direction', labelNames: ['model', 'version', 'deployment', 'environment', 'direction'], registers: [registry] });
  const cost = new Counter({ name: GATEWAY_METRICS.cost, help: 'Cost metered from deployment prices, in USD', labelNames: ['model', 'version', 'deployment', 'environment'], registers: [registry] });
  const dropped = new Counter({ name: 'steward_gateway_usage_dropped_total', help: 'Usage records dropped because the control plane could not take them in time', registers: [registry] });
  const metrics: GatewayMetrics = {
    snapshotVersion: new Gauge({ name: 'steward_gateway_snapshot_version', help: 'Version (event sequence) of the route table in use', registers: [registry] }),
    snapshotAge: new Gauge({ name: 'steward_gateway_snapshot_age_seconds', help: 'Seconds since the route table was last confirmed current by the control plane', registers: [registry] }),
    controlPlaneUp: new Gauge({ name: 'steward_gateway_control_plane_up', help: '1 when the last sync with the control plane succeeded', registers: [registry] }),
    retries: new Counter({ name: 'steward_gateway_retries_total', help: 'Upstream attempts retried on another target', registers: [registry] }),
    ejections: new Counter({ name: 'steward_gateway_ejections_total', help: 'Targets ejected after repeated failures', registers: [registry] }),
  };

  // Labelled children, made once per (model, version, deployment, environment): prom-client
  // hashes a label object on every call otherwise.
  type Children = { requests: (status: number) => Counter.Internal; duration: Histogram.Internal<string>; ttft: Histogram.Internal<string>; input: Counter.Internal; output: Counter.Internal; cost: Counter.Internal };
  const children = new Map<string, Children>();
  function childrenOf(r: UsageRecord): Children {
    const k = `${r.model}\u0000${r.version ?? ''}\u0000${r.deployment ?? ''}\u0000${r.environment ?? ''}`;
    let c = children.get(k);
    if (!c) {
      const l = { model: r.model, version: r.version ?? '', deployment: r.deployment ?? '', environment: r.environment ?? '' };
      const byStatus = new Map<number, Counter.Internal>();
      c = {
        requests: (status) => {
          let x = byStatus.get(status);
          if (!x) byStatus.set(status, (x = requests.labels({ ...l, status: String(status) })));
          return x;
        },
        duration: duration.labels(l),
        ttft: ttft.labels(l),
        input: tokens.labels({ ...l, direction: 'input' }),
        output: tokens.labels({ ...l, direction: 'output' }),
        cost: cost.labels(l),
      };
      if (children.size > 10_000) children.clear();
      children.set(k, c);
    }
    return c;
  }

  let buffer: UsageRecord[] = [];
  /** Batches cut but not yet accepted, oldest first: resent with their number. */
  const unsent: UsageBatch[] = [];
  let batchSeq = Date.now();
  let shipping: Promise<void> | null = null;

  async function ship(): Promise<void> {
    if (!opts.sink) {
      buffer = [];
      return;
    }
    while (buffer.length) unsent.push({ gateway: opts.gatewayId, batch: batchSeq++, records: buffer.splice(0, batchSize) });
    while (unsent.length) {
      try {
        await opts.sink(unsent[0]!);
        unsent.shift();
      } catch (err) {
        log.warn({ err: (err as Error).message, batches: unsent.length }, 'usage could not be shipped to the control plane; kept for the next try');
        let total = unsent.reduce((n, b) => n + b.records.length, 0);
        while (total > maxBuffered && unsent.length) {
          const old = unsent.shift()!;
          total -= old.records.length;
          dropped.inc(old.records.length);
        }
        return;
      }
    }
  }
  const flush = (): Promise<void> => (shipping ??= ship().finally(() => (shipping = null)));
  const timer = setInterval(() => void flush(), flushMs);
  timer.unref();

  return {
    metrics,
    record(r) {
      const c = childrenOf(r);
      c.requests(r.status).inc();
      c.duration.observe(r.latencyMs / 1000);
      if (r.ttftMs !== null) c.ttft.observe(r.ttftMs / 1000);
      if (r.inputTokens) c.input.inc(r.inputTokens);
      if (r.outputTokens) c.output.inc(r.outputTokens);
      if (r.costUsd) c.cost.inc(r.costUsd);
      buffer.push(r);
      if (buffer.length >= batchSize) void flush();
    },
    flush: async () => {
      await shipping;
      await flush();
    },
    async close() {
      clearInterval(timer);
      await shipping;
      await flush();
    },
  };
}

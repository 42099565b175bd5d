/**
 * Where a gateway gets its route table and sends its usage: the control plane over HTTP (a
 * separate `steward gateway`), the control plane in the same process (`steward up`), or a
 * snapshot file (a gateway with a fixed table, and benchmarks).
 */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { GatewaySnapshot, type UsageBatch } from '../contracts/gateway.js';
import type { SnapshotSource } from './gateway.js';
import type { UsageSink } from './gateway-meter.js';

/** Long poll of `GET /api/v1/gateway/snapshot?after=V&wait=S` with a `gateway` token. */
export function httpSnapshotSource(opts: { url: string; token: string; waitSeconds?: number }): SnapshotSource {
  const wait = opts.waitSeconds ?? 25;
  return {
    async next(after, signal) {
      const q = after === null ? '' : `?after=${after}&wait=${wait}`;
      const res = await request(`${opts.url.replace(/\/+$/, '')}/api/v1/gateway/snapshot${q}`, {
        headers: { authorization: `Bearer ${opts.token}` },
        signal,
        headersTimeout: (wait + 10) * 1000,
        bodyTimeout: 60_000,
      });
      if (res.statusCode === 204) {
        await res.body.dump();
        return null;
      }
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`the control plane answered ${res.statusCode} to the snapshot request: ${text.slice(0, 300)}`);
      return GatewaySnapshot.parse(JSON.parse(text));
    },
  };
}

/** `POST /api/v1/gateway/usage` with the same token. */
export function httpUsageSink(opts: { url: string; token: string }): UsageSink {
  return async (batch: UsageBatch) => {
    const res = await request(`${opts.url.replace(/\/+$/, '')}/api/v1/gateway/usage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(batch),
      headersTimeout: 30_000,
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`the control plane answered ${res.statusCode} to a usage batch: ${text.slice(0, 300)}`);
  };
}

/** A snapshot file, re-read when it changes (checked every `pollMs`). */
export function fileSnapshotSource(file: string, pollMs = 500): SnapshotSource {
  let mtime = 0;
  return {
    async next(after, signal) {
      for (;;) {
        const st = fs.statSync(file);
        if (after === null || st.mtimeMs !== mtime) {
          mtime = st.mtimeMs;
          const s = GatewaySnapshot.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
          if (after === null || s.version > after) return s;
        }
        await sleep(pollMs, undefined, { signal }).catch(() => undefined);
        if (signal.aborted) return null;
      }
    },
  };
}

/** The control plane in this process: its snapshot function, long-polled the same way. */
export function localSnapshotSource(snapshot: (after: number | null, waitMs: number, signal: AbortSignal) => Promise<GatewaySnapshot | null>, waitMs = 25_000): SnapshotSource {
  return { next: (after, signal) => snapshot(after, waitMs, signal) };
}
